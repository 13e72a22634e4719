"""What compute buys: R-NCE (and the generic SSL baselines) at several training budgets
and seeds, evaluated through the real commands.

R-NCE at each budget in ``--budgets`` (epochs per stage: 3 + 3, 10 + 10, 30 + 30 by
default), SimCLR and Barlow Twins at the smallest and the largest, each with every seed
in ``--seeds``, all other settings from the preset. Every run goes through train, embed,
brain-age, h2, rg and probe on a finished demo folder (``ssl_eval.py``). Writes
``compute_curve_runs.tsv`` (one row per run), ``compute_curve.tsv`` (mean, min and max
over seeds per method and budget, training CPU-hours), ``claims.tsv`` (the method's
claims per budget, met only when they hold for every seed) and ``compute_curve.png``
(h2 of each BAG against training CPU-hours, the seeds' range as error bars, FS-BAG and,
labelled, the demo's oracle ceiling as horizontal lines).

Runs already trained in OUT are reused, so the benchmark resumes. About 12 minutes of 2
cores per 3 + 3-epoch run on the demo cohort (3,200 subjects): the default grid (3 seeds
x (3 R-NCE budgets + 2 x 2 baseline points)) is about 9 hours.

Usage: python benchmarks/rnce_compute_curve.py DEMO_DIR OUT [--budgets 3 10 30]
       [--seeds 0 1 2] [--baselines simclr barlow] [--config configs/ssl/demo.yaml]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from ssl_eval import ROOT, Run, evaluate, markdown, oracle_h2, train_and_embed

SUMMARY = ["R2_fs", "mae", "h2", "rg_fs", "auc_ad_vs_cn", "auc_conversion_2y",
           "auc_conversion_3y", "auc_amyloid", "train_cpu_hours"]


def plan(budgets: list[float], seeds: list[int], baselines: list[str], out: Path
         ) -> list[Run]:
    """The runs: R-NCE at every budget, each baseline at the smallest and largest."""
    ends = sorted({min(budgets), max(budgets)})
    grid = [("rnce", b) for b in budgets] + [(m, b) for m in baselines for b in ends]
    return [Run(f"{m.upper()}_E{b:g}_S{s}", m,
                (f"stage1.epochs={b}", f"stage2.epochs={b}", f"seed={s}"),
                out / "runs" / f"{m}_e{b:g}_s{s}")
            for m, b in grid for s in seeds]


def summarise(runs_table: pd.DataFrame) -> pd.DataFrame:
    """Mean, min and max over seeds per method and budget."""
    t = runs_table[runs_table.representation != "FS"].copy()
    t["budget"] = t.representation.str.extract(r"_E([0-9.]+)_S")[0].astype(float)
    g = t.groupby(["method", "budget"])[SUMMARY]
    out = g.mean().add_suffix("_mean").join(g.min().add_suffix("_min")).join(
        g.max().add_suffix("_max"))
    out["seeds"] = g.size()
    return out.reset_index()


def claims(runs_table: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """The method's claims per method and budget: met only if true for every seed."""
    fs = runs_table[runs_table.representation == "FS"].iloc[0]
    t = runs_table[runs_table.representation != "FS"].copy()
    t["budget"] = t.representation.str.extract(r"_E([0-9.]+)_S")[0].astype(float)
    rows = []
    for (method, budget), g in t.groupby(["method", "budget"]):
        if method == "rnce":
            tests = {
                "R-NCE-BAG at least as heritable as FS-BAG": g.h2 >= fs.h2,
                "R-NCE above FreeSurfer on conversion 2 y (DeLong p < 0.05)":
                    (g.auc_conversion_2y > fs.auc_conversion_2y) & (g.p_conversion_2y < alpha),
            }
        else:
            tests = {f"{method} below FreeSurfer on {task} (DeLong p < 0.05)":
                     (g[f"auc_{task}"] < fs[f"auc_{task}"]) & (g[f"p_{task}"] < alpha)
                     for task in ("ad_vs_cn", "conversion_2y", "amyloid")}
        for claim, ok in tests.items():
            rows.append({"method": method, "budget": budget, "claim": claim,
                         "seeds_holding": int(ok.sum()), "seeds": len(g),
                         "met": "met" if bool(ok.all()) else "not met"})
    return pd.DataFrame(rows)


def figure(summary: pd.DataFrame, fs_h2: float, oracle: float | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method, g in summary.groupby("method"):
        g = g.sort_values("train_cpu_hours_mean")
        x, y = g.train_cpu_hours_mean, g.h2_mean
        ax.errorbar(x, y, yerr=[y - g.h2_min, g.h2_max - y], marker="o", capsize=4,
                    label=f"{method}-BAG (mean, range over {int(g.seeds.max())} seeds)")
        for _, r in g.iterrows():
            ax.annotate(f"{r.budget:g}+{r.budget:g}", (r.train_cpu_hours_mean, r.h2_mean),
                        textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.axhline(fs_h2, color="k", ls="--", label=f"FS-BAG ({fs_h2:.2f})")
    if oracle is not None:
        ax.axhline(oracle, color="grey", ls=":",
                   label=f"oracle ceiling, from the planted signal ({oracle:.2f})")
    ax.set_xscale("log")
    ax.set_xlabel("training CPU-hours (epochs per stage annotated)")
    ax.set_ylabel("SNP heritability of the BAG (GREML)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("demo", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--budgets", type=float, nargs="+", default=[3.0, 10.0, 30.0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--baselines", nargs="*", default=["simclr", "barlow"])
    ap.add_argument("--config", type=Path, default=ROOT / "configs" / "ssl" / "demo.yaml")
    args = ap.parse_args()
    runs = plan(args.budgets, args.seeds, args.baselines, args.out)
    for run in runs:
        train_and_embed(run, args.demo, args.config)
    epochs = {r.name: float(r.sets[0].split("=")[1]) for r in runs}
    table = evaluate(runs, args.demo, args.out / "eval", epochs)
    table.to_csv(args.out / "compute_curve_runs.tsv", sep="\t", index=False)
    summary = summarise(table)
    summary.to_csv(args.out / "compute_curve.tsv", sep="\t", index=False)
    verdicts = claims(table)
    verdicts.to_csv(args.out / "claims.tsv", sep="\t", index=False)
    fs_h2 = float(table.loc[table.representation == "FS", "h2"].iloc[0])
    figure(summary, fs_h2, oracle_h2(args.demo), args.out / "compute_curve.png")
    print(markdown(summary))
    print()
    print(markdown(verdicts))


if __name__ == "__main__":
    main()
