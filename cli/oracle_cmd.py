"""``rnce-bag oracle``: ORACLE rows for a simulated cohort (see :mod:`pipeline.oracle`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app


@app.command()
def oracle(
    cohort: Annotated[Path, typer.Option("--cohort", help="A 'rnce-bag simulate' folder "
                                         "(its truth/ is read: ORACLE rows).")],
    out: Annotated[Path, typer.Option("--out", help="Output directory (study-like layout).")],
    features: Annotated[Path | None, typer.Option("--features", help="FreeSurfer features of "
                                                  "the cohort (default: computed).")] = None,
    grm: Annotated[str | None, typer.Option("--grm", help="GRM prefix of the cohort "
                                            "(default: computed).")] = None,
    threads: Annotated[int, typer.Option(min=1, help="Threads for PLINK 2.")] = 2,
    probes: Annotated[bool, typer.Option(help="Also the clinical probes.")] = True,
) -> None:
    """ORACLE rows of a simulated cohort: BAGs from FreeSurfer + the true hidden signal.

    Reads the simulator's truth/ (validation only: the ceiling a learned encoder is
    measured against). Writes brain_age/, probe/, gwas/, h2/, rg_*/ and oracle.tsv.
    """
    from pipeline.oracle import OracleParams, run_oracle_stage
    from rnce_bag.core.stage import make_params

    run_oracle_stage(make_params(OracleParams, out=out, cohort=cohort, features=features,
                                 grm=grm, threads=threads, probes=probes), echo=typer.echo)
