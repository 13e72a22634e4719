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
    from gwas.report import build_report

    page = build_report(run, out)
    typer.echo(f"report: {page}")


@app.command()
def compare(
    run: Annotated[Path, typer.Option("--run", help="Run folder.")],
    a: Annotated[str, typer.Option("--a", help="First BAG phenotype, e.g. BAG_FS.")],
    b: Annotated[str, typer.Option("--b", help="Second BAG phenotype, e.g. BAG_RNCE.")],
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default "
                                             "RUN/compare).")] = None,
) -> None:
    """Miami plot, shared and unique loci, h2, rg, lambda GC and probe AUCs of two BAGs."""
    import json

    from gwas.report import build_report, collect, compare_bags
    from rnce_bag.core.errors import InputError
    from rnce_bag.core.io import ensure_writable_dir, write_text

    if a == b:
        raise InputError(f"--a and --b are both {a!r}: a comparison needs two different "
                         "phenotypes", hint="e.g. --a BAG_FS --b BAG_RNCE")
    dest = ensure_writable_dir(out or run / "compare")
    result = compare_bags(collect(run), a, b, ensure_writable_dir(dest / "figures"))
    write_text(dest / "compare.json", json.dumps(result, indent=2, default=str) + "\n")
    page = build_report(run, dest, compare=(a, b))
    for r in result["rows"]:
        typer.echo(f"{r['quantity']}: {a} {r[a]} | {b} {r[b]} | {r['difference']}")
    typer.echo(f"report with the comparison: {page}")
