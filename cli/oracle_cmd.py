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
    out: Annotated[Path, typer.Option("--out", help="Output directory (a run of the "
                                      "oracle's stages, cached: a rerun reuses them).")],
    features: Annotated[Path | None, typer.Option("--features", help="FreeSurfer features of "
                                                  "the cohort (default: computed).")] = None,
    grm: Annotated[str | None, typer.Option("--grm", help="GRM prefix of the cohort "
                                            "(default: computed).")] = None,
    threads: Annotated[int, typer.Option(min=1, help="Threads for PLINK 2.")] = 2,
    probes: Annotated[bool, typer.Option(help="Also the clinical probes.")] = True,
) -> None:
    """ORACLE rows of a simulated cohort: BAGs from FreeSurfer + the true hidden signal.

    Reads the simulator's truth/ (validation only: the ceiling a learned encoder is
    measured against). Runs the oracle's stages as a study runs its own (cached,
    resumable): oracle_features, oracle_brain_age, oracle_probe, oracle_gwas, oracle_h2,
    oracle_rg_*; oracle/oracle.tsv lines them up.
    """
    from pipeline.oracle import run_oracle

    table = run_oracle(cohort.resolve(), out, features=features, grm=grm, threads=threads,
                       probes=probes, echo=typer.echo)
    for _, r in table.iterrows():
        label = "" if r["representation"] == "FS" else " (ORACLE: reads truth)"
        typer.echo(f"BAG_{r['representation']}{label}: MAE {r['mae']:.2f}, "
                   f"h2 {r['h2']:.3f} ({r['h2_se']:.3f})")
