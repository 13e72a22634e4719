"""Oracle ceiling: what a perfect image encoder could add to FreeSurfer, through the real
commands (``features``, ``brain-age``, ``probe``, ``gwas``, ``h2``, ``rg``), as
``rnce-bag oracle`` runs them (the demo runs that command as its ``oracle`` stage).

ORACLE rows read the simulator's ``truth/`` (the rendered white-matter signal, which
FreeSurfer's stats do not contain) and are labelled as such; nothing in training, model
selection or the product does. Three BAGs:

- ``FS``: FreeSurfer features (what the product computes);
- ``ORACLE_FS_HIDDEN``: FreeSurfer features + the true hidden white-matter signal
  (the ideal image representation: everything FreeSurfer measures and what it misses);
- ``ORACLE_HIDDEN``: the true hidden signal alone.

The genetics use the product's study design: BAGs of the normative subjects only, GWAS
covariates (age, age^2, sex, site, eTIV, PCs) reused by GREML h2 and rg.

Usage: python benchmarks/oracle_ceiling.py --cohort SIM_DIR --out DIR [--threads 2]
Writes DIR/oracle.tsv, DIR/oracle_probes.tsv and prints a Markdown table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from pipeline.oracle import PREFIX, REPS, run_oracle


def run(cohort: Path, out: Path, threads: int = 2, probes: bool = True) -> pd.DataFrame:
    """Every stage on the oracle representations (``rnce-bag oracle``); one row per BAG."""
    run_oracle(cohort, out, threads=threads, probes=probes)
    return summarise(out)


def summarise(out: Path) -> pd.DataFrame:
    """One row per BAG: MAE, h2 (SE), rg with FS-BAG (SE), h2 gain over FS (SE)."""
    import json

    def stage(name: str) -> Path:  # the oracle's stage folders in the run
        return out / f"{PREFIX}{name}"

    metrics = json.loads((stage("brain_age") / "metrics.json").read_text())["representations"]
    h2 = pd.read_csv(stage("h2") / "heritability.tsv", sep="\t").set_index("phenotype")
    summary = pd.read_csv(stage("gwas") / "summary.tsv", sep="\t").set_index("phenotype")
    rows = []
    for name in REPS:
        ph = f"BAG_{name}"
        row = {"bag": ph, "oracle": name.startswith("ORACLE"),
               "mae": metrics[name]["train_uncorrected"]["mae"],
               "h2": h2.loc[ph, "h2"], "h2_se": h2.loc[ph, "h2_se"], "n": h2.loc[ph, "n"],
               "n_genome_wide": summary.loc[ph, "n_genome_wide"]}
        rg_file = stage(f"rg_{name.lower().removeprefix(PREFIX)}") / "rg.tsv"
        if rg_file.exists():
            r = pd.read_csv(rg_file, sep="\t").iloc[0]
            row.update(rg_fs=r["rg"], rg_fs_se=r["rg_se"], rg_status=r["status"],
                       h2_gain=r["h2_2"] - r["h2_1"], h2_gain_se=r["h2_diff_se"])
        rows.append(row)
    table = pd.DataFrame(rows)
    table.to_csv(out / "oracle.tsv", sep="\t", index=False, float_format="%.4g")
    if (stage("probe") / "probe.tsv").exists():
        sc = pd.read_csv(stage("probe") / "probe.tsv", sep="\t")
        pr = pd.read_csv(stage("probe") / "probe_pairs.tsv", sep="\t")
        pr = pr[(pr["rep_a"] == "FS")]
        wide = sc.pivot(index="task", columns="representation", values="auc")
        for _, r in pr.iterrows():
            wide.loc[r["task"], f"p_delong_FS_vs_{r['rep_b']}"] = r["p_delong"]
        wide.to_csv(out / "oracle_probes.tsv", sep="\t", float_format="%.4g")
    return table


def markdown(out: Path) -> str:
    t = pd.read_csv(out / "oracle.tsv", sep="\t")
    lines = ["| BAG | MAE (y) | GREML h2 (SE) | rg with FS-BAG (SE) | h2 - h2(FS) (SE) | n |",
             "|---|---|---|---|---|---|"]
    for r in t.itertuples():
        rg = (f"{r.rg_fs:.2f} ({r.rg_fs_se:.2f})" if "rg_fs" in t.columns and
              pd.notna(r.rg_fs) else "-")
        if rg != "-" and r.rg_status != "ok":
            rg += f" [{r.rg_status.removeprefix('ok; ')}]"
        gain = (f"{r.h2_gain:+.3f} ({r.h2_gain_se:.3f})" if "h2_gain" in t.columns and
                pd.notna(r.h2_gain) else "-")
        lines.append(f"| {r.bag}{' (oracle)' if r.oracle else ''} | {r.mae:.2f} | "
                     f"{r.h2:.3f} ({r.h2_se:.3f}) | {rg} | {gain} | {r.n} |")
    p = out / "oracle_probes.tsv"
    if p.exists():
        w = pd.read_csv(p, sep="\t").set_index("task")
        lines += ["", "| task | " + " | ".join(w.columns) + " |",
                  "|---|" + "---|" * len(w.columns)]
        lines += [f"| {task} | " + " | ".join(f"{v:.3g}" for v in row) + " |"
                  for task, row in w.iterrows()]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cohort", type=Path, required=True, help="a 'rnce-bag simulate' folder")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-probes", action="store_true")
    args = ap.parse_args()
    run(args.cohort, args.out, args.threads, probes=not args.no_probes)
    print(markdown(args.out))


if __name__ == "__main__":
    main()
