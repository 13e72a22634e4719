"""Entry point of ``rnce-bag`` (console script ``cli.main:app``).

Importing this module must stay cheap: no torch, no hail (tested). Each command
module registers itself on :data:`cli.app.app` when imported below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app, version_string
from rnce_bag.core.logging import configure_logging
from rnce_bag.core.threads import prefer_passive_waiting

prefer_passive_waiting()  # torch's threads wait without spinning (rnce_bag.core.threads)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(version_string())
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")]
    = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True,
                                         help="More log output (-v info, -vv debug).")] = 0,
    log_file: Annotated[Path | None, typer.Option("--log-file", help="Also write a full log "
                                                  "to this file.", dir_okay=False)] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version_callback,
                                          is_eager=True, help="Print the version and exit.")]
    = False,
) -> None:
    """rnce-bag: brain MRI to genetic findings."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    configure_logging(verbose=verbose, debug=debug, log_file=log_file)


# Command modules register themselves on `app`; keep their heavy imports inside functions.
from cli import (  # noqa: E402,F401
    brain_age_cmd,
    config_cmd,
    doctor,
    enrich_cmd,
    features_cmd,
    gwas_cmd,
    h2_cmd,
    manifest_cmd,
    oracle_cmd,
    probe_cmd,
    register_cmd,
    report_cmd,
    rg_cmd,
    run_cmd,
    simulate_cmd,
    stage_cmd,
    train_cmd,
)

__all__ = ["app"]
