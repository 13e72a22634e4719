"""``rnce-bag oracle``: ORACLE rows for a simulated cohort, labelled as such.

What a perfect image encoder could add to FreeSurfer, through the real commands
(``brain-age``, ``probe``, ``gwas``, ``h2``, ``rg``), on a ``rnce-bag simulate`` cohort.
This is the one command that reads the simulator's ``truth/`` (the rendered white-matter
signal that FreeSurfer's stats do not contain): its rows are the ceiling the learned
representations are measured against, never an input of training, model selection or any
other stage. Three BAGs:

- ``FS``: FreeSurfer features (what the product computes);
- ``ORACLE_FS_HIDDEN``: FreeSurfer features + the true hidden signal (the ideal image
  representation: everything FreeSurfer measures and what it misses);
- ``ORACLE_HIDDEN``: the true hidden signal alone.

The output folder is laid out like a study run (``brain_age/``, ``probe/``, ``gwas/``,
``h2/``, ``rg_*``), so :func:`gwas.headline.headline_table` reads it as it reads the study.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.app import app

REPS = ("FS", "ORACLE_FS_HIDDEN", "ORACLE_HIDDEN")


def _cli(*args: str) -> None:
    """Run one rnce-bag command in a child process (each returns its memory, as in a study)."""
    from rnce_bag.core.errors import StageError

    proc = subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise StageError(f"oracle: 'rnce-bag {args[0]}' failed (exit {proc.returncode}): "
                         f"{(proc.stdout + proc.stderr).strip()[-1500:]}")


def oracle_tables(cohort: Path, out: Path, features: Path | None = None) -> dict[str, Path]:
    """Feature tables: FS (given, or by ``rnce-bag features``) and the two oracle ones."""
    import numpy as np
    import pandas as pd

    from rnce_bag.core.io import atomic_path
    from rnce_bag.core.schema import read_table

    out.mkdir(parents=True, exist_ok=True)
    fs_path = features or out / "features" / "features.parquet"
    if not fs_path.exists():
        _cli("features", "--manifest", str(cohort / "cohort.tsv"), "--out",
             str(out / "features"))
    fs = read_table(fs_path)
    truth = read_table(cohort / "truth" / "latent.tsv").set_index("IID")
    hidden = truth.loc[fs["IID"].astype(str), "hidden_signal"].astype(float).to_numpy()
    feats = fs.drop(columns=["IID"]).to_numpy(dtype=float)
    both = pd.DataFrame(np.column_stack([feats, hidden]),
                        columns=[f"z{i}" for i in range(feats.shape[1] + 1)])
    both.insert(0, "IID", fs["IID"].to_numpy())
    alone = pd.DataFrame({"IID": fs["IID"].to_numpy(), "z0": hidden})
    paths = {"FS": fs_path, "ORACLE_FS_HIDDEN": out / "oracle_fs_hidden.parquet",
             "ORACLE_HIDDEN": out / "oracle_hidden.parquet"}
    for name, table in (("ORACLE_FS_HIDDEN", both), ("ORACLE_HIDDEN", alone)):
        with atomic_path(paths[name]) as tmp:
            table.to_parquet(tmp, index=False)
    return paths


def run_oracle(cohort: Path, out: Path, features: Path | None = None, grm: str | None = None,
               threads: int = 2, probes: bool = True,
               progress=lambda msg: None) -> None:
    """Every stage on the oracle representations, into ``out`` (a study-like layout)."""
    paths = oracle_tables(cohort, out, features)
    reps = [x for name in REPS for x in ("--features", f"{name}={paths[name]}")]
    manifest = str(cohort / "cohort.tsv")
    bfile = str(cohort / "genotypes" / "cohort")
    progress("brain-age")
    _cli("brain-age", "--manifest", manifest, *reps, "--out", str(out / "brain_age"))
    if probes:
        progress("probe")
        _cli("probe", "--manifest", manifest, *reps, "--out", str(out / "probe"))
    pheno = str(out / "brain_age" / "pheno.tsv")
    progress("gwas")
    _cli("gwas", "--bfile", bfile, "--pheno", pheno, "--covar",
         str(out / "brain_age" / "covar.tsv"), "--engine", "plink2", "--threads", str(threads),
         "--out", str(out / "gwas"))
    covar = str(out / "gwas" / "covariates.tsv")
    progress("h2")
    _cli("h2", *(["--grm", grm] if grm else ["--bfile", bfile]), "--pheno", pheno, "--covar",
         covar, "--grm-cutoff", "0", "--out", str(out / "h2"))
    grm = grm or str(out / "h2" / "grm")
    for other in REPS[1:]:
        progress(f"rg FS x {other}")
        _cli("rg", "--grm", grm, "--pheno", pheno, "--pheno-name", f"BAG_FS,BAG_{other}",
             "--covar", covar, "--grm-cutoff", "0", "--out", str(out / f"rg_{other.lower()}"))


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
    from gwas.headline import headline_table
    from rnce_bag.core.errors import InputError
    from rnce_bag.core.io import write_table
    from rnce_bag.core.outdir import staged_run

    if not (cohort / "truth" / "latent.tsv").is_file():
        raise InputError(f"{cohort}: no truth/latent.tsv; the oracle needs a cohort written "
                         "by 'rnce-bag simulate'", hint="real cohorts have no oracle rows")
    # staged: an interrupted or failed run leaves no half-written oracle rows in --out
    with staged_run(out, "oracle", config={"probes": probes}, tools=()) as (stage, record):
        run_oracle(cohort, stage, features, grm, threads, probes,
                   progress=lambda msg: typer.echo(f"- oracle: {msg}", err=True))
        table = headline_table(stage)
        write_table(table, stage / "oracle.tsv")
        record.add_output(stage / "oracle.tsv")
    for _, r in table.iterrows():
        label = "" if r["representation"] == "FS" else " (ORACLE: reads truth)"
        typer.echo(f"BAG_{r['representation']}{label}: MAE {r['mae']:.2f}, h2 {r['h2']:.3f} "
                   f"({r['h2_se']:.3f})")
