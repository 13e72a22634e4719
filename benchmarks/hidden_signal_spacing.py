"""How much of the hidden white-matter signal survives each voxel spacing, and what each
spacing costs to train on.

The hidden signal is rendered in the images only (white-matter intensity and texture).
Coarser patches are cheaper per epoch but average the texture away. For each spacing
this script preprocesses the cohort's T1s as training does (MNI grid, percentile
normalisation, 18 patches) and reports:

- ``R2_hidden_image``: 5-fold ridge R2 of the true hidden signal from simple per-patch
  intensity statistics (mean, SD, 10/50/90th percentiles, 18 x 5 = 90 numbers): an upper
  bound proxy of what a linear read-out of the preprocessed volume keeps;
- ``R2_hidden_fs_image``: the same with the FreeSurfer features added, and ``gain``: its
  excess over FreeSurfer alone (what the image adds beyond FreeSurfer);
- ``ms_per_subject``: forward + backward time of the configured patch encoders and
  aggregator per subject at that spacing (CPU, the configured threads), so epochs per
  minute can be compared.

Reads ``truth/`` (a benchmark: it chooses a setting from the physics of the images
before any training, never from BAG heritability).

Usage: python benchmarks/hidden_signal_spacing.py --cohort SIM [--features FEATURES.parquet]
       [--spacing 4 6 8] [--config configs/ssl/demo.yaml] [--n 400]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from representation_quality import cv_r2  # same folder: run as a script


def patch_stats(paths: list[Path], spacing: float) -> np.ndarray:
    """(n, 90): mean, SD and 10/50/90th percentiles of each of the 18 patches."""
    from rnce_bag.imaging.nifti import PreprocessParams, preprocess
    from rnce_bag.imaging.patches import extract_patches, load_layout

    params = PreprocessParams(spacing=spacing)
    layout = load_layout()
    rows = []
    for p in paths:
        patches = extract_patches(preprocess(p, params), layout, params.grid)
        flat = patches.reshape(patches.shape[0], -1)
        stats = [flat.mean(1), flat.std(1), *np.percentile(flat, [10, 50, 90], axis=1)]
        rows.append(np.concatenate(stats))
    return np.asarray(rows)


def step_time(config: Path, spacing: float, batch: int = 8, repeats: int = 3) -> float:
    """Milliseconds of forward + backward per subject for the configured model."""
    import torch

    from rnce_bag.core.config import load_config
    from rnce_bag.imaging.nifti import PreprocessParams
    from rnce_bag.imaging.patches import load_layout, patch_voxel_size
    from rnce_bag.ssl.config import SSLConfig
    from rnce_bag.ssl.model import SSLModel

    cfg = load_config(config, SSLConfig, [f"data.spacing_mm={spacing}"])
    layout = load_layout()
    size = patch_voxel_size(layout, PreprocessParams(spacing=spacing).grid)
    model = SSLModel(len(layout.patches), cfg)
    x = torch.randn(batch, len(layout.patches), 1, *size)
    times = []
    for _ in range(repeats + 1):
        tic = time.perf_counter()
        model(x).pow(2).mean().backward()
        times.append(time.perf_counter() - tic)
    return 1000 * float(np.median(times[1:])) / batch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cohort", type=Path, required=True)
    ap.add_argument("--features", type=Path, default=None,
                    help="features.parquet (default: built from the cohort's FreeSurfer stats)")
    ap.add_argument("--spacing", type=float, nargs="+", default=[4.0, 6.0, 8.0])
    ap.add_argument("--config", type=Path, default=Path("configs/ssl/demo.yaml"))
    ap.add_argument("--n", type=int, default=400, help="subjects used (first N)")
    args = ap.parse_args()
    man = pd.read_csv(args.cohort / "cohort.tsv", sep="\t").head(args.n)
    truth = pd.read_csv(args.cohort / "truth" / "latent.tsv", sep="\t").set_index("IID")
    # (n, 2): hidden signal and age (cv_r2 scores columns of a 2-D target)
    hidden = truth.loc[man["IID"], ["hidden_signal", "age"]].to_numpy()
    if args.features is None:
        from rnce_bag.imaging.features import build_features

        table, _ = build_features(args.cohort / "cohort.tsv")
    else:
        table = pd.read_parquet(args.features)
    fs = table.set_index("IID").loc[man["IID"]]
    fs = fs.loc[:, fs.std() > 0].to_numpy(dtype=float)
    base = float(cv_r2(fs, hidden)[0])
    paths = [args.cohort / p for p in man["t1_path"]]
    rows = []
    for s in args.spacing:
        x = patch_stats(paths, s)
        both = float(cv_r2(np.hstack([fs, x]), hidden)[0])
        rows.append({"spacing_mm": s, "R2_hidden_image": float(cv_r2(x, hidden)[0]),
                     "R2_hidden_fs": base, "R2_hidden_fs_image": both, "gain": both - base,
                     "ms_per_subject": step_time(args.config, s)})
    table = pd.DataFrame(rows)
    print(f"{len(man)} subjects of {args.cohort}; model {args.config}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
