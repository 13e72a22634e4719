"""``rnce-bag stage --params FILE``: one stage from its params JSON (what the pipeline's
child processes run; see :mod:`rnce_bag.core.stage`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app


@app.command(hidden=True)
def stage(
    params: Annotated[Path, typer.Option("--params", help='JSON: {"kind": ..., "params": '
                                         '{...}} (written by the pipeline).')],
) -> None:
    """Run one stage function with the params in FILE (the pipeline's child process)."""
    from pipeline.registry import run_params_file

    run_params_file(params, echo=typer.echo)
