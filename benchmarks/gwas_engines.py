"""GWAS wall time and peak memory: bare PLINK 2 vs rnce-bag's engines, as ratios.

Usage: python benchmarks/gwas_engines.py [--n-subjects 10000] [--n-variants 100000]
    [--no-hail] [--no-bolt]

One simulated cohort (no images), 2 phenotypes, 12 covariates (age, sex, 10 PCs from
the plink2 engine's run). Timed in the same run:

1. bare ``plink2 --glm`` on the .bed with the same phenotype/covariate files;
2. ``rnce-bag gwas --engine plink2`` (QC + PCA + glm + GWAS-SSF + loci);
3. ``rnce-bag gwas --engine hail``: MatrixTable import (first run) and the regression
   step (second run, reading the cached MatrixTable), from the Hail log timings;
4. ``rnce-bag gwas --engine bolt`` (the PLINK 2 engine's QC + PCs, then BOLT-LMM per
   phenotype: relatives kept).

Each step runs in a child process; peak RSS is the child's ru_maxrss.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from gwas_inputs import write_gwas_inputs  # benchmarks/ is on sys.path when a script runs
from timing import run_timed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-subjects", type=int, default=10_000)
    ap.add_argument("--n-variants", type=int, default=100_000)
    ap.add_argument("--no-hail", action="store_true")
    ap.add_argument("--no-bolt", action="store_true")
    args = ap.parse_args()
    exe = str(Path(sys.executable).parent / "rnce-bag")
    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="rnce-gwas-bench-") as tmp:
        t = Path(tmp)
        subprocess.run([exe, "simulate", "--out", str(t / "sim"), "--preset", "large",
                        "--n-subjects", str(args.n_subjects), "--n-variants",
                        str(args.n_variants), "--no-images", "--set",
                        "genotypes.simulated_mb=60"], check=True, capture_output=True)
        write_gwas_inputs(t / "sim", t)
        cov = pd.read_csv(t / "covar.tsv", sep="\t")
        geno = ["--bfile", str(t / "sim/genotypes/cohort")]
        rows = []
        w, m = run_timed([exe, "gwas", *geno, "--pheno", str(t / "pheno.tsv"), "--covar",
                      str(t / "covar.tsv"), "--engine", "plink2", "--out", str(t / "p2")])
        rows.append(("rnce-bag gwas --engine plink2 (QC+PCA+glm+loci)", w, m))
        steps = {"plink2": json.loads((t / "p2/gwas_report.json").read_text())["timings_s"]}
        pcs = pd.read_csv(t / "p2/pcs.tsv", sep="\t")
        full = cov.merge(pcs, on="IID")
        full.to_csv(t / "covar12.tsv", sep="\t", index=False)
        w, m = run_timed(["plink2", *geno, "--pheno", str(t / "pheno.tsv"), "--covar",
                      str(t / "covar12.tsv"), "--covar-variance-standardize", "--glm",
                      "hide-covar", "--out", str(t / "bare")])
        rows.insert(0, ("bare plink2 --glm (12 covariates)", w, m))
        if not args.no_bolt:
            w, m = run_timed([exe, "gwas", *geno, "--pheno", str(t / "pheno.tsv"), "--covar",
                              str(t / "covar.tsv"), "--engine", "bolt", "--out",
                              str(t / "bolt")])
            rows.append(("rnce-bag gwas --engine bolt (QC+PCA+BOLT-LMM+loci)", w, m))
            steps["bolt"] = json.loads((t / "bolt/gwas_report.json").read_text()
                                       )["timings_s"]
        if args.no_hail:
            _print(args, rows, steps)
            return
        common = [exe, "gwas", *geno, "--pheno", str(t / "pheno.tsv"), "--covar",
                  str(t / "covar12.tsv"), "--engine", "hail", "--set", "pca.n_pcs=0",
                  "--set", "hail.spark_master=local[*]"]
        w, m = run_timed([*common, "--out", str(t / "h1")])
        rows.append(("rnce-bag gwas --engine hail, first run (import + QC + regression)", w, m))
        (t / "h2").mkdir()
        # what a rerun into the same --out reuses (the MatrixTable; caches live in .cache/)
        os.symlink(t / "h1/.cache", t / "h2/.cache")
        w, m = run_timed([*common, "--out", str(t / "h2")])
        rows.append(("rnce-bag gwas --engine hail, cached MatrixTable (QC + regression)", w, m))
        steps["hail (first run)"] = json.loads((t / "h1/gwas_report.json").read_text()
                                              )["timings_s"]
        steps["hail (cached)"] = json.loads((t / "h2/gwas_report.json").read_text()
                                           )["timings_s"]
    _print(args, rows, steps)


def _print(args, rows: list, steps: dict) -> None:
    bare = rows[0][1]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {args.n_subjects} samples x "
          f"{args.n_variants} variants, 2 phenotypes")
    print("step\twall_s\tpeak_rss_gb\tratio_to_bare_plink2")
    for name, w, m in rows:
        print(f"{name}\t{w:.1f}\t{m:.2f}\t{w / bare:.2f}")
    print("\nsteps inside rnce-bag (seconds; association = the regression itself)")
    for engine, st in steps.items():
        assoc = st.get("association", float("nan"))
        print(f"{engine}: " + ", ".join(f"{k} {v:.1f}" for k, v in st.items())
              + f"  -> association / bare plink2 = {assoc / bare:.2f}")
    print("peak RSS is the child process's own; Hail's JVM heap is capped by "
          "hail.driver_memory_gb")


if __name__ == "__main__":
    main()
