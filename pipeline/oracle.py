"""ORACLE rows for a simulated cohort, labelled as such (``rnce-bag oracle``).

What a perfect image encoder could add to FreeSurfer, through the real stages, on a
``rnce-bag simulate`` cohort. ``oracle_features`` is the one stage that reads the
simulator's ``truth/`` (the rendered white-matter signal that FreeSurfer's stats do not
contain); its tables go through ordinary ``brain_age``, ``probe``, ``gwas``, ``h2`` and
``rg`` stages, planned, cached and resumed like a study's others (:func:`oracle_stages`).
Their rows are the ceiling the learned representations are measured against, never an
input of training, model selection or any other stage. Three BAGs:

- ``FS``: FreeSurfer features (what the product computes);
- ``ORACLE_FS_HIDDEN``: FreeSurfer features + the true hidden signal (the ideal image
  representation: everything FreeSurfer measures and what it misses);
- ``ORACLE_HIDDEN``: the true hidden signal alone.

The stages write into ``<root>/oracle_<stage>`` folders beside a study's own (or of a
``rnce-bag oracle`` run), and the ``oracle`` stage lines them up in ``oracle/oracle.tsv``
(:func:`report.headline.headline_table` with the :data:`PREFIX`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import Field

from gwas.stages import GWAS, H2
from report.headline import ORACLE_PREFIX
from rnce_bag.core.errors import InputError
from rnce_bag.core.outputs import Output, StageSpec, output_path, write_output
from rnce_bag.core.stage import Echo, Outputs, StageParams, silent
from rnce_bag.stages import BRAIN_AGE, FEATURES, SIMULATE

REPS = ("FS", "ORACLE_FS_HIDDEN", "ORACLE_HIDDEN")
#: folder prefix of the oracle's stages in a run (``oracle_brain_age``, ``oracle_h2``, ...;
#: the report reads them by it)
PREFIX = ORACLE_PREFIX
#: representation -> output of the ``oracle_features`` stage
TABLE_OUTPUTS = {"ORACLE_FS_HIDDEN": "fs_hidden", "ORACLE_HIDDEN": "hidden"}


def oracle_tables(fs: pd.DataFrame, latent: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The two oracle representations of the subjects of ``fs``.

    Parameters
    ----------
    fs : DataFrame, shape (n, 1 + p)
        FreeSurfer features: ``IID`` and ``p`` measures.
    latent : DataFrame
        The simulator's ``truth/latent.tsv`` (``IID``, ``hidden_signal``, ...).

    Returns
    -------
    dict
        ``ORACLE_FS_HIDDEN``: shape (n, 1 + p + 1), ``IID z0..z{p}`` (the measures and
        the hidden signal); ``ORACLE_HIDDEN``: shape (n, 2), ``IID z0``.
    """
    import numpy as np

    truth = latent.set_index("IID")
    ids = fs["IID"].astype(str)
    missing = sorted(set(ids) - set(truth.index.astype(str)))
    if missing:
        raise InputError(f"truth/latent.tsv has no row for {len(missing)} subject(s) of the "
                         f"features, e.g. {missing[0]}",
                         hint="give the features of this simulated cohort")
    truth.index = truth.index.astype(str)
    hidden = truth.loc[ids, "hidden_signal"].astype(float).to_numpy()
    feats = fs.drop(columns=["IID"]).to_numpy(dtype=float)
    both = pd.DataFrame(np.column_stack([feats, hidden]),
                        columns=[f"z{i}" for i in range(feats.shape[1] + 1)])
    both.insert(0, "IID", fs["IID"].to_numpy())
    alone = pd.DataFrame({"IID": fs["IID"].to_numpy(), "z0": hidden})
    return {"ORACLE_FS_HIDDEN": both, "ORACLE_HIDDEN": alone}


def check_simulated(cohort: Path) -> None:
    """Refuse a cohort without the simulator's truth (a real cohort has no oracle)."""
    if not output_path(SIMULATE, "truth_latent", cohort).is_file():
        raise InputError(f"{cohort}: no truth/latent.tsv; the oracle needs a cohort "
                         "written by 'rnce-bag simulate'",
                         hint="real cohorts have no oracle rows")


class OracleFeaturesParams(StageParams):
    """The oracle representations of a simulated cohort (reads its truth/: validation
    only)."""

    cohort: Path = Field(description="a 'rnce-bag simulate' folder")
    features: Path = Field(description="the cohort's FreeSurfer features")


def run_oracle_features(params: OracleFeaturesParams, echo: Echo = silent) -> Outputs:
    """``oracle_fs_hidden.parquet`` and ``oracle_hidden.parquet``."""
    from rnce_bag.core.outdir import staged_run
    from rnce_bag.core.schema import read_table

    check_simulated(params.cohort)
    latent = output_path(SIMULATE, "truth_latent", params.cohort)
    with staged_run(params.out, "oracle_features", inputs=[params.features, latent],
                    tools=()) as (stage, record):
        tables = oracle_tables(read_table(params.features), read_table(latent))
        for rep, name in TABLE_OUTPUTS.items():
            record.add_output(write_output(ORACLE_FEATURES, name, tables[rep], stage))
    echo("- oracle: FreeSurfer features + the true hidden signal (ORACLE: reads truth)")
    return {name: output_path(ORACLE_FEATURES, name, Path(params.out))
            for name in TABLE_OUTPUTS.values()}


ORACLE_FEATURES = StageSpec("oracle_features", {
    "fs_hidden": Output("oracle_fs_hidden.parquet", "embeddings",
                        "ORACLE: FreeSurfer features + the true hidden signal"),
    "hidden": Output("oracle_hidden.parquet", "embeddings", "ORACLE: the true hidden signal"),
}, OracleFeaturesParams, run_oracle_features)


class OracleParams(StageParams):
    """The oracle rows of a run whose ``oracle_*`` stages have finished."""

    run: Path = Field(description="the run folder holding the oracle_* stage folders")


def run_oracle_summary(params: OracleParams, echo: Echo = silent) -> Outputs:
    """``oracle.tsv``: one row per oracle BAG (the headline table's columns)."""
    from report.headline import headline_table
    from rnce_bag.core.outdir import staged_run

    with staged_run(params.out, "oracle", tools=()) as (stage, record):
        table = headline_table(params.run, prefix=PREFIX, oracle=False)
        if table.empty:
            raise InputError(f"{params.run}: no {PREFIX}brain_age stage to summarise",
                             hint="run the oracle's stages first (rnce-bag oracle)")
        record.add_output(write_output(ORACLE, "oracle", table, stage))
    return {"oracle": output_path(ORACLE, "oracle", Path(params.out))}


ORACLE = StageSpec("oracle", {
    "oracle": Output("oracle.tsv", "headline", "ORACLE rows: the headline table's columns"),
}, OracleParams, run_oracle_summary)


def oracle_stages(cohort: Path, root: Path, features: Path, *, grm: str | None = None,
                  threads: int = 2, probes: bool = True, inputs: list[Path] | None = None,
                  deps: list[str] | None = None, grm_deps: list[str] | None = None) -> list:
    """The oracle's stages (:class:`pipeline.runner.Stage`), each writing into
    ``root/oracle_<stage>``.

    Parameters
    ----------
    cohort
        The ``rnce-bag simulate`` folder (manifest, genotypes, truth).
    features
        Its FreeSurfer features table (the ``FS`` row).
    grm
        A GRM of the cohort (a study's h2 stage's); default: the oracle's h2 stage
        computes one.
    inputs, deps
        External files whose fingerprints key the first stage, and the stages it waits
        for (a study's ``simulate`` and ``features``); ``grm_deps`` the stage making
        ``grm``.
    """
    from gwas.stages import GwasParams, H2Params, RgParams
    from pipeline.runner import Stage
    from rnce_bag.stages import BrainAgeParams, ProbeParams

    def folder(name: str) -> Path:
        return root / f"{PREFIX}{name}"

    manifest = output_path(SIMULATE, "manifest", cohort)
    bfile = str(output_path(SIMULATE, "bfile", cohort))
    deps = list(deps or [])
    tables = folder("features")
    reps = [f"FS={features}", *(f"{rep}={output_path(ORACLE_FEATURES, name, tables)}"
                                for rep, name in TABLE_OUTPUTS.items())]
    stages = [Stage(f"{PREFIX}features", "oracle_features",
                    OracleFeaturesParams(out=tables, cohort=cohort, features=features),
                    list(inputs or []), deps)]
    bag_deps = [*deps, f"{PREFIX}features"]
    stages.append(Stage(f"{PREFIX}brain_age", "brain_age", BrainAgeParams(
        out=folder("brain_age"), manifest=manifest, features=reps), [], bag_deps))
    if probes:
        stages.append(Stage(f"{PREFIX}probe", "probe", ProbeParams(
            out=folder("probe"), manifest=manifest, features=reps), [], bag_deps))
    pheno = output_path(BRAIN_AGE, "pheno", folder("brain_age"))
    stages.append(Stage(f"{PREFIX}gwas", "gwas", GwasParams(
        out=folder("gwas"), bfile=bfile, pheno=pheno,
        covar=output_path(BRAIN_AGE, "covar", folder("brain_age")), threads=threads,
        overrides=["engine=plink2"]), [], [*deps, f"{PREFIX}brain_age"]))
    covar = output_path(GWAS, "covariates", folder("gwas"))
    genetic_deps = [*deps, f"{PREFIX}brain_age", f"{PREFIX}gwas", *(grm_deps or [])]
    source = {"grm": grm} if grm else {"bfile": bfile}
    stages.append(Stage(f"{PREFIX}h2", "h2", H2Params(
        out=folder("h2"), **source, pheno=pheno, covar=covar, grm_cutoff=0), [],
        genetic_deps))
    grm = grm or str(output_path(H2, "grm", folder("h2")))
    for other in REPS[1:]:
        name = f"rg_{other.lower().removeprefix(PREFIX)}"
        stages.append(Stage(f"{PREFIX}{name}", "rg", RgParams(
            out=folder(name), grm=grm, pheno=pheno, pheno_name=["BAG_FS", f"BAG_{other}"],
            covar=covar, grm_cutoff=0), [], [*genetic_deps, f"{PREFIX}h2"]))
    stages.append(Stage("oracle", "oracle", OracleParams(out=root / "oracle", run=root), [],
                        [s.name for s in stages]))
    for st in stages:
        st.group = "oracle"  # --only oracle / --from oracle select them together
    return stages


def oracle_inputs(cohort: Path, features: Path | None) -> list[Path]:
    """The cohort files an oracle run outside a study reads (fingerprinted in its keys)."""
    bfile = output_path(SIMULATE, "bfile", cohort)
    return [output_path(SIMULATE, "manifest", cohort),
            output_path(SIMULATE, "truth_latent", cohort),
            *(bfile.with_suffix(ext) for ext in (".bed", ".bim", ".fam")),
            *([features] if features else [])]


def run_oracle(cohort: Path, out: Path, features: Path | None = None, grm: str | None = None,
               threads: int = 2, probes: bool = True, echo: Echo = silent) -> pd.DataFrame:
    """The oracle's stages (and the features stage when ``features`` is not given) run
    into ``out`` like a study's (:func:`pipeline.runner.run_stages`: cached, locked,
    resumable); returns ``oracle.tsv``."""
    from pipeline.runner import Stage, run_stages
    from rnce_bag.core.outputs import read_output
    from rnce_bag.stages import FeaturesParams

    check_simulated(cohort)
    out = Path(out).resolve()
    stages, deps = [], []
    if features is None:
        manifest = output_path(SIMULATE, "manifest", cohort)
        stages.append(Stage("features", "features", FeaturesParams(
            out=out / "features", manifest=manifest), [manifest]))
        features, deps = output_path(FEATURES, "features", out / "features"), ["features"]
    stages += oracle_stages(cohort, out, Path(features).resolve(), grm=grm, threads=threads,
                            probes=probes, inputs=oracle_inputs(cohort, None), deps=deps)
    run_stages(stages, out, echo=echo)
    return read_output(ORACLE, "oracle", out / "oracle")
