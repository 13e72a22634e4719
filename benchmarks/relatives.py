"""Relatives in a GWAS of FS-BAG: linear regression on everyone against the unrelated set
that relatedness QC keeps (issue 32). ORACLE: reads truth/ (the planted relative pairs
and causal loci, for the table only).

Simulates a cohort whose normative part holds families (sibling pairs, parent-offspring
trios, half-sibling pairs by Mendelian transmission) with an environment shared within
each family, then runs the real commands: ``features``, ``brain-age`` (FS-BAG of the
normative subjects), and ``gwas`` + ``h2`` (GREML on the GWAS's samples and covariates)
twice: (a) ``qc.king_cutoff: null`` (everyone, relatives included) and (b) the default
(KING-robust >= 0.0884 removed). Tabulates lambda GC, the GREML h2 (SE), the samples
analysed and removed, the planted pairs KING found (by degree), and the planted loci
found genome-wide.

Usage::

    python benchmarks/relatives.py OUT [--n-subjects 3000] [--n-variants 60000]
        [--fraction 0.6] [--shared-environment 0.3] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> None:
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, text=True,
                          capture_output=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"rnce-bag {args[0]} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    print(f"  rnce-bag {args[0]}: {time.time() - t0:.0f} s", flush=True)


def _markdown(table: pd.DataFrame, index: bool = False) -> str:
    """A Markdown table (no optional dependency)."""
    if index:
        table = table.reset_index()
    cols = [str(c) for c in table.columns]
    rows = [[str(v) for v in r] for r in table.itertuples(index=False)]
    return "\n".join(["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols),
                      *["| " + " | ".join(r) + " |" for r in rows]])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--n-subjects", type=int, default=3000)
    ap.add_argument("--n-variants", type=int, default=60000)
    ap.add_argument("--simulated-mb", type=float, default=60.0)
    ap.add_argument("--fraction", type=float, default=0.6)
    ap.add_argument("--shared-environment", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out, cohort = args.out, args.out / "cohort"
    if not (cohort / "truth" / "truth.json").exists():
        _cli("simulate", "--preset", "demo", "--no-images", "--out", str(cohort),
             "--seed", str(args.seed), "--n-subjects", str(args.n_subjects),
             "--n-variants", str(args.n_variants),
             "--set", f"genotypes.simulated_mb={args.simulated_mb}",
             "--set", f"families.fraction={args.fraction}",
             "--set", f"families.shared_environment={args.shared_environment}")
    manifest = str(cohort / "cohort.tsv")
    if not (out / "features" / "features.parquet").exists():
        _cli("features", "--manifest", manifest, "--out", str(out / "features"))
    if not (out / "brain_age" / "pheno.tsv").exists():
        _cli("brain-age", "--manifest", manifest, "--features",
             f"FS={out / 'features' / 'features.parquet'}", "--out", str(out / "brain_age"))
    bfile = str(cohort / "genotypes" / "cohort")
    rows = []
    runs = [("a: everyone (linear regression)", "everyone", ["--set", "qc.king_cutoff=null"]),
            ("b: unrelated set (KING >= 0.0884 removed)", "unrelated", []),
            ("c: everyone, a random subset of b's size", "subset",
             ["--set", "qc.king_cutoff=null", "--keep", str(out / "subset.txt")]),
            ("d: everyone, BOLT-LMM (mixed model)", "bolt", ["--engine", "bolt"])]
    for mode, tag, sets in runs:
        gdir, hdir = out / f"gwas_{tag}", out / f"h2_{tag}"
        if tag == "subset" and not (out / "subset.txt").exists():
            # as many subjects as the unrelated set, drawn from everyone (relatives too):
            # lambda GC grows with n for a polygenic trait, so (a) against (b) mixes both
            n_b = json.loads((out / "gwas_unrelated" / "gwas_report.json").read_text()
                             )["qc"]["samples_out"]
            ids = pd.read_csv(out / "gwas_everyone" / "work" / "qc" / "keep.tsv", sep="\t",
                              dtype=str)
            ids.sample(n=n_b, random_state=args.seed).iloc[:, :2].to_csv(
                out / "subset.txt", sep="\t", index=False, header=False)
        if not (gdir / "gwas_report.json").exists():
            engine = [] if "--engine" in sets else ["--engine", "plink2"]
            _cli("gwas", "--bfile", bfile, "--pheno", str(out / "brain_age" / "pheno.tsv"),
                 "--covar", str(out / "brain_age" / "covar.tsv"), *engine,
                 *sets, "--out", str(gdir))
        if not (hdir / "heritability.tsv").exists():
            _cli("h2", "--bfile", bfile, "--pheno", str(out / "brain_age" / "pheno.tsv"),
                 "--gwas", str(gdir), "--grm-cutoff", "0", "--out", str(hdir))
        rep = json.loads((gdir / "gwas_report.json").read_text())
        s = pd.read_csv(gdir / "summary.tsv", sep="\t").iloc[0]
        h = pd.read_csv(hdir / "heritability.tsv", sep="\t").iloc[0]
        bolt_h2 = ""
        if tag == "bolt":  # BOLT's own (pseudo-)heritability, from its log
            text = (gdir / "work" / "bolt.P1.log").read_text()
            bolt_h2 = next((ln.split("=")[-1].strip() for ln in text.splitlines()
                            if "pseudo-)heritability" in ln), "")
        loci = pd.read_csv(gdir / "loci.tsv", sep="\t")
        rel = rep.get("relatedness", {})
        rows.append({"analysis": mode, "n": int(s["n_samples"]),
                     "removed": rel.get("samples_removed_related", 0),
                     "lambda_gc": round(float(s["lambda_gc"]), 3),
                     "h2": f"{h['h2']:.3f} ({h['h2_se']:.3f})"
                     + (f"; BOLT's own h2g {bolt_h2}" if bolt_h2 else ""),
                     "loci": ", ".join(sorted(set(loci["nearest_gene"].astype(str))))
                     or "-"})
    # calibration without genetics: the planted environment (ORACLE: truth/latent.tsv),
    # shared within families, of the BAG's subjects; no variant is associated with it, so
    # lambda GC above 1 is relatives' shared environment, not polygenicity
    env = out / "environment.tsv"
    if not env.exists():
        latent = pd.read_csv(cohort / "truth" / "latent.tsv", sep="\t", dtype={"IID": str})
        bag = pd.read_csv(out / "brain_age" / "pheno.tsv", sep="\t", dtype={"IID": str})
        bag_ids = bag.loc[bag.drop(columns=[c for c in ("#FID", "FID", "IID")
                                            if c in bag.columns]).notna().any(axis=1), "IID"]
        latent = latent[latent["IID"].isin(set(bag_ids))]
        latent[["IID", "environment"]].rename(columns={"environment": "ENV"}).to_csv(
            env, sep="\t", index=False)
    null_rows = []
    for mode, tag, sets in runs:
        gdir = out / f"null_{tag}"
        if not (gdir / "gwas_report.json").exists():
            engine = [] if "--engine" in sets else ["--engine", "plink2"]
            _cli("gwas", "--bfile", bfile, "--pheno", str(env), "--covar",
                 str(out / "brain_age" / "covar.tsv"), *engine, *sets, "--out", str(gdir))
        s0 = pd.read_csv(gdir / "summary.tsv", sep="\t").iloc[0]
        null_rows.append({"analysis": mode, "n": int(s0["n_samples"]),
                          "lambda_gc": round(float(s0["lambda_gc"]), 3),
                          "mean_chi2": round(float(s0["mean_chi2"]), 3),
                          "p < 5e-8": int(s0["n_genome_wide"])})
    truth = json.loads((cohort / "truth" / "truth.json").read_text())
    planted = pd.read_csv(cohort / "truth" / "relatives.tsv", sep="\t", dtype=str)
    found = pd.read_csv(out / "gwas_unrelated" / "relatives.tsv", sep="\t", dtype=str)
    # the planted pairs among the GWAS's QC'd subjects (normative, call rate), and
    # whether KING listed them
    bag = set(pd.read_csv(out / "gwas_unrelated" / "work" / "qc" / "keep.tsv", sep="\t",
                          dtype=str)["IID"])
    planted = planted[planted["IID1"].isin(bag) & planted["IID2"].isin(bag)]
    def pairs_of(t: pd.DataFrame) -> list[frozenset]:
        return [frozenset(p) for p in zip(t["IID1"], t["IID2"], strict=True)]

    listed = dict(zip(pairs_of(found), zip(found["kinship"], found["degree"], strict=True),
                      strict=True))
    hit = [listed.get(p) for p in pairs_of(planted)]
    planted = planted.assign(found=[h is not None for h in hit],
                             kinship_found=[float(h[0]) if h else None for h in hit],
                             degree_found=[h[1] if h else None for h in hit])
    close = found[found["kinship"].astype(float) >= 0.0884]
    extra = set(pairs_of(close)) - set(pairs_of(planted))
    by = planted.groupby("relationship").agg(
        pairs=("found", "size"), found=("found", "sum"),
        kinship_mean=("kinship_found", "mean"), kinship_min=("kinship_found", "min"),
        kinship_max=("kinship_found", "max"))
    lines = [f"# Relatives (issue 32): {args.n_subjects} subjects, {args.n_variants} variants "
             f"over {args.simulated_mb:g} Mb, families.fraction {args.fraction}, "
             f"shared environment c2 {args.shared_environment}, seed {args.seed}",
             f"planted (truth, ORACLE): {truth['families']}", "",
             _markdown(pd.DataFrame(rows)), "",
             "The same four analyses of a phenotype without genetics: the planted "
             "environment (ORACLE), shared within families:", "",
             _markdown(pd.DataFrame(null_rows)), "",
             "planted pairs among the GWAS's QC'd subjects, and KING's estimates:", "",
             _markdown(by.round(3), index=True), "",
             f"pairs KING put at >= 0.0884 that were not planted: {len(extra)}"]
    text = "\n".join(lines)
    (out / "relatives.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
