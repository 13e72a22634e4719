"""Time the report's GWAS figures (Manhattan, QQ) on N synthetic variants.

Usage: python benchmarks/report_plots.py [--variants 2000000]

Null p-values plus a few strong loci, 22 chromosomes; each figure is drawn and saved
as PNG (200 dpi) the way the report does (p > 0.01 thinned, rasterised scatter).
"""

from __future__ import annotations

import argparse
import io
import time

import numpy as np
import pandas as pd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", type=int, default=2_000_000)
    args = ap.parse_args()

    from gwas.plots import manhattan, qq

    rng = np.random.default_rng(0)
    n = args.variants
    chrom = np.sort(rng.integers(1, 23, n))
    ssf = pd.DataFrame({"chromosome": chrom.astype(str),
                        "base_pair_location": rng.integers(1, 2.5e8, n),
                        "p_value": rng.uniform(size=n)})
    ssf.loc[rng.choice(n, 50, replace=False), "p_value"] = 10 ** -rng.uniform(8, 30, 50)
    rows = []
    for name, draw in (("manhattan", lambda: manhattan(ssf)),
                       ("qq", lambda: qq(ssf["p_value"].to_numpy()))):
        start = time.perf_counter()
        fig = draw()
        fig = fig if hasattr(fig, "savefig") else fig.figure
        fig.savefig(io.BytesIO(), format="png", dpi=200)
        rows.append((name, time.perf_counter() - start))
    print(f"{n:,} variants")
    print("figure\tseconds")
    for name, sec in rows:
        print(f"{name}\t{sec:.2f}")


if __name__ == "__main__":
    main()
