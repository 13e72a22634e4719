"""``rnce-bag features``: FreeSurfer stats of a cohort -> features.parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app


@app.command()
def features(
    manifest: Annotated[Path, typer.Option("--manifest", help="Cohort manifest (TSV/CSV/"
                                           "Parquet) with IID and freesurfer_dir.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    atlas: Annotated[list[str] | None, typer.Option("--atlas", help="Cortical atlas: aparc "
                                                    "(default), aparc.a2009s, aparc.DKTatlas; "
                                                    "repeatable.")] = None,
    icv_normalise: Annotated[bool, typer.Option("--icv-normalise", help="Divide volumes and "
                                                "areas by eTIV.")] = False,
    skip_missing: Annotated[bool, typer.Option("--skip-missing", help="Skip and list subjects "
                                               "without stats instead of failing.")] = False,
) -> None:
    """Read aseg and aparc stats of every subject into features.parquet.

    Writes features.parquet (IID, aseg.<s>.volume, <atlas>.<hemi>.<region>.thickness|area|
    volume, global.<measure>, eTIV), features_report.json and run.json.
    """
    from rnce_bag.core.stage import make_params
    from rnce_bag.stages import FeaturesParams, run_features

    run_features(make_params(FeaturesParams, out=out, manifest=manifest,
                             atlases=atlas or ["aparc"], icv_normalise=icv_normalise,
                             skip_missing=skip_missing), echo=typer.echo)
