"""``rnce-bag brain-age``: one bias-corrected Brain Age Gap per representation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app
from cli.options import SetOption


@app.command("brain-age")
def brain_age(
    manifest: Annotated[Path, typer.Option("--manifest", help="Cohort manifest (IID, FID, age, "
                                           "sex, site, diagnosis, ...).")],
    features: Annotated[list[str], typer.Option("--features", help="NAME=PATH of a "
                                                "representation: FreeSurfer features or "
                                                "embeddings (repeatable); NAME=A+B "
                                                "concatenates representations A and B.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    config: Annotated[Path | None, typer.Option("--config", help="YAML (configs/brainage/).")]
    = None,
    set_: SetOption = None,
) -> None:
    """Cross-fitted, bias-corrected brain age -> bag.tsv, GWAS phenotype files, metrics.

    Writes bag.tsv/bag.parquet (IID age pred_<rep> bag_<rep> fold), pheno.tsv and
    covar.tsv (PLINK 2), bag.phen/.qcovar/.covar (GCTA), metrics.json,
    figure_data.tsv and run.json.
    """
    from rnce_bag.core.stage import make_params
    from rnce_bag.stages import BrainAgeParams, run_brain_age

    run_brain_age(make_params(BrainAgeParams, out=out, manifest=manifest, features=features,
                              config=config, overrides=set_ or []), echo=typer.echo)


def _describe(train_filter: dict[str, list[str]]) -> str:
    return ", ".join(f"{k} in {'/'.join(v)}" for k, v in train_filter.items()) or "everyone"
