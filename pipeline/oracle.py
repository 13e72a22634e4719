"""ORACLE rows for a simulated cohort, labelled as such (``rnce-bag oracle``).

What a perfect image encoder could add to FreeSurfer, through the real stages
(brain-age, probe, gwas, h2, rg, each in a child process as in a study), on a
``rnce-bag simulate`` cohort. This is the one stage that reads the simulator's
``truth/`` (the rendered white-matter signal that FreeSurfer's stats do not contain):
its rows are the ceiling the learned representations are measured against, never an
input of training, model selection or any other stage. Three BAGs:

- ``FS``: FreeSurfer features (what the product computes);
- ``ORACLE_FS_HIDDEN``: FreeSurfer features + the true hidden signal (the ideal image
  representation: everything FreeSurfer measures and what it misses);
- ``ORACLE_HIDDEN``: the true hidden signal alone.

The output folder is laid out like a study run (``brain_age/``, ``probe/``, ``gwas/``,
``h2/``, ``rg_*``), so :func:`report.headline.headline_table` reads it as it reads a study.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import Field

from gwas.stages import GWAS, H2
from rnce_bag.core.errors import InputError, StageError
from rnce_bag.core.outputs import Output, StageSpec, output_path, write_output
from rnce_bag.core.stage import Echo, Outputs, StageParams, silent
from rnce_bag.stages import BRAIN_AGE, FEATURES, SIMULATE

REPS = ("FS", "ORACLE_FS_HIDDEN", "ORACLE_HIDDEN")


def _child(kind: str, params: StageParams, params_dir: Path) -> None:
    """Run one stage in a child process (each returns its memory, as in a study)."""
    from pipeline.runner import run_child

    proc = run_child(kind, params, params_dir / f"{kind}_{params.out.name}.json", capture=True)
    if proc.returncode != 0:
        raise StageError(f"oracle: stage '{kind}' failed (exit {proc.returncode}): "
                         f"{(proc.stdout + proc.stderr).strip()[-1500:]}")


def oracle_tables(cohort: Path, out: Path, features: Path | None = None) -> dict[str, Path]:
    """Feature tables: FS (given, or by the features stage) and the two oracle ones."""
    import numpy as np
    import pandas as pd

    from rnce_bag.core.io import atomic_path
    from rnce_bag.core.schema import read_table
    from rnce_bag.stages import FeaturesParams

    out.mkdir(parents=True, exist_ok=True)
    fs_path = features or output_path(FEATURES, "features", out / "features")
    if not fs_path.exists():
        _child("features", FeaturesParams(out=out / "features", manifest=output_path(
            SIMULATE, "manifest", cohort)), out / ".params")
    fs = read_table(fs_path)
    truth = read_table(output_path(SIMULATE, "truth_latent", cohort)).set_index("IID")
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
               progress: Callable[[str], None] = silent) -> None:
    """Every stage on the oracle representations, into ``out`` (a study-like layout)."""
    from gwas.stages import GwasParams, H2Params, RgParams
    from rnce_bag.stages import BrainAgeParams, ProbeParams

    paths = oracle_tables(cohort, out, features)
    reps = [f"{name}={paths[name]}" for name in REPS]
    manifest = output_path(SIMULATE, "manifest", cohort)
    bfile = str(output_path(SIMULATE, "bfile", cohort))
    params_dir = out / ".params"
    progress("brain-age")
    _child("brain_age", BrainAgeParams(out=out / "brain_age", manifest=manifest,
                                       features=reps), params_dir)
    if probes:
        progress("probe")
        _child("probe", ProbeParams(out=out / "probe", manifest=manifest, features=reps),
               params_dir)
    pheno = output_path(BRAIN_AGE, "pheno", out / "brain_age")
    progress("gwas")
    _child("gwas", GwasParams(out=out / "gwas", bfile=bfile, pheno=pheno,
                              covar=output_path(BRAIN_AGE, "covar", out / "brain_age"),
                              threads=threads, overrides=["engine=plink2"]), params_dir)
    covar = output_path(GWAS, "covariates", out / "gwas")
    progress("h2")
    source = {"grm": grm} if grm else {"bfile": bfile}
    _child("h2", H2Params(out=out / "h2", **source, pheno=pheno, covar=covar, grm_cutoff=0),
           params_dir)
    grm = grm or str(output_path(H2, "grm", out / "h2"))
    for other in REPS[1:]:
        progress(f"rg FS x {other}")
        _child("rg", RgParams(out=out / f"rg_{other.lower()}", grm=grm, pheno=pheno,
                              pheno_name=["BAG_FS", f"BAG_{other}"], covar=covar,
                              grm_cutoff=0), params_dir)


class OracleParams(StageParams):
    """The ORACLE rows of a simulated cohort (reads its truth/: validation only)."""

    cohort: Path = Field(description="a 'rnce-bag simulate' folder")
    features: Path | None = None
    grm: str | None = None
    threads: int = Field(2, ge=1)
    probes: bool = True


def run_oracle_stage(params: OracleParams, echo: Echo = silent) -> Outputs:
    """``brain_age/``, ``probe/``, ``gwas/``, ``h2/``, ``rg_*/`` and ``oracle.tsv``."""
    from report.headline import headline_table
    from rnce_bag.core.outdir import staged_run

    if not output_path(SIMULATE, "truth_latent", params.cohort).is_file():
        raise InputError(f"{params.cohort}: no truth/latent.tsv; the oracle needs a cohort "
                         "written by 'rnce-bag simulate'",
                         hint="real cohorts have no oracle rows")
    # staged: an interrupted or failed run leaves no half-written oracle rows in out
    with staged_run(params.out, "oracle", config={"probes": params.probes},
                    tools=()) as (stage, record):
        run_oracle(params.cohort, stage, params.features, params.grm, params.threads,
                   params.probes, progress=lambda msg: echo(f"- oracle: {msg}"))
        table = headline_table(stage)
        write_output(ORACLE, "oracle", table, stage)
        record.add_output(output_path(ORACLE, "oracle", stage))
    for _, r in table.iterrows():
        label = "" if r["representation"] == "FS" else " (ORACLE: reads truth)"
        echo(f"BAG_{r['representation']}{label}: MAE {r['mae']:.2f}, h2 {r['h2']:.3f} "
             f"({r['h2_se']:.3f})")
    return {"oracle": output_path(ORACLE, "oracle", Path(params.out))}


ORACLE = StageSpec("oracle", {
    "oracle": Output("oracle.tsv", None),
}, OracleParams, run_oracle_stage)
