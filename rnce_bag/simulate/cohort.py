"""Demography and clinical labels of the synthetic cohort.

A UK Biobank-like normative majority (cognitively normal, ages 45-85) and an
ADNI-like clinical subset (CN / MCI / AD, ages 55-90, age-matched across diagnoses as
ADNI recruited them) whose disease model is calibrated to published ADNI figures
(:class:`rnce_bag.simulate.config.DiseaseConfig` holds every parameter and its source):
a latent disease stage ordered CN < MCI < AD with overlap, which drives atrophy
(:mod:`rnce_bag.simulate.measures`); APOE e4 carriage and amyloid status depending on
age, diagnosis and e4; amyloid raising the stage and an image-only white-matter process
but never drawn into the image itself; MCI-to-AD conversion times from a proportional
hazard driven mainly by the stage, with the white-matter process and amyloid as
secondary terms; follow-up with drop-out, so that some non-converters are censored.
Sites (scanners) are unevenly shared between the two parts, as in real pooled studies.
eTIV depends on sex.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnce_bag.simulate.config import CohortConfig, DiseaseConfig

DIAGNOSES = ("CN", "MCI", "AD")

ETIV_MEAN = {"F": 1.42e6, "M": 1.60e6}  # mm^3
ETIV_SD = {"F": 0.12e6, "M": 0.13e6}


def _truncnorm(rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float,
               n: int) -> np.ndarray:
    out = rng.normal(mean, sd, n)
    bad = (out < lo) | (out > hi)
    while bad.any():
        out[bad] = rng.normal(mean, sd, bad.sum())
        bad = (out < lo) | (out > hi)
    return out


def beta_stage(rng: np.random.Generator, mean: float, sd: float, n: int) -> np.ndarray:
    """``n`` draws of a Beta distribution with the given mean and SD, shape (n,)."""
    common = mean * (1 - mean) / sd**2 - 1
    return rng.beta(mean * common, (1 - mean) * common, n)


def baseline_hazard(relative: np.ndarray, share: float, horizon: float) -> float:
    """The baseline hazard ``h0`` at which ``mean(1 - exp(-h0 * relative * horizon))``
    equals ``share`` (bisection on log h0).

    Parameters
    ----------
    relative : ndarray, shape (n,)
        Relative hazards (``exp`` of the linear predictor) of the subjects at risk.
    """
    lo, hi = -20.0, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if np.mean(1 - np.exp(-np.exp(mid) * relative * horizon)) < share:
            lo = mid
        else:
            hi = mid
    return float(np.exp((lo + hi) / 2))


def simulate_cohort(cfg: CohortConfig, disease: DiseaseConfig, pop: np.ndarray,
                    rng: np.random.Generator) -> pd.DataFrame:
    """Per-subject demography and clinical labels.

    Parameters
    ----------
    cfg
        Cohort parameters.
    disease
        The clinical subset's disease model.
    pop
        Sub-population label per subject ("A"/"B"), shape (n,).
    rng
        Random generator.

    Returns
    -------
    DataFrame, shape (n, 18)
        ``IID FID age sex site diagnosis amyloid conversion_years followup_years eTIV
        clinical severity stage apoe4 wm_process wm_pathology conversion_hazard pop``;
        ``stage`` in [0, 1] is the latent disease stage, ``severity`` the atrophy it
        shows (stage x the subject's expression factor; what the anatomy and brain age
        use), ``wm_process`` the image-only
        white-matter process and ``wm_pathology`` what of it the images show (SD units),
        ``apoe4`` e4 carriage and ``conversion_hazard`` the MCI hazard per year (truth
        only). ``followup_years`` is the follow-up of the clinical subset (NA elsewhere).
    """
    n = pop.size
    clinical = rng.random(n) < cfg.clinical_fraction
    age = np.where(clinical, _truncnorm(rng, 74, 7, 55, 90, n),
                   _truncnorm(rng, 64, 8, 45, 85, n))
    sex = np.where(rng.random(n) < 0.52, "F", "M")
    etiv = np.array([rng.normal(ETIV_MEAN[s], ETIV_SD[s]) for s in sex])

    # clinical diagnosis: ADNI's shares, recruited age-matched (independent of age)
    u = rng.random(n)
    diagnosis = np.where(~clinical, "CN", np.where(
        u < disease.share_ad, "AD", np.where(u < disease.share_ad + disease.share_mci, "MCI",
                                             "CN")))
    is_mci, is_ad = diagnosis == "MCI", diagnosis == "AD"
    # APOE e4 carriage (the genetics-like risk of amyloid), by diagnosis as in ADNI
    p_e4 = np.array([disease.apoe4_carriers[d] for d in diagnosis])
    apoe4 = np.where(clinical, (rng.random(n) < p_e4).astype(float), np.nan)
    # amyloid: measured in the clinical subset only; logistic in diagnosis, age and e4
    a = disease.amyloid_logit
    logit = (a["intercept"] + a["MCI"] * is_mci + a["AD"] * is_ad + a["per_year"] * (age - 74)
             + a["apoe4"] * np.nan_to_num(apoe4))
    amyloid = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    amyloid[~clinical] = np.nan
    amy = np.nan_to_num(amyloid)

    # latent disease stage: Beta by diagnosis (0 in the normative part), raised by amyloid
    # in CN and MCI (in AD the diagnosis already fixes the stage's range)
    severity = np.zeros(n)
    for dx in DIAGNOSES:
        sel = clinical & (diagnosis == dx)
        severity[sel] = beta_stage(rng, disease.stage_mean[dx], disease.stage_sd[dx],
                                   int(sel.sum()))
    stage = np.clip(severity + disease.amyloid_stage_shift * amy * ~is_ad, 0.0, 1.0)
    # the atrophy a subject shows at a given stage varies (brain reserve, co-pathology,
    # hippocampal-sparing to limbic-predominant patterns): a log-normal factor of mean 1
    # shared by every region, so that atrophy overlaps between diagnoses as in ADNI
    tau = disease.atrophy_expression_sd
    expression = np.where(clinical, np.exp(tau * rng.normal(0, 1, n) - tau**2 / 2), 1.0)
    severity = stage * expression
    # a white-matter process of the clinical subset (SD units) that atrophy does not show;
    # amyloid raises it. The images show it (wm_pathology); amyloid itself is never drawn.
    wm_process = np.where(clinical, rng.normal(0, 1, n) + disease.amyloid_wm_shift * amy, 0.0)
    wm_pathology = wm_process

    # MCI -> AD conversion: exponential hazard, mainly neurodegeneration (the atrophy,
    # proximal to decline in the amyloid cascade: Jack et al. 2013), then the white-matter
    # process and amyloid; the baseline is solved for the 2-year conversion share
    hr = disease.conversion_log_hr
    at_risk = severity[is_mci]
    z_atrophy = (severity - at_risk.mean()) / at_risk.std() if is_mci.sum() > 1 \
        else np.zeros(n)
    relative = np.exp(hr["atrophy_sd"] * z_atrophy
                      + hr["wm_process"] * wm_process + hr["amyloid"] * amy)
    h0 = baseline_hazard(relative[is_mci], disease.conversion_2y, 2.0) if is_mci.any() else 0.0
    hazard = np.where(is_mci, h0 * relative, 0.0)
    t_convert = rng.exponential(1 / np.maximum(hazard, 1e-12))
    # follow-up: the planned span, cut short by drop-out (independent censoring)
    dropout = rng.exponential(1 / -np.log1p(-disease.dropout_per_year), n) \
        if disease.dropout_per_year > 0 else np.full(n, np.inf)
    followup = np.where(clinical, np.round(np.minimum(disease.follow_up_years, dropout), 2),
                        np.nan)
    conversion = np.where(is_mci & (t_convert <= followup), np.round(t_convert, 2), np.nan)

    # sites: the normative part mostly on sites 1..k-1, the clinical part on the last
    k = cfg.n_sites
    if k == 1:
        site_idx = np.zeros(n, dtype=int)
    else:
        p_norm = np.r_[np.full(k - 1, 0.9 / (k - 1)), 0.1]
        p_clin = np.r_[np.full(k - 1, 0.4 / (k - 1)), 0.6]
        site_idx = np.where(clinical, rng.choice(k, n, p=p_clin), rng.choice(k, n, p=p_norm))
    width = len(str(n))
    iid = [f"sub-{i + 1:0{max(4, width)}d}" for i in range(n)]
    return pd.DataFrame({
        "IID": iid,
        "FID": iid,
        "age": np.round(age, 2),
        "sex": sex,
        "site": [f"site{s + 1}" for s in site_idx],
        "diagnosis": diagnosis,
        "amyloid": pd.array(np.where(np.isnan(amyloid), pd.NA, amyloid), dtype="Int64"),
        "conversion_years": conversion,
        "followup_years": followup,
        "eTIV": etiv,
        "clinical": clinical.astype(int),
        "severity": severity,
        "stage": stage,
        "apoe4": apoe4,
        "wm_process": wm_process,
        "wm_pathology": wm_pathology,
        "conversion_hazard": hazard,
        "pop": pop,
    })


def disease_summary(cohort: pd.DataFrame) -> dict:
    """What the disease model realised in the clinical subset (for truth.json): counts,
    mean stage and age, amyloid positivity and APOE e4 share by diagnosis, and the MCI
    conversion shares at 2 and 3 years among those followed that long or converted."""
    clin = cohort[cohort["clinical"].astype(bool)]
    out: dict = {"n_clinical": int(len(clin))}
    for dx in DIAGNOSES:
        g = clin[clin["diagnosis"] == dx]
        out[dx] = {"n": int(len(g)), "mean_age": float(g["age"].mean()) if len(g) else None,
                   "mean_stage": float(g["stage"].mean()) if len(g) else None,
                   "mean_atrophy": float(g["severity"].mean()) if len(g) else None,
                   "amyloid_positive": float(g["amyloid"].astype(float).mean())
                   if len(g) else None,
                   "apoe4_carriers": float(g["apoe4"].mean()) if len(g) else None}
    mci = clin[clin["diagnosis"] == "MCI"]
    conv = mci["conversion_years"].to_numpy(dtype=float)
    seen = mci["followup_years"].to_numpy(dtype=float)
    for h in (2, 3):
        converted = conv <= h
        known = converted | (seen >= h)
        out[f"conversion_{h}y"] = {"share": float(converted[known].mean()) if known.any()
                                   else None, "n_known": int(known.sum()),
                                   "n_censored": int((~known).sum())}
    return out
