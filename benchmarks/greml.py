"""Embedded GREML: calibration over replicates and speed against GEMMA, same data.

Usage: python benchmarks/greml.py [--replicates 20] [--sizes 2000,5000]

Calibration: one simulated cohort (n = first size, no images); 20 phenotype replicates
with h2 = 0.4 from 200 random causal variants, and 20 with h2 = 0. Reports the mean
estimate, the empirical SD against the mean reported SE, and the LRT p-values under
h2 = 0 (Kolmogorov-Smirnov test of uniformity on the p > 0 part, and the share at 0.5,
the boundary mass).
Speed: for each n, the embedded fit (eigendecomposition + AI-REML) against
``gemma -lmm`` with the same kinship, phenotype and covariates (GEMMA also
eigendecomposes), wall time and peak RSS of each in a child process.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from timing import run_timed  # benchmarks/ is on sys.path when a script runs


def simulate(n: int, m: int, out: Path) -> Path:
    exe = str(Path(sys.executable).parent / "rnce-bag")
    subprocess.run([exe, "simulate", "--out", str(out), "--n-subjects", str(n), "--n-variants",
                    str(m), "--no-images", "--set", "genotypes.simulated_mb=60", "--set",
                    "genetics.n_causal=50"], check=True, capture_output=True)
    return out / "genotypes/cohort"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--sizes", default="2000,5000")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    from scipy import stats

    from gwas.heritability.greml import greml
    from gwas.heritability.grm import compute_grm
    from gwas.plink_io import BedReader

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="rnce-greml-") as tmp:
        t = Path(tmp)
        for k, n in enumerate(sizes):
            prefix = simulate(n, 30_000, t / f"sim{n}")
            reader = BedReader(prefix)
            a, _ = compute_grm(reader)
            np.save(t / f"grm{n}.npy", a)
            rng = np.random.default_rng(n)
            x = np.column_stack([np.ones(n), rng.normal(size=n)])
            if k == 0:
                lam, u = np.linalg.eigh(a)
                m = len(reader.bim)
                est, ses, p0 = [], [], []
                for _ in range(args.replicates):
                    rows = rng.choice(m, 200, replace=False)
                    g = reader.read(rows)
                    g = np.where(np.isnan(g), np.nanmean(g, axis=1, keepdims=True), g)
                    z = (g - g.mean(1, keepdims=True)) / g.std(1, keepdims=True)
                    gv = z.T @ rng.normal(size=200)
                    gv = (gv - gv.mean()) / gv.std() * np.sqrt(0.4)
                    y = gv + rng.normal(0, np.sqrt(0.6), n)
                    res = greml(y, x, eig=(lam, u))
                    est.append(res.h2)
                    ses.append(res.h2_se)
                    p0.append(greml(rng.normal(size=n), x, eig=(lam, u)).pval)
                p0 = np.array(p0)
                inner = 2 * p0[p0 < 0.5]
                ks = stats.kstest(inner, "uniform").pvalue if inner.size > 2 else float("nan")
                print(f"calibration (n={n}, {m} variants, {args.replicates} replicates): "
                      f"h2=0.4 -> mean {np.mean(est):.3f}, empirical SD "
                      f"{np.std(est, ddof=1):.3f}, mean SE {np.mean(ses):.3f}; h2=0 -> share "
                      f"of p=0.5 (boundary) {np.mean(p0 >= 0.5):.2f}, KS p of 2p on p<0.5: "
                      f"{ks:.2f}")
            y = rng.normal(size=n) + 0.3 * np.sqrt(np.clip(np.diag(a), 0, None))
            np.savetxt(t / "y.txt", y)
            np.savetxt(t / "c.txt", x, delimiter="\t")
            np.savetxt(t / "k.txt", a, delimiter="\t", fmt="%.8g")
            np.save(t / "y.npy", y)
            np.save(t / "x.npy", x)
            subprocess.run(["plink2", "--bfile", str(prefix), "--thin-count", "20", "--seed", "1",
                            "--make-bed", "--out", str(t / "small")], check=True,
                           capture_output=True)
            code = ("import numpy as np; from gwas.heritability.greml import greml; "
                    f"a=np.load('{t}/grm{n}.npy'); r=greml(np.load('{t}/y.npy'), "
                    f"np.load('{t}/x.npy'), a); print(r.h2)")
            w_ours, m_ours = run_timed([sys.executable, "-c", code])
            w_gemma, m_gemma = run_timed([
                "gemma", "-bfile", str(t / "small"), "-k", str(t / "k.txt"), "-p",
                str(t / "y.txt"), "-c", str(t / "c.txt"), "-lmm", "1", "-o", "b", "-outdir",
                str(t / "gout")])
            print(f"speed n={n}: embedded GREML {w_ours:.1f} s, {m_ours:.2f} GB; GEMMA "
                  f"{w_gemma:.1f} s, {m_gemma:.2f} GB; ratio {w_ours / w_gemma:.2f}x "
                  f"(both include reading the kinship: .npy for ours, text for GEMMA)")


if __name__ == "__main__":
    main()
