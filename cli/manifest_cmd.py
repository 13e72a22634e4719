"""``rnce-bag manifest``: cohort.tsv from a FreeSurfer SUBJECTS_DIR and/or a BIDS dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app


@app.command()
def manifest(
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    subjects_dir: Annotated[Path | None, typer.Option("--subjects-dir", help="FreeSurfer's "
                                                      "SUBJECTS_DIR: one folder per subject "
                                                      "with stats/ and mri/.")] = None,
    bids: Annotated[Path | None, typer.Option("--bids", help="BIDS dataset root: sub-*/"
                                              "[ses-*/]anat/*_T1w.nii.gz, participants.tsv "
                                              "(age, sex).")] = None,
    session: Annotated[str | None, typer.Option("--session", help="BIDS session label to "
                                                "take (default: the first).")] = None,
) -> None:
    """Build the cohort manifest (cohort.tsv) that features, register and train read.

    Subjects are matched by label across the two sources (sub-01 = 01); each row lists
    what is missing for it (column 'missing'). Writes cohort.tsv and manifest_report.json.
    """
    from rnce_bag.core.stage import make_params
    from rnce_bag.stages import ManifestParams, run_manifest

    run_manifest(make_params(ManifestParams, out=out, subjects_dir=subjects_dir, bids=bids,
                             session=session), echo=typer.echo)
