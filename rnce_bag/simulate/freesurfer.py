"""Writer of FreeSurfer 7 stats files: ``aseg.stats``, ``lh.aparc.stats``, ``rh.aparc.stats``.

The text reproduces FreeSurfer 7.2's layout line for line (header comments,
``# Measure`` lines, ``# TableCol`` blocks, ``# ColHeaders`` and the fixed-width rows),
so parsers written for real FreeSurfer output read these files unchanged. Global
measures are recomputed from the structures the way FreeSurfer sums them, scaled to
agree exactly with the reference subject when given its own values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnce_bag.simulate.measures import (
    Anatomy,
    reference_aparc,
    reference_aseg,
    reference_measures,
)

FS_VERSION = "7.2.0"
VENTRICLES = ("Left-Lateral-Ventricle", "Left-Inf-Lat-Vent", "3rd-Ventricle", "4th-Ventricle",
              "Left-choroid-plexus", "Right-Lateral-Ventricle", "Right-Inf-Lat-Vent",
              "Right-choroid-plexus", "5th-Ventricle")
SUBCORT_GRAY = ("Thalamus", "Caudate", "Putamen", "Pallidum", "Hippocampus", "Amygdala",
                "Accumbens-area", "VentralDC")
INFRATENTORIAL = ("Left-Cerebellum-White-Matter", "Left-Cerebellum-Cortex",
                  "Right-Cerebellum-White-Matter", "Right-Cerebellum-Cortex", "Brain-Stem")

_ASEG_TABLECOLS = """\
# TableCol  1 ColHeader Index 
# TableCol  1 FieldName Index 
# TableCol  1 Units     NA 
# TableCol  2 ColHeader SegId 
# TableCol  2 FieldName Segmentation Id
# TableCol  2 Units     NA
# TableCol  3 ColHeader NVoxels 
# TableCol  3 FieldName Number of Voxels
# TableCol  3 Units     unitless
# TableCol  4 ColHeader Volume_mm3
# TableCol  4 FieldName Volume
# TableCol  4 Units     mm^3
# TableCol  5 ColHeader StructName
# TableCol  5 FieldName Structure Name
# TableCol  5 Units     NA
# TableCol  6 ColHeader normMean 
# TableCol  6 FieldName Intensity normMean
# TableCol  6 Units     MR
# TableCol  7 ColHeader normStdDev
# TableCol  7 FieldName Itensity normStdDev
# TableCol  7 Units     MR
# TableCol  8 ColHeader normMin
# TableCol  8 FieldName Intensity normMin
# TableCol  8 Units     MR
# TableCol  9 ColHeader normMax
# TableCol  9 FieldName Intensity normMax
# TableCol  9 Units     MR
# TableCol 10 ColHeader normRange
# TableCol 10 FieldName Intensity normRange
# TableCol 10 Units     MR
"""

_APARC_TABLECOLS = """\
# NTableCols 10
# TableCol  1 ColHeader StructName
# TableCol  1 FieldName Structure Name
# TableCol  1 Units     NA
# TableCol  2 ColHeader NumVert
# TableCol  2 FieldName Number of Vertices
# TableCol  2 Units     unitless
# TableCol  3 ColHeader SurfArea
# TableCol  3 FieldName Surface Area
# TableCol  3 Units     mm^2
# TableCol  4 ColHeader GrayVol
# TableCol  4 FieldName Gray Matter Volume
# TableCol  4 Units     mm^3
# TableCol  5 ColHeader ThickAvg 
# TableCol  5 FieldName Average Thickness
# TableCol  5 Units     mm
# TableCol  6 ColHeader ThickStd
# TableCol  6 FieldName Thickness StdDev
# TableCol  6 Units     mm 
# TableCol  7 ColHeader MeanCurv
# TableCol  7 FieldName Integrated Rectified Mean Curvature
# TableCol  7 Units     mm^-1
# TableCol  8 ColHeader GausCurv 
# TableCol  8 FieldName Integrated Rectified Gaussian Curvature
# TableCol  8 Units     mm^-2
# TableCol  9 ColHeader  FoldInd
# TableCol  9 FieldName  Folding Index 
# TableCol  9 Units      unitless 
# TableCol 10 ColHeader CurvInd
# TableCol 10 FieldName Intrinsic Curvature Index
# TableCol 10 Units     unitless
# ColHeaders StructName NumVert SurfArea GrayVol ThickAvg ThickStd MeanCurv GausCurv FoldInd CurvInd
"""


def format_aseg_row(index: int, seg_id: int, nvox: int, volume: float, name: str,
                    mean: float, std: float, lo: float, hi: float, rng_: float) -> str:
    """One fixed-width row of ``aseg.stats`` (FreeSurfer 7 widths)."""
    return (f"{index:3d} {seg_id:3d} {nvox:9d} {volume:10.1f}  {name:<30s} {mean:10.4f} "
            f"{std:10.4f} {lo:10.4f} {hi:10.4f} {rng_:10.4f} ")


def format_aparc_row(name: str, numvert: int, area: int, grayvol: int, thick: float,
                     thickstd: float, meancurv: float, gauscurv: float, foldind: int,
                     curvind: float) -> str:
    """One fixed-width row of ``?h.aparc.stats`` (FreeSurfer 7 widths)."""
    return (f"{name:<40s}{numvert:5d} {area:6d} {grayvol:6d} {thick:6.3f} {thickstd:5.3f} "
            f"{meancurv:9.3f} {gauscurv:9.3f} {foldind:8d} {curvind:7.1f}")


def _components(anat: Anatomy) -> dict[str, np.ndarray]:
    """Sums of structures behind each global measure, shape (n,) each."""
    aseg = reference_aseg()
    names = aseg["StructName"].to_numpy()
    vol = anat.aseg_volume
    ventricles = vol[:, np.isin(names, VENTRICLES)].sum(axis=1)
    subcort = vol[:, [any(n.endswith(s) for s in SUBCORT_GRAY) for n in names]].sum(axis=1)
    cereb_ctx = vol[:, np.isin(names, ["Left-Cerebellum-Cortex", "Right-Cerebellum-Cortex"])
                    ].sum(axis=1)
    infra = vol[:, np.isin(names, INFRATENTORIAL)].sum(axis=1)
    gray = anat.aparc["GrayVol"]
    lh_ctx, rh_ctx = gray[:, :34].sum(axis=1), gray[:, 34:].sum(axis=1)
    cortex = lh_ctx + rh_ctx
    wm = anat.wm_volume.sum(axis=1)
    brainseg = cortex + wm + vol.sum(axis=1)
    area, thick = anat.aparc["SurfArea"], anat.aparc["ThickAvg"]
    return {
        "BrainSegVol": brainseg,
        "BrainSegVolNotVent": brainseg - ventricles,
        "BrainSegVolNotVentSurf": brainseg - ventricles,
        "VentricleChoroidVol": ventricles,
        "lhCortexVol": lh_ctx,
        "rhCortexVol": rh_ctx,
        "CortexVol": cortex,
        "lhCerebralWhiteMatterVol": anat.wm_volume[:, 0],
        "rhCerebralWhiteMatterVol": anat.wm_volume[:, 1],
        "CerebralWhiteMatterVol": wm,
        "SubCortGrayVol": subcort,
        "TotalGrayVol": cortex + subcort + cereb_ctx,
        "SupraTentorialVol": brainseg - infra,
        "SupraTentorialVolNotVent": brainseg - infra - ventricles,
        "MaskVol": anat.etiv,
        "eTIV": anat.etiv,
        "lh.NumVert": anat.aparc["NumVert"][:, :34].sum(axis=1),
        "rh.NumVert": anat.aparc["NumVert"][:, 34:].sum(axis=1),
        "lh.WhiteSurfArea": area[:, :34].sum(axis=1),
        "rh.WhiteSurfArea": area[:, 34:].sum(axis=1),
        "lh.MeanThickness": (area[:, :34] * thick[:, :34]).sum(axis=1) / area[:, :34].sum(axis=1),
        "rh.MeanThickness": (area[:, 34:] * thick[:, 34:]).sum(axis=1) / area[:, 34:].sum(axis=1),
    }


def reference_anatomy() -> Anatomy:
    """bert's own anatomy as an :class:`Anatomy` with one subject."""
    aseg, ap = reference_aseg(), reference_aparc()
    ref = reference_measures().set_index("name")["value"].astype(float)
    ref = ref[~ref.index.duplicated()]
    aparc = {c: ap[c].to_numpy(dtype=float)[None, :] for c in
             ("NumVert", "SurfArea", "GrayVol", "ThickAvg", "ThickStd", "MeanCurv", "GausCurv",
              "FoldInd", "CurvInd")}
    return Anatomy(aseg["Volume_mm3"].to_numpy(dtype=float)[None, :], aparc,
                   np.array([[ref["lhCerebralWhiteMatterVol"],
                              ref["rhCerebralWhiteMatterVol"]]]),
                   np.array([ref["eTIV"]]))


def global_measures(anat: Anatomy) -> pd.DataFrame:
    """FreeSurfer's global measures per subject (columns named as in ``# Measure``).

    Each is the reference subject's value times the ratio of the structures it sums,
    so the reference subject's own anatomy gives back its reported values.
    """
    comp, ref_comp = _components(anat), _components(reference_anatomy())
    meas = reference_measures()
    out = {}
    for _, row in meas.iterrows():
        key = row["name"]
        if row["file"] != "aseg.stats" and key in ("NumVert", "WhiteSurfArea", "MeanThickness"):
            key = f"{row['file'][:2]}.{key}"
        if key in out or key not in comp:
            continue
        out[key] = float(row["value"]) * comp[key] / ref_comp[key][0]
    df = pd.DataFrame(out)
    df["BrainSegVol-to-eTIV"] = df["BrainSegVol"] / df["eTIV"]
    df["MaskVol-to-eTIV"] = df["MaskVol"] / df["eTIV"]
    return df


def _measure_line(key: str, name: str, desc: str, value: float, units: str,
                  integer: bool = False, fmt: str = "{:.6f}") -> str:
    text = f"{int(round(value))}" if integer else fmt.format(value)
    return f"# Measure {key}, {name}, {desc}, {text}, {units}"


def render_aseg(subject: str, anat: Anatomy, measures: pd.Series, i: int,
                rng: np.random.Generator, subjects_dir: str = "/data/freesurfer") -> str:
    """Text of ``aseg.stats`` for subject row ``i`` of ``anat``."""
    aseg = reference_aseg()
    meas = reference_measures()
    holes = rng.poisson(15, 2)
    lines = [
        "# Title Segmentation Statistics ",
        "# ",
        "# generating_program mri_segstats",
        f"# cvs_version {FS_VERSION}",
        "# cmdline mri_segstats --seed 1234 --seg mri/aseg.mgz --sum stats/aseg.stats "
        "--pv mri/norm.mgz --empty --brainmask mri/brainmask.mgz --brain-vol-from-seg "
        "--excludeid 0 --excl-ctxgmwm --supratent --subcortgray --in mri/norm.mgz "
        "--in-intensity-name norm --in-intensity-units MR --etiv --surf-wm-vol "
        "--surf-ctx-vol --totalgray --euler --ctab "
        f"/usr/local/freesurfer/{FS_VERSION}/ASegStatsLUT.txt --subject {subject} ",
        "# sysname  Linux",
        "# hostname rnce-bag-simulate",
        "# machine  x86_64",
        "# user     rnce-bag",
        "# anatomy_type volume",
        "# ",
        f"# SUBJECTS_DIR {subjects_dir}",
        f"# subjectname {subject}",
        "# BrainVolStatsFixed-NotNeeded because voxelvolume=1mm3",
    ]
    for _, row in meas[meas["file"] == "aseg.stats"].iterrows():
        key, name = row["key"], row["name"]
        if name == "lhSurfaceHoles":
            value, integer = holes[0], True
        elif name == "rhSurfaceHoles":
            value, integer = holes[1], True
        elif name == "SurfaceHoles":
            value, integer = holes.sum(), True
        else:
            value, integer = measures[name], False
        lines.append(_measure_line(key, name, row["description"], value, row["units"], integer))
    lines += [
        "# SegVolFile mri/aseg.mgz ",
        "# SegVolFileTimeStamp  2021/07/13 19:18:36 ",
        f"# ColorTable /usr/local/freesurfer/{FS_VERSION}/ASegStatsLUT.txt ",
        "# ColorTableTimeStamp 2021/07/13 12:55:45 ",
        "# InVolFile  mri/norm.mgz ",
        "# InVolFileTimeStamp  2021/07/13 16:47:20 ",
        "# InVolFrame 0 ",
        "# PVVolFile  mri/norm.mgz ",
        "# PVVolFileTimeStamp  2021/07/13 16:47:20 ",
        "# Excluding Cortical Gray and White Matter",
        "# ExcludeSegId 0 2 3 41 42 ",
        "# VoxelVolume_mm3 1 ",
    ]
    lines += _ASEG_TABLECOLS.splitlines()
    lines += [f"# NRows {len(aseg)} ", "# NTableCols 10 ",
              "# ColHeaders  Index SegId NVoxels Volume_mm3 StructName normMean normStdDev "
              "normMin normMax normRange  "]
    vol = anat.aseg_volume[i]
    ratio = np.where(aseg["Volume_mm3"] > 0, aseg["NVoxels"] / aseg["Volume_mm3"].where(
        aseg["Volume_mm3"] > 0, 1.0), 0.0)
    jitter = np.exp(rng.normal(0, 0.02, len(aseg)))
    for k, row in aseg.iterrows():
        if row["Volume_mm3"] <= 0:
            lines.append(format_aseg_row(row["Index"], row["SegId"], 0, 0.0, row["StructName"],
                                         0, 0, 0, 0, 0))
            continue
        mean, std = row["normMean"] * jitter[k], row["normStdDev"] * jitter[k]
        lo, hi = round(row["normMin"] * jitter[k]), round(row["normMax"] * jitter[k])
        lines.append(format_aseg_row(row["Index"], row["SegId"], int(round(vol[k] * ratio[k])),
                                     vol[k], row["StructName"], mean, std, lo, hi, hi - lo))
    return "\n".join(lines) + "\n"


def render_aparc(subject: str, hemi: str, anat: Anatomy, measures: pd.Series, i: int,
                 subjects_dir: str = "/data/freesurfer") -> str:
    """Text of ``{hemi}.aparc.stats`` for subject row ``i`` of ``anat``."""
    ap = reference_aparc()
    meas = reference_measures()
    meas = meas[meas["file"] == f"{hemi}.aparc.stats"]
    lines = [
        "# Table of FreeSurfer cortical parcellation anatomical statistics ",
        "# ",
        "# CreationTime 2021/07/13-23:23:42-GMT",
        "# generating_program mris_anatomical_stats",
        f"# cvs_version {FS_VERSION}",
        f"# mrisurf.c-cvs_version {FS_VERSION}",
        f"# cmdline mris_anatomical_stats -th3 -mgz -cortex ../label/{hemi}.cortex.label "
        f"-f ../stats/{hemi}.aparc.stats -b -a ../label/{hemi}.aparc.annot -c "
        f"../label/aparc.annot.ctab {subject} {hemi} white ",
        "# sysname  Linux",
        "# hostname rnce-bag-simulate",
        "# machine  x86_64",
        "# user     rnce-bag",
        "# ",
        f"# SUBJECTS_DIR {subjects_dir}",
        "# anatomy_type surface",
        f"# subjectname {subject}",
        f"# hemi {hemi}",
        f"# AnnotationFile ../label/{hemi}.aparc.annot",
        "# AnnotationFileTimeStamp 2021/07/13 19:03:07",
    ]
    formats = {"NumVert": ("{:.0f}", True), "WhiteSurfArea": ("{:.1f}", False),
               "MeanThickness": ("{:.5f}", False)}
    for _, row in meas.iterrows():
        name = row["name"]
        if name in formats:
            fmt, integer = formats[name]
            value = measures[f"{hemi}.{name}"]
            lines.append(_measure_line(row["key"], name, row["description"], value,
                                       row["units"], integer, fmt))
            if name == "MeanThickness":
                lines.append("# BrainVolStatsFixed-NotNeeded because voxelvolume=1mm3")
        else:
            lines.append(_measure_line(row["key"], name, row["description"], measures[name],
                                       row["units"]))
    lines += _APARC_TABLECOLS.splitlines()
    offset = 0 if hemi == "lh" else 34
    a = anat.aparc
    for k, name in enumerate(ap[ap["hemi"] == hemi]["StructName"]):
        j = offset + k
        lines.append(format_aparc_row(
            name, int(round(a["NumVert"][i, j])), int(round(a["SurfArea"][i, j])),
            int(round(a["GrayVol"][i, j])), a["ThickAvg"][i, j], a["ThickStd"][i, j],
            a["MeanCurv"][i, j], a["GausCurv"][i, j], int(round(a["FoldInd"][i, j])),
            a["CurvInd"][i, j]))
    return "\n".join(lines) + "\n"
