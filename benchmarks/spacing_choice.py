"""Which voxel spacing to train at, chosen without the simulator's truth.

For each spacing the configured method (R-NCE by default) is trained briefly on the
first ``--n`` subjects with the real commands (``rnce-bag train``, then ``embed``), and
the script reports what a real study can see:

- ``R2_fs``: the embedding's 5-fold cross-validated ridge R2 of the standardised
  FreeSurfer features (mean over columns): how much of what FreeSurfer measures the
  representation keeps at that resolution (the method asks it to span them);
- the training losses over the last epoch of each stage (NT-Xent, reconstruction);
- ``train_s``: wall time of the training and ``ms_per_subject`` of a forward + backward
  pass of the model (so epochs per minute can be compared).

The rule: the coarsest spacing whose ``R2_fs`` is within ``--tolerance`` (0.02) of the
best spacing's is chosen. With ``--equal-time`` every spacing gets the CPU time of
``--epochs`` at the finest one (epochs scaled by the model's time per subject), the
comparison a fixed compute budget makes; without it every spacing gets the same epochs,
which favours the finer ones (on the demo cohort, 2 + 2 epochs on 1,000 subjects: 4 mm
R2 0.556, 6 mm 0.533, 8 mm 0.496, so 4 mm; equal time: see the README). Nothing here
reads ``truth/``; the image-only signal the simulator plants cannot be seen by a real
study and plays no part.

Usage: python benchmarks/spacing_choice.py --cohort SIM [--features FEATURES.parquet]
       [--spacing 4 6 8] [--n 1200] [--epochs 2] [--config configs/ssl/demo.yaml]
       [--out DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from ssl_eval import fs_r2, last_epoch_losses  # same folder: run as a script

ROOT = Path(__file__).resolve().parent.parent


def subset_manifest(cohort: Path, n: int, out: Path) -> Path:
    """The first ``n`` subjects of ``cohort/cohort.tsv`` with absolute paths, into ``out``."""
    from rnce_bag.imaging.manifest import load_manifest

    m = load_manifest(cohort / "cohort.tsv").head(n)
    path = out / "manifest.tsv"
    m.to_csv(path, sep="\t", index=False, na_rep="NA")
    return path


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


def choose(table: pd.DataFrame, tolerance: float) -> float:
    """The coarsest spacing whose R2_fs is within ``tolerance`` of the best."""
    ok = table[table["R2_fs"] >= table["R2_fs"].max() - tolerance]
    return float(ok["spacing_mm"].max())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cohort", type=Path, required=True)
    ap.add_argument("--features", type=Path, default=None,
                    help="features.parquet (default: built from the cohort's FreeSurfer stats)")
    ap.add_argument("--spacing", type=float, nargs="+", default=[4.0, 6.0, 8.0])
    ap.add_argument("--config", type=Path, default=ROOT / "configs" / "ssl" / "demo.yaml")
    ap.add_argument("--method", default="rnce")
    ap.add_argument("--n", type=int, default=1200)
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--tolerance", type=float, default=0.02)
    ap.add_argument("--equal-time", action="store_true",
                    help="epochs per spacing scaled so each gets the finest spacing's CPU time")
    ap.add_argument("--out", type=Path, default=Path("spacing_choice"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = subset_manifest(args.cohort, args.n, args.out)
    if args.features is None:
        from rnce_bag.imaging.features import build_features

        args.features = args.out / "features.parquet"
        build_features(args.cohort / "cohort.tsv")[0].to_parquet(args.features, index=False)
    cli = [sys.executable, "-m", "cli"]
    rows = []
    cost = {s: step_time(args.config, s) for s in args.spacing}
    finest = min(args.spacing)
    for s in args.spacing:
        run, emb = args.out / f"train_{s:g}mm", args.out / f"embed_{s:g}mm"
        epochs = args.epochs * (cost[finest] / cost[s] if args.equal_time else 1.0)
        sets = [f"data.spacing_mm={s}", f"stage1.epochs={epochs:.3f}",
                f"stage2.epochs={epochs:.3f}"]
        tic = time.perf_counter()
        subprocess.run([*cli, "train", "--manifest", str(manifest), "--features",
                        str(args.features), "--out", str(run), "--config", str(args.config),
                        "--method", args.method, "--overwrite", "--cache-dir",
                        str(args.out / "cache"), *[a for x in sets for a in ("--set", x)]],
                       check=True, cwd=ROOT)
        train_s = time.perf_counter() - tic
        subprocess.run([*cli, "embed", "--run", str(run), "--manifest", str(manifest), "--out",
                        str(emb), "--cache-dir", str(args.out / "cache")], check=True, cwd=ROOT)
        rows.append({"spacing_mm": s, "R2_fs": fs_r2(emb / "embeddings.parquet", args.features),
                     "epochs": epochs, **last_epoch_losses(run / "metrics.jsonl", epochs),
                     "train_s": train_s, "ms_per_subject": cost[s]})
    table = pd.DataFrame(rows)
    budget = (f"the CPU time of {args.epochs:g} + {args.epochs:g} epochs at {finest:g} mm"
              if args.equal_time else f"{args.epochs:g} + {args.epochs:g} epochs")
    print(f"{args.method}, {args.n} subjects of {args.cohort}, {budget} per spacing, "
          f"{args.config}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"chosen (coarsest within {args.tolerance} of the best R2_fs): "
          f"{choose(table, args.tolerance):g} mm")
    table.to_csv(args.out / "spacing_choice.tsv", sep="\t", index=False)


if __name__ == "__main__":
    main()
