"""``rnce-bag report`` and ``rnce-bag compare``: the HTML page of a run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app


@app.command()
def report(
    run: Annotated[Path, typer.Option("--run", help="Run folder holding the stages' outputs.")],
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default "
                                             "RUN/report).")] = None,
) -> None:
    """One self-contained HTML page (index.html + figures/) for everything in the run."""
    from report.stages import ReportParams, run_report
    from rnce_bag.core.stage import make_params

    run_report(make_params(ReportParams, out=out or run / "report", run=run), echo=typer.echo)


@app.command()
def compare(
    run: Annotated[Path, typer.Option("--run", help="Run folder.")],
    a: Annotated[str, typer.Option("--a", help="First BAG phenotype, e.g. BAG_FS.")],
    b: Annotated[str, typer.Option("--b", help="Second BAG phenotype, e.g. BAG_RNCE.")],
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default "
                                             "RUN/compare).")] = None,
) -> None:
    """Miami plot, shared and unique loci, h2, rg, lambda GC and probe AUCs of two BAGs."""
    from report.stages import CompareParams, run_compare
    from rnce_bag.core.stage import make_params

    run_compare(make_params(CompareParams, out=out or run / "compare", run=run, a=a, b=b),
                echo=typer.echo)
