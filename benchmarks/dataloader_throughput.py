"""Subjects/s delivered by the imaging DataLoader (cold and cached) vs a training step.

Usage: python benchmarks/dataloader_throughput.py [--cohort DIR] [--spacing MM] [--batch N]
       [--limit N]

Without --cohort it simulates the tiny preset (4 mm) into a temporary folder; pass the
demo cohort (``rnce-bag simulate --preset demo``) and --spacing 2 for the demo numbers.
The "training step" is a stand-in with the R-NCE patch-encoder shape (18 patches, 13
3D convolutions, ELU, 64-d output; forward + backward) until the trainer lands; the
loader keeps up when its cached subjects/s exceed the step's.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path


def _proxy_step(batch, width: int = 8):
    from torch import nn

    b, p = batch["patches"].shape[:2]
    layers, c = [], 1
    for k in range(13):
        stride = 2 if k in (2, 5, 8, 11) else 1
        layers += [nn.Conv3d(c, width, 3, stride=stride, padding=1), nn.ELU()]
        c = width
    net = nn.Sequential(*layers, nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(width, 64))
    x = batch["patches"].reshape(b * p, *batch["patches"].shape[2:])
    start = time.perf_counter()
    net(x).pow(2).mean().backward()
    return b / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cohort", type=Path)
    ap.add_argument("--spacing", type=float, default=4.0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--limit", type=int, default=None, help="first N subjects only")
    args = ap.parse_args()

    from torch.utils.data import DataLoader

    from rnce_bag.imaging.dataset import build_dataset
    from rnce_bag.imaging.features import build_features
    from rnce_bag.imaging.nifti import PreprocessParams
    from rnce_bag.imaging.patches import load_layout

    with tempfile.TemporaryDirectory(prefix="rnce-loader-") as tmp:
        cohort = args.cohort
        if cohort is None:
            from rnce_bag.simulate.config import preset_config
            from rnce_bag.simulate.run import simulate

            cohort = simulate(preset_config("tiny"), Path(tmp) / "tiny")
        manifest = cohort / "cohort.tsv"
        if args.limit:
            import pandas as pd

            m = pd.read_csv(manifest, sep="\t").head(args.limit)
            for col in ("t1_path", "freesurfer_dir"):
                m[col] = [str((cohort / v).resolve()) for v in m[col]]
            manifest = Path(tmp) / "manifest.tsv"
            m.to_csv(manifest, sep="\t", index=False)
        feats, _ = build_features(manifest)
        fpath = Path(tmp) / "features.parquet"
        feats.to_parquet(fpath, index=False)
        rows = []
        for workers in (0, 2):
            ds, _ = build_dataset(manifest, fpath, load_layout(),
                                  PreprocessParams(spacing=args.spacing),
                                  Path(tmp) / f"cache{workers}")
            for label in ("cold", "cached"):
                start = time.perf_counter()
                n = 0
                for batch in DataLoader(ds, batch_size=args.batch, num_workers=workers):
                    n += len(batch["iid"])
                rows.append((workers, label, n / (time.perf_counter() - start)))
        step = _proxy_step(batch)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; spacing {args.spacing} mm; "
          f"batch {args.batch}; patches {tuple(batch['patches'].shape[1:])}")
    print("workers\tpass\tsubjects_per_s")
    for w, label, rate in rows:
        print(f"{w}\t{label}\t{rate:.1f}")
    best = max(r[2] for r in rows if r[1] == "cached")
    print(f"proxy training step (forward+backward): {step:.1f} subjects/s; "
          f"cached loader / step = {best / step:.1f}x")


if __name__ == "__main__":
    main()
