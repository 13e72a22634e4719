"""Demography and clinical labels of the synthetic cohort.

A UK Biobank-like normative majority (cognitively normal, ages 45-85) and an
ADNI-like clinical subset (CN / MCI / AD, ages 55-90) with amyloid status that
depends on diagnosis and age, and MCI-to-AD conversion times (NA when the subject
did not convert during follow-up). Sites (scanners) are unevenly shared between the
two parts, as in real pooled studies. eTIV depends on sex.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnce_bag.simulate.config import CohortConfig

#: Follow-up of the clinical subset (years): conversions later than this are unseen.
FOLLOW_UP_YEARS = 5.0

#: uniform range of the latent disease stage by diagnosis: graded so that FreeSurfer's
#: atrophy separates AD from CN well but not perfectly (AUC ~0.9, as in ADNI)
SEVERITY = {"MCI": (0.0, 0.3), "AD": (0.05, 0.28)}

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


def simulate_cohort(cfg: CohortConfig, pop: np.ndarray, rng: np.random.Generator
                    ) -> pd.DataFrame:
    """Per-subject demography and clinical labels.

    Parameters
    ----------
    cfg
        Cohort parameters.
    pop
        Sub-population label per subject ("A"/"B"), shape (n,).
    rng
        Random generator.

    Returns
    -------
    DataFrame, shape (n, 13)
        ``IID FID age sex site diagnosis amyloid conversion_years eTIV clinical
        severity wm_pathology pop``; ``severity`` in [0, 1] is the latent disease stage
        and ``wm_pathology`` the white-matter pathology in SD units (truth only).
    """
    n = pop.size
    clinical = rng.random(n) < cfg.clinical_fraction
    age = np.where(clinical, _truncnorm(rng, 74, 7, 55, 90, n),
                   _truncnorm(rng, 64, 8, 45, 85, n))
    sex = np.where(rng.random(n) < 0.52, "F", "M")
    etiv = np.array([rng.normal(ETIV_MEAN[s], ETIV_SD[s]) for s in sex])

    # clinical diagnosis: older subjects are more often impaired
    u = rng.random(n)
    p_ad = np.clip(0.15 + 0.012 * (age - 74), 0.05, 0.4)
    p_mci = 0.4
    diagnosis = np.where(~clinical, "CN", np.where(u < p_ad, "AD",
                                                   np.where(u < p_ad + p_mci, "MCI", "CN")))
    severity = np.zeros(n)
    is_mci, is_ad = diagnosis == "MCI", diagnosis == "AD"
    severity[is_mci] = rng.uniform(*SEVERITY["MCI"], is_mci.sum())
    severity[is_ad] = rng.uniform(*SEVERITY["AD"], is_ad.sum())
    # a white-matter process of the clinical subset (SD units) that atrophy does not show:
    # it raises the odds of amyloid and the hazard of conversion
    wm_process = np.where(clinical, rng.normal(0, 1, n), 0.0)

    # amyloid: measured in the clinical subset only; logistic in diagnosis, age, WM process
    logit = -1.6 + 1.4 * is_mci + 3.2 * is_ad + 0.06 * (age - 72) + 0.8 * wm_process
    amyloid = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    amyloid[~clinical] = np.nan
    # white-matter pathology seen in the images: amyloid-related and the WM process
    wm_pathology = np.where(clinical, 0.6 * np.nan_to_num(amyloid) + 0.6 * wm_process, 0.0)

    # MCI -> AD conversion: exponential hazard, higher with amyloid, atrophy and the WM
    # process (which comes before atrophy, so FreeSurfer sees only part of the risk)
    hazard = 0.04 * np.exp(1.0 * np.nan_to_num(amyloid) + 8.0 * severity + 1.0 * wm_process)
    t_convert = rng.exponential(1 / hazard)
    conversion = np.where(is_mci & (t_convert <= FOLLOW_UP_YEARS), np.round(t_convert, 2),
                          np.nan)

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
        "eTIV": etiv,
        "clinical": clinical,
        "severity": severity,
        "wm_pathology": wm_pathology,
        "pop": pop,
    })
