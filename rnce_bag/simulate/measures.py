"""From latent factors to anatomy: the FreeSurfer measures of each subject.

Every measure is the reference subject's value (FreeSurfer's "bert", taken as a
50-year-old) scaled on the log scale by head size (eTIV allometry), brain age
(per-decade rates from the ageing literature: ventricles grow ~25%/decade,
hippocampus shrinks ~4.5%/decade, cortex thins ~2%/decade), disease stage (medial
temporal atrophy, ventricular enlargement) and individual variation. The *true*
anatomy drives the images; FreeSurfer's *measured* values add measurement noise.

Shape convention: ``(n_subjects, n_structures)`` for aseg, ``(n_subjects, 68)`` for
aparc (34 lh regions then 34 rh), one array per aparc column.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

REFERENCE_AGE = 50.0
REFERENCE_ETIV = 1_520_021.264474

# log-change per decade of brain age, by aseg structure (name without hemisphere)
ASEG_AGE_RATE = {
    "Lateral-Ventricle": 0.25, "Inf-Lat-Vent": 0.25, "3rd-Ventricle": 0.22,
    "4th-Ventricle": 0.05, "CSF": 0.10, "choroid-plexus": 0.05,
    "Hippocampus": -0.045, "Amygdala": -0.035, "Thalamus": -0.035, "Caudate": -0.02,
    "Putamen": -0.03, "Pallidum": -0.02, "Accumbens-area": -0.04, "VentralDC": -0.02,
    "Cerebellum-Cortex": -0.025, "Cerebellum-White-Matter": -0.02, "Brain-Stem": -0.005,
    "WM-hypointensities": 0.30, "CC_Posterior": -0.02, "CC_Mid_Posterior": -0.02,
    "CC_Central": -0.02, "CC_Mid_Anterior": -0.02, "CC_Anterior": -0.02,
}
# log-change per unit of disease stage (0 = none, 1 = severe AD), on top of the ageing the
# stage adds through brain age (DISEASE_YEARS of ageing per unit stage in simulate/run.py:
# hippocampus -0.036, temporal thickness -0.024 more per unit). With the stage means of
# DiseaseConfig (clinical CN 0.06, MCI 0.44, AD 0.72 with amyloid) and its atrophy
# spread the hippocampus is -12% in MCI and -18% in AD against the clinical CN
# (measured; Shi et al. 2009, Hippocampus 19:1055, meta-analysis: MCI -11 to -13%,
# AD -20 to -24%); the amygdala follows it
# (Poulin et al. 2011, Psychiatry Res 194:7: AD about -20%); the temporal horn and the
# lateral ventricles grow (AD lateral ventricles +30-50%: Nestor et al. 2008, Brain
# 131:2443).
ASEG_DISEASE = {"Hippocampus": -0.32, "Amygdala": -0.30, "Inf-Lat-Vent": 0.90,
                "Lateral-Ventricle": 0.30, "3rd-Ventricle": 0.15}
# thickness: the AD cortical signature (Dickerson et al. 2009, Cereb Cortex 19:497):
# entorhinal about -9% in MCI and -15% in AD, the other signature regions 4-8%
APARC_THICK_DISEASE = {"entorhinal": -0.22, "parahippocampal": -0.14, "inferiortemporal": -0.09,
                       "middletemporal": -0.09, "fusiform": -0.09, "temporalpole": -0.12,
                       "precuneus": -0.07, "posteriorcingulate": -0.07,
                       "isthmuscingulate": -0.07, "inferiorparietal": -0.06}
#: thickness change per unit stage of the regions outside the signature
THICK_DISEASE_OTHER = -0.02
FRONTO_TEMPORAL = ("frontal", "temporal", "orbito", "opercularis", "triangularis", "insula")
WM_NAMES = ("lhCerebralWhiteMatter", "rhCerebralWhiteMatter")


def _data(name: str) -> pd.DataFrame:
    with resources.files("rnce_bag.simulate").joinpath("data", name).open("r") as fh:
        return pd.read_csv(fh, sep="\t")


def reference_aseg() -> pd.DataFrame:
    """bert's aseg table: ``Index SegId NVoxels Volume_mm3 StructName normMean ...``."""
    return _data("aseg_reference.tsv")


def reference_aparc() -> pd.DataFrame:
    """bert's aparc tables, lh then rh: ``hemi StructName NumVert SurfArea ...``."""
    return _data("aparc_reference.tsv")


def reference_measures() -> pd.DataFrame:
    """bert's ``# Measure`` lines: ``file key name description value units``."""
    return _data("measures_reference.tsv")


def _structure_key(name: str) -> str:
    for prefix in ("Left-", "Right-"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


@dataclass
class Anatomy:
    """Per-subject anatomy.

    Attributes
    ----------
    aseg_volume : ndarray, shape (n, n_aseg)
        Structure volumes (mm^3), rows of :func:`reference_aseg`.
    aparc : dict of ndarray, each shape (n, 68)
        ``SurfArea``, ``GrayVol``, ``ThickAvg``, ``ThickStd``, ``NumVert``,
        ``MeanCurv``, ``GausCurv``, ``FoldInd``, ``CurvInd``.
    wm_volume : ndarray, shape (n, 2)
        Left and right cerebral white matter (mm^3).
    etiv : ndarray, shape (n,)
    """

    aseg_volume: np.ndarray
    aparc: dict[str, np.ndarray]
    wm_volume: np.ndarray
    etiv: np.ndarray


def true_anatomy(brain_age: np.ndarray, severity: np.ndarray, etiv: np.ndarray,
                 rng: np.random.Generator, individual_sd: float = 0.05) -> Anatomy:
    """The anatomy implied by brain age, disease stage and head size.

    Parameters
    ----------
    brain_age
        Biological brain age (years), shape (n,).
    severity
        Disease stage in [0, 1], shape (n,).
    etiv
        Estimated total intracranial volume (mm^3), shape (n,).
    rng
        Random generator (individual variation).
    individual_sd
        SD of individual, age-independent variation on the log scale (volumes);
        thickness uses 60% of it.
    """
    n = brain_age.size
    decades = (brain_age - REFERENCE_AGE)[:, None] / 10.0
    head = np.log(etiv / REFERENCE_ETIV)[:, None]
    sev = severity[:, None]
    aseg = reference_aseg()
    keys = [_structure_key(s) for s in aseg["StructName"]]
    rate = np.array([ASEG_AGE_RATE.get(k, 0.0) for k in keys])[None, :]
    dis = np.array([ASEG_DISEASE.get(k, 0.0) for k in keys])[None, :]
    allometry = np.where(np.isin(keys, ["CSF", "Lateral-Ventricle", "Inf-Lat-Vent"]),
                         1.0, 0.8)[None, :]
    log_vol = (np.log(np.maximum(aseg["Volume_mm3"].to_numpy(), 1e-9))[None, :] + allometry * head
               + rate * decades + dis * sev + rng.normal(0, individual_sd, (n, len(keys))))
    volume = np.where(aseg["Volume_mm3"].to_numpy()[None, :] > 0, np.exp(log_vol), 0.0)

    ap = reference_aparc()
    names = ap["StructName"].to_numpy()
    thick_rate = np.array([-0.03 if any(t in s for t in FRONTO_TEMPORAL) else -0.02
                           for s in names])[None, :]
    thick_dis = np.array([APARC_THICK_DISEASE.get(s, THICK_DISEASE_OTHER)
                          for s in names])[None, :]
    log_thick = (np.log(ap["ThickAvg"].to_numpy())[None, :] + thick_rate * decades
                 + thick_dis * sev + rng.normal(0, 0.6 * individual_sd, (n, len(names))))
    log_area = (np.log(ap["SurfArea"].to_numpy())[None, :] + 0.67 * head - 0.008 * decades
                + rng.normal(0, individual_sd, (n, len(names))))
    thick, area = np.exp(log_thick), np.exp(log_area)
    ref_t, ref_a = ap["ThickAvg"].to_numpy()[None, :], ap["SurfArea"].to_numpy()[None, :]
    ratio = (thick / ref_t) * (area / ref_a)
    aparc = {
        "ThickAvg": thick,
        "SurfArea": area,
        "GrayVol": ap["GrayVol"].to_numpy()[None, :] * ratio,
        "NumVert": ap["NumVert"].to_numpy()[None, :] * (area / ref_a),
        "ThickStd": ap["ThickStd"].to_numpy()[None, :] * np.exp(rng.normal(0, 0.05, area.shape)),
        "MeanCurv": ap["MeanCurv"].to_numpy()[None, :] * np.exp(rng.normal(0, 0.04, area.shape)),
        "GausCurv": ap["GausCurv"].to_numpy()[None, :] * np.exp(rng.normal(0, 0.06, area.shape)),
    }
    aparc["FoldInd"] = ap["FoldInd"].to_numpy()[None, :] * (area / ref_a)
    aparc["CurvInd"] = ap["CurvInd"].to_numpy()[None, :] * (area / ref_a)
    ref = reference_measures().set_index("name")["value"]
    wm_ref = np.array([float(ref[w]) for w in ("lhCerebralWhiteMatterVol",
                                                "rhCerebralWhiteMatterVol")])
    wm = np.exp(np.log(wm_ref)[None, :] + 0.8 * head - 0.02 * decades
                + rng.normal(0, individual_sd, (n, 2)))
    return Anatomy(volume, aparc, wm, etiv.astype(float))


def true_regions(anat: Anatomy) -> dict[str, np.ndarray]:
    """The true (rendered) values of the regions the AD literature reports, shape (n,)
    each: ``hippocampus_mm3`` (left + right), ``entorhinal_thickness_mm`` (mean of the
    hemispheres), ``lateral_ventricles_mm3``, for truth/ and the calibration tables."""
    aseg = reference_aseg()["StructName"].to_numpy()
    names = reference_aparc()["StructName"].to_numpy()

    def aseg_sum(*structs: str) -> np.ndarray:
        return anat.aseg_volume[:, np.isin(aseg, structs)].sum(axis=1)

    return {
        "hippocampus_mm3": aseg_sum("Left-Hippocampus", "Right-Hippocampus"),
        "entorhinal_thickness_mm": anat.aparc["ThickAvg"][:, names == "entorhinal"].mean(axis=1),
        "lateral_ventricles_mm3": aseg_sum("Left-Lateral-Ventricle", "Right-Lateral-Ventricle"),
    }


def measured(anat: Anatomy, rng: np.random.Generator, volume_sd: float = 0.03,
             thickness_sd: float = 0.02, etiv_sd: float = 0.02) -> Anatomy:
    """What FreeSurfer reports: the true anatomy with multiplicative measurement error."""
    n = anat.etiv.size
    ap = dict(anat.aparc)
    t_err = np.exp(rng.normal(0, thickness_sd, ap["ThickAvg"].shape))
    a_err = np.exp(rng.normal(0, volume_sd / 2, ap["SurfArea"].shape))
    ap["ThickAvg"] = ap["ThickAvg"] * t_err
    ap["SurfArea"] = ap["SurfArea"] * a_err
    ap["GrayVol"] = ap["GrayVol"] * t_err * a_err
    ap["NumVert"] = ap["NumVert"] * a_err
    return Anatomy(
        aseg_volume=anat.aseg_volume * np.exp(rng.normal(0, volume_sd, anat.aseg_volume.shape)),
        aparc=ap,
        wm_volume=anat.wm_volume * np.exp(rng.normal(0, volume_sd / 2, (n, 2))),
        etiv=anat.etiv * np.exp(rng.normal(0, etiv_sd, n)),
    )
