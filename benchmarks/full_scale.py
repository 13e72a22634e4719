"""The ``large`` preset end to end: wall time and peak memory per step, with peers as ratios.

Usage: python benchmarks/full_scale.py WORKDIR [--steps simulate,gwas_plink2,...]

WORKDIR keeps every step's output and ``results.json`` (one entry per finished step), so
a rerun skips what is done. Steps, each a child process (peak RSS = its ru_maxrss):

- ``simulate``: ``rnce-bag simulate --preset large --no-images`` (10,000 x 500,000);
- ``gwas_plink2``: ``rnce-bag gwas --engine plink2``, 10 PCs, 2 phenotypes (the latent
  factor and the true brain-age gap of ``truth/``: a benchmark, never the product), age
  and sex: QC + PCA + association + GWAS-SSF + loci;
- ``plink2_bare``: bare ``plink2 --glm`` with the same 12 covariates (age, sex, the
  engine's 10 PCs), the peer of the whole engine run;
- ``gwas_hail_first`` / ``gwas_hail_cached``: ``rnce-bag gwas --engine hail`` with 10 PCs,
  first (imports the MatrixTable) and again on the cached MatrixTable;
- ``h2_greml``: ``rnce-bag h2`` of the first phenotype (GRM from 500,000 variants +
  AI-REML at n = 10,000), the GWAS covariates, no relatedness cut-off (GEMMA has none);
- ``gemma_gk`` + ``gemma_lmm``: GEMMA's kinship from the same .bed, then ``-lmm`` with
  it (on 20 variants: the REML fit and eigendecomposition, not 500,000 tests), the peer of
  ``h2_greml``;
- ``rg_greml``: ``rnce-bag rg`` on the GRM ``h2_greml`` wrote;
- ``enrich``: ``rnce-bag enrich`` (gene analysis + cell types) of the first phenotype.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from gwas_inputs import write_gwas_inputs  # benchmarks/ is on sys.path when a script runs
from timing import run_measured

STEPS = ["simulate", "gwas_plink2", "plink2_bare", "h2_greml", "gemma_gk", "gemma_lmm",
         "rg_greml", "enrich", "gwas_hail_first", "gwas_hail_cached"]


def _inputs(w: Path) -> None:
    """Phenotype and covariate files from the simulated cohort (once)."""
    if not (w / "pheno.tsv").exists():
        write_gwas_inputs(w / "sim", w)


def _gemma_inputs(w: Path) -> None:
    """GEMMA's phenotype (in the .fam), covariates (intercept + the GWAS's 12) and a
    20-variant .bed for -lmm."""
    import pandas as pd

    fam = pd.read_csv(w / "sim/genotypes/cohort.fam", sep=r"\s+", header=None, dtype=str)
    ph = pd.read_csv(w / "pheno.tsv", sep="\t", dtype={"IID": str}).set_index("IID")
    cv = pd.read_csv(w / "gwas_plink2/covariates.tsv", sep="\t", dtype={"IID": str}
                     ).set_index("IID")
    ids = fam[1]
    (w / "gemma").mkdir(exist_ok=True)
    x = cv.reindex(ids)
    x.insert(0, "intercept", 1.0)
    x.to_csv(w / "gemma/covar.txt", sep="\t", header=False, index=False, na_rep="NA")
    ph.reindex(ids)["P1"].to_csv(w / "gemma/pheno.txt", header=False, index=False,
                                 na_rep="NA")
    subprocess.run(["plink2", "--bfile", str(w / "sim/genotypes/cohort"), "--thin-count", "20",
                    "--seed", "1", "--make-bed", "--out", str(w / "gemma/small")], check=True,
                   capture_output=True)


def command(step: str, w: Path, exe: str) -> list[str]:
    geno = ["--bfile", str(w / "sim/genotypes/cohort")]
    pheno = ["--pheno", str(w / "pheno.tsv")]
    hail = [exe, "gwas", *geno, *pheno, "--covar", str(w / "covar.tsv"), "--engine", "hail",
            "--set", "pca.n_pcs=10", "--set", "hail.spark_master=local[*]"]
    if step == "simulate":
        return [exe, "simulate", "--preset", "large", "--no-images", "--out", str(w / "sim")]
    if step == "gwas_plink2":
        return [exe, "gwas", *geno, *pheno, "--covar", str(w / "covar.tsv"), "--engine",
                "plink2", "--set", "pca.n_pcs=10", "--out", str(w / "gwas_plink2")]
    if step == "plink2_bare":
        import pandas as pd

        cov = pd.read_csv(w / "covar.tsv", sep="\t").merge(
            pd.read_csv(w / "gwas_plink2/pcs.tsv", sep="\t"), on="IID")
        cov.to_csv(w / "covar12.tsv", sep="\t", index=False)
        return ["plink2", *geno, *pheno, "--covar", str(w / "covar12.tsv"),
                "--covar-variance-standardize", "--glm", "hide-covar", "--out",
                str(w / "bare/glm")]
    if step == "gwas_hail_first":
        return [*hail, "--out", str(w / "gwas_hail_first")]
    if step == "gwas_hail_cached":
        target = w / "gwas_hail_cached"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        # what a rerun into the same --out reuses: the MatrixTable and the pruned variants
        os.symlink(w / "gwas_hail_first/.cache", target / ".cache")
        return [*hail, "--out", str(target)]
    if step == "h2_greml":
        return [exe, "h2", *geno, *pheno, "--pheno-name", "P1", "--covar",
                str(w / "gwas_plink2/covariates.tsv"),
                "--grm-cutoff", "0", "--out", str(w / "h2")]
    if step == "gemma_gk":
        _gemma_inputs(w)
        return ["gemma", *_gemma_bfile(w, "sim/genotypes/cohort"), "-gk", "1", "-o", "kin",
                "-outdir", str(w / "gemma/out")]
    if step == "gemma_lmm":
        return ["gemma", *_gemma_bfile(w, "gemma/small"), "-k",
                str(w / "gemma/out/kin.cXX.txt"), "-c", str(w / "gemma/covar.txt"), "-lmm",
                "1", "-o", "lmm", "-outdir", str(w / "gemma/out")]
    if step == "rg_greml":
        return [exe, "rg", "--grm", str(w / "h2/grm"), *pheno, "--pheno-name", "P1,P2",
                "--covar", str(w / "gwas_plink2/covariates.tsv"), "--grm-cutoff", "0",
                "--out", str(w / "rg")]
    if step == "enrich":
        return [exe, "enrich", "--sumstats", str(w / "gwas_plink2/P1.tsv.gz"), *geno,
                "--celltypes", str(w / "sim/expression/celltype_specificity.tsv"), "--out",
                str(w / "enrich")]
    raise SystemExit(f"unknown step {step!r}; steps: {', '.join(STEPS)}")


def _gemma_bfile(w: Path, prefix: str) -> list[str]:
    """GEMMA reads the phenotype from the .fam: a copy of the fileset with P1 in it."""
    src = w / prefix
    dst = w / "gemma" / (Path(prefix).name + "_p1")
    if not Path(f"{dst}.bed").exists():
        for e in ("bed", "bim"):
            os.symlink(f"{src}.{e}", f"{dst}.{e}")
        fam = Path(f"{src}.fam").read_text().splitlines()
        y = (w / "gemma/pheno.txt").read_text().split()
        Path(f"{dst}.fam").write_text("".join(
            " ".join(line.split()[:5] + [v]) + "\n" for line, v in zip(fam, y, strict=True)))
    return ["-bfile", str(dst)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workdir", type=Path)
    ap.add_argument("--steps", default=",".join(STEPS))
    args = ap.parse_args()
    w = args.workdir.resolve()
    w.mkdir(parents=True, exist_ok=True)
    exe = str(Path(sys.executable).parent / "rnce-bag")
    results_path = w / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    for step in args.steps.split(","):
        if step in results:
            continue
        if step != "simulate":
            _inputs(w)
        (w / "bare").mkdir(exist_ok=True)
        cmd = command(step, w, exe)
        print(f"{step}: {' '.join(cmd)}", flush=True)
        results[step] = run_measured(cmd)
        results_path.write_text(json.dumps(results, indent=2) + "\n")
        print(f"{step}: {results[step]}", flush=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores")
    report(w, results)


def report(w: Path, results: dict) -> None:
    """The markdown table of benchmarks/results-full-scale.md, ratios to each peer."""
    def total(steps: tuple[str, ...], key: str) -> float:
        return sum(results[s].get(key, float("nan")) for s in steps)

    def ratio(a: tuple[str, ...], b: tuple[str, ...], key: str) -> str:
        if all(s in results for s in (*a, *b)):
            return f"{total(a, key) / total(b, key):.2f}"
        return "-"

    gemma = ("gemma_gk", "gemma_lmm")
    peers = {"gwas_plink2": ("bare plink2 --glm", ("plink2_bare",)),
             "gwas_hail_first": ("plink2 engine", ("gwas_plink2",)),
             "gwas_hail_cached": ("plink2 engine", ("gwas_plink2",)),
             "h2_greml": ("GEMMA -gk + -lmm", gemma)}
    print("| step | wall s | CPU s | peak RSS GB | peer | ratio (wall) | ratio (CPU) |\n"
          "|---|---|---|---|---|---|---|")
    for step in STEPS:
        if step in results:
            r = results[step]
            peer, steps = peers.get(step, ("", ()))
            print(f"| {step} | {r['wall_s']} | {r.get('cpu_s', '-')} | {r['peak_rss_gb']} | "
                  f"{peer} | {ratio((step,), steps, 'wall_s') if steps else ''} | "
                  f"{ratio((step,), steps, 'cpu_s') if steps else ''} |")
    for name in ("gwas_plink2", "gwas_hail_first", "gwas_hail_cached"):
        rep = w / name / "gwas_report.json"
        if rep.exists():
            print(f"{name} steps (s): {json.loads(rep.read_text())['timings_s']}")


if __name__ == "__main__":
    main()
