"""Registration to MNI152 (``rnce-bag register``) against the simulator's planted truth.

Usage: python benchmarks/registration.py OUT [--n-subjects 20] [--resolution 2]
    [--transforms affine-quick,syn-quick] [--jobs 2] [--timing-subjects 100]

1. Simulates a cohort whose T1s are written in a native scanner space
   (``images.native.write``), at the demo's 2 mm.
2. Registers it with each recipe (``--transform affine-quick``, ``syn-quick``) at that
   spacing, two jobs, timed as a whole (wall and CPU seconds; seconds per subject per
   core).
3. Scores every registered image against the subject's MNI-space rendering (TRUTH,
   read here and only here, labelled): Pearson correlation inside the template's brain
   mask, and the Dice of the two brain masks (voxels above 10% of the 99th percentile).
   The registration's own QC (correlation with the template, brain-mask Dice) is shown
   beside it: it is what a real study sees. ``ceiling_dice``: the rendering against itself
   with the head size taken out (what a perfect affine registration would reach);
   ``normalised_r``/``normalised_dice``: the registered image against that.
4. ``--timing-subjects``: ``register`` of that many subjects with 2 jobs, affine-quick
   (the issue's 100-subject figure). ``--score-only`` rescores finished runs.

The native transforms are a registration test range (rotation SD 6 degrees, brain centre
offset SD 6 mm, scaling SD 3%, shear SD 2%, warp SD 1.5 mm). Affine registration to the
template also removes each subject's head size (the MNI renderings keep it, as the
simulator's eTIV), so the truth comparison cannot reach 1 even for a perfect registration.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import run_measured  # noqa: E402


def simulate(out: Path, n: int, resolution: int) -> Path:
    exe = str(Path(sys.executable).parent / "rnce-bag")
    sim = out / f"sim_{n}"
    if not (sim / "cohort.tsv").exists():
        subprocess.run([exe, "simulate", "--out", str(sim), "--preset", "tiny", "--n-subjects",
                        str(n), "--set", f"images.resolution_mm={resolution}", "--set",
                        "images.native.write=true"], check=True)
    return sim


def truth_scores(sim: Path, reg: Path, spacing: float) -> pd.DataFrame:
    """TRUTH: each registered image against the subject's MNI-space rendering."""
    import nibabel as nib

    from rnce_bag.imaging.nifti import resample_to_grid
    from rnce_bag.imaging.registration import dice, masked_correlation, template
    from rnce_bag.simulate.anatomy import BRAIN_CENTRE
    from rnce_bag.simulate.freesurfer import reference_anatomy

    _, mask, grid = template(spacing)
    qc = pd.read_csv(reg / "registration_qc.tsv", sep="\t")
    latent = pd.read_csv(sim / "truth" / "latent.tsv", sep="\t").set_index("IID")
    head = (latent["eTIV_true"] / reference_anatomy().etiv[0]) ** (1 / 3)
    rows = []

    def brain(v):
        return v > 0.1 * np.percentile(v[v > 0], 99)

    for r in qc[qc["status"].str.startswith("ok")].itertuples():
        img = np.asarray(nib.load(reg / "images" / f"{r.IID}.nii.gz").dataobj, np.float32)
        t = nib.load(sim / "truth" / "images_mni" / f"{r.IID}.nii.gz")
        data = np.asarray(t.dataobj, np.float32)
        truth = resample_to_grid(data, t.affine, grid)
        # the ceiling: the rendering with its head size taken out (scaled about the brain
        # centre to the reference head), which is what a perfect affine registration to the
        # template would give; the rendering keeps the subject's head size
        scaled = np.diag([head[r.IID]] * 3 + [1.0])
        scaled[:3, 3] = BRAIN_CENTRE * (1 - head[r.IID])
        normalised = resample_to_grid(data, np.linalg.inv(scaled) @ t.affine, grid)
        rows.append({"IID": r.IID, "truth_r": masked_correlation(img, truth, mask),
                     "truth_dice": dice(brain(img), brain(truth)),
                     "head_scale": float(head[r.IID]),
                     "ceiling_dice": dice(brain(normalised), brain(truth)),
                     "normalised_r": masked_correlation(img, normalised, mask),
                     "normalised_dice": dice(brain(img), brain(normalised)),
                     "qc_similarity": r.similarity, "qc_mask_dice": r.mask_dice,
                     "seconds": r.seconds})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--n-subjects", type=int, default=20)
    ap.add_argument("--resolution", type=int, default=2)
    ap.add_argument("--transforms", default="affine-quick,syn-quick")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timing-subjects", type=int, default=0)
    ap.add_argument("--score-only", action="store_true", help="rescore finished runs")
    args = ap.parse_args()
    if args.score_only:
        sim = args.out / f"sim_{args.n_subjects}"
        for transform in args.transforms.split(","):
            scores = truth_scores(sim, args.out / f"reg_{transform}", float(args.resolution))
            scores.to_csv(args.out / f"scores_{transform}.tsv", sep="\t", index=False)
            print(f"== {transform}\n" + scores.drop(columns="IID").describe()
                  .loc[["mean", "min", "max"]].round(3).to_string())
        return
    exe = str(Path(sys.executable).parent / "rnce-bag")
    args.out.mkdir(parents=True, exist_ok=True)
    sim = simulate(args.out, args.n_subjects, args.resolution)
    results = {}
    for transform in args.transforms.split(","):
        reg = args.out / f"reg_{transform}"
        cost = run_measured([exe, "register", "--manifest", str(sim / "cohort.tsv"), "--out",
                             str(reg), "--transform", transform, "--spacing",
                             str(args.resolution), "--jobs", str(args.jobs), "--cache-dir",
                             str(args.out / f"cache_{transform}")])
        scores = truth_scores(sim, reg, float(args.resolution))
        scores.to_csv(args.out / f"scores_{transform}.tsv", sep="\t", index=False)
        summary = scores.drop(columns="IID").describe().loc[["mean", "min", "max"]].round(3)
        results[transform] = {**cost, "subjects": len(scores),
                              "s_per_subject_per_core": round(cost["cpu_s"] / args.n_subjects, 1),
                              "summary": summary.to_dict()}
        print(f"\n== {transform} ({args.resolution} mm, {args.n_subjects} subjects, "
              f"{args.jobs} jobs): {cost}")
        print(summary.to_string())
    if args.timing_subjects:
        sim100 = simulate(args.out, args.timing_subjects, args.resolution)
        cost = run_measured([exe, "register", "--manifest", str(sim100 / "cohort.tsv"),
                             "--out", str(args.out / "reg_timing"), "--transform", "affine-quick",
                             "--spacing", str(args.resolution), "--jobs", "2", "--cache-dir",
                             str(args.out / "cache_timing")])
        results["timing_affine_quick"] = {**cost, "subjects": args.timing_subjects}
        print(f"\n== register {args.timing_subjects} subjects, affine-quick, 2 jobs: {cost}")
    (args.out / "registration.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
