"""Every method at the physical scanner model's 'typical' and 'wide' augmentation ranges.

The presets take their augmentation ranges from ``rnce_bag/ssl/scanner_model.py``
(``augment.scanner: typical``), fixed from published scanner physics before any
training. This benchmark reports how much the results move when the ranges are those
of the 'wide' model instead: R-NCE, SimCLR and Barlow Twins at the demo budget, seed 0,
each through the real train, embed, brain-age, h2, rg and probe commands on a finished
demo folder (see ``ssl_eval.py``). It chooses nothing: the default stays 'typical'
whatever the table shows.

Usage: python benchmarks/augment_sensitivity.py DEMO_DIR OUT [--methods rnce simclr barlow]
       [--scanners typical wide] [--config configs/ssl/demo.yaml]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ssl_eval import ROOT, Run, evaluate, markdown, train_and_embed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("demo", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--methods", nargs="+", default=["rnce", "simclr", "barlow"])
    ap.add_argument("--scanners", nargs="+", default=["typical", "wide"])
    ap.add_argument("--config", type=Path, default=ROOT / "configs" / "ssl" / "demo.yaml")
    args = ap.parse_args()
    from rnce_bag.core.config import load_config
    from rnce_bag.ssl.config import SSLConfig

    epochs = load_config(args.config, SSLConfig).stage1.epochs
    runs = [Run(f"{m.upper()}_{s.upper()}", m, (f"augment.scanner={s}",),
                args.out / "runs" / f"{m}_{s}")
            for s in args.scanners for m in args.methods]
    for run in runs:
        train_and_embed(run, args.demo, args.config)
    table = evaluate(runs, args.demo, args.out / "eval", {r.name: epochs for r in runs})
    table.to_csv(args.out / "augment_sensitivity.tsv", sep="\t", index=False)
    print(markdown(table))


if __name__ == "__main__":
    main()
