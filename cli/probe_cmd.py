"""``rnce-bag probe``: linear probes of representations on the clinical tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app


@app.command()
def probe(
    manifest: Annotated[Path, typer.Option("--manifest", help="Cohort manifest with diagnosis, "
                                           "conversion_years and amyloid.")],
    features: Annotated[list[str], typer.Option("--features", help="NAME=PATH of a "
                                                "representation (repeatable); NAME=A+B "
                                                "concatenates representations A and B.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    task: Annotated[list[str] | None, typer.Option("--task", help="ad_vs_cn, conversion_2y, "
                                                   "conversion_3y, amyloid (default: all).")]
    = None,
    seed: Annotated[int, typer.Option(help="Seed of the cross-validation folds.")] = 0,
) -> None:
    """AD vs CN, MCI conversion (2 y, 3 y) and amyloid: nested-CV logistic probes.

    Writes probe.tsv (AUC, 95% DeLong CI, balanced accuracy), probe_pairs.tsv (DeLong
    paired tests between representations), probe_predictions.parquet and run.json.
    """
    from rnce_bag.core.io import atomic_path, ensure_writable_dir, write_table
    from rnce_bag.core.provenance import RunRecord
    from rnce_bag.core.schema import read_table
    from rnce_bag.probes import TASKS
    from rnce_bag.probes import probe as run_probe
    from rnce_bag.representations import (
        load_representation,
        parse_representation_args,
        source_paths,
    )

    tasks = tuple(task or TASKS)
    bad = [t for t in tasks if t not in TASKS]
    if bad:
        raise typer.BadParameter(f"unknown task {bad[0]!r}; choose from {', '.join(TASKS)}",
                                 param_hint="--task")
    reps = parse_representation_args(features)
    man = read_table(manifest, "cohort")
    ensure_writable_dir(out)
    with RunRecord(out, "probe", config={"tasks": list(tasks)}, seeds={"seed": seed},
                   inputs=[manifest, *source_paths(reps)], tools=()) as record:
        arrays = {name: load_representation(name, path, man["IID"])[0]
                  for name, path in reps.items()}
        scores, pairs, preds = run_probe(man, arrays, tasks, seed=seed)
        for name, df in (("probe.tsv", scores), ("probe_pairs.tsv", pairs)):
            write_table(df, out / name)
            record.add_output(out / name)
        with atomic_path(out / "probe_predictions.parquet") as tmp:
            preds.to_parquet(tmp, index=False)
    for _, r in scores.iterrows():
        typer.echo(f"{r['task']:<14} {r['representation']:<8} AUC {r['auc']:.3f} "
                   f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]  bal.acc {r['balanced_accuracy']:.3f}"
                   f"  (n={r['n']}, {r['n_pos']} positive)")
    for _, r in pairs.iterrows():
        typer.echo(f"{r['task']:<14} {r['rep_a']} - {r['rep_b']}: dAUC {r['auc_diff']:+.3f}, "
                   f"DeLong p = {r['p_delong']:.3g}")
