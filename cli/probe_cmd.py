"""``rnce-bag probe``: linear probes of representations on the clinical tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app


@app.command()
def probe(
    manifest: Annotated[Path, typer.Option("--manifest", help="Cohort manifest with age, sex, "
                                           "diagnosis, conversion_years and amyloid; optional "
                                           "clinical (0/1: the tasks use the clinical subset "
                                           "only) and followup_years (non-converters followed "
                                           "for less than a horizon are censored).")],
    features: Annotated[list[str], typer.Option("--features", help="NAME=PATH of a "
                                                "representation (repeatable); NAME=A+B "
                                                "concatenates representations A and B.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    task: Annotated[list[str] | None, typer.Option("--task", help="ad_vs_cn, conversion_2y, "
                                                   "conversion_3y, amyloid (default: all).")]
    = None,
    seed: Annotated[int, typer.Option(help="Seed of the cross-validation folds.")] = 0,
    pca_dims: Annotated[int, typer.Option(help="FS (when wider than this) also gets a "
                                          "row reduced to this many principal components "
                                          "fitted inside the CV folds (FS-64); 0: none.")] = 64,
) -> None:
    """AD vs CN, MCI conversion (2 y, 3 y) and amyloid: nested-CV logistic probes.

    ADNI-style: on the clinical subset, with an age + sex only row (AGE_SEX) in every
    table. Writes probe.tsv (AUC, 95% DeLong CI, balanced accuracy, mean age per class),
    probe_pairs.tsv (DeLong paired tests between representations, Holm-adjusted over the
    table), probe_predictions.parquet and run.json.
    """
    from rnce_bag.core.stage import make_params
    from rnce_bag.stages import ProbeParams, run_probe

    run_probe(make_params(ProbeParams, out=out, manifest=manifest, features=features,
                          tasks=task, seed=seed, pca_dims=pca_dims), echo=typer.echo)
