"""What each stage declares, and the one way to find, read and write its outputs.

A stage is one :class:`StageSpec` declared next to its function (``rnce_bag/stages.py``,
``gwas/stages.py``, ``report/stages.py``, ``pipeline/oracle.py``): its kind, its params
model, its function and the files it writes into its folder, each with its schema. Every
other stage, the pipeline, the report and the demo summary find a file through the
declaration (:func:`output_path`, never a file name of their own), read tables through
:func:`read_output` and write them through :func:`write_output`, both of which validate
against the declared schema (errors name the file, the column and the row). The
pipeline's registry (:mod:`pipeline.registry`) lists the declarations in order; the
stage list, the stage order and the output registry derive from it. Names with
``{phenotype}`` are formatted per phenotype (:func:`rnce_bag.core.names.file_stem`).

``schema`` is a name in :data:`rnce_bag.core.tables.SCHEMAS` for tables, ``None`` for
other files (JSON, Parquet without a contract, GRM prefixes, folders).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Output:
    """One file (or prefix) a stage writes into its folder."""

    file: str
    schema: str | None = None
    description: str = ""


@dataclass(frozen=True)
class StageSpec:
    """One stage: ``function(params: params, echo) -> {output name: path}``.

    Attributes
    ----------
    kind : str
        The stage kind (``brain_age``): study plans, params documents, provenance.
    outputs : mapping of str to Output
        What it writes into its folder.
    params : type or None
        Its :class:`rnce_bag.core.stage.StageParams` model (None: outputs only).
    function : callable or None
        ``run_<kind>(params, echo)``.
    """

    kind: str
    outputs: Mapping[str, Output]
    params: type | None = None
    function: Callable[..., Any] | None = field(default=None, compare=False)

    def output(self, name: str) -> Output:
        """The declaration of output ``name`` (KeyError naming the declared ones)."""
        if name not in self.outputs:
            raise KeyError(f"stage {self.kind!r} declares no output {name!r}; it declares "
                           + ", ".join(self.outputs))
        return self.outputs[name]

    def writes(self) -> list[str]:
        """The fixed file names (no ``{phenotype}``, no prefixes) it declares."""
        return [o.file for o in self.outputs.values()
                if "{" not in o.file and Path(o.file).suffix]


def output_path(stage: StageSpec, name: str, folder: str | os.PathLike[str],
                phenotype: str | None = None) -> Path:
    """Where ``stage`` writes its output ``name`` inside ``folder``.

    Raises
    ------
    KeyError
        For an output ``stage`` does not declare (a programming error).
    """
    if not isinstance(stage, StageSpec):
        raise TypeError(f"output_path: pass the stage's declaration (e.g. GWAS from "
                        f"gwas.stages), not {stage!r}")
    file = stage.output(name).file
    if "{phenotype}" in file:
        from rnce_bag.core.names import file_stem

        if phenotype is None:
            raise KeyError(f"output {stage}.{name} is per phenotype: pass phenotype=")
        file = file.format(phenotype=file_stem(phenotype))
    return Path(folder) / file


def read_output(stage: StageSpec, name: str, folder: str | os.PathLike[str],
                phenotype: str | None = None) -> pd.DataFrame:
    """Read and validate the table ``name`` of ``stage`` in ``folder``."""
    from rnce_bag.core.schema import read_table

    return read_table(output_path(stage, name, folder, phenotype), stage.output(name).schema)


def write_output(stage: StageSpec, name: str, table: pd.DataFrame,
                 folder: str | os.PathLike[str], phenotype: str | None = None,
                 **options: Any) -> Path:
    """Validate ``table`` against the declared schema of output ``name`` and write it
    (atomically, :func:`rnce_bag.core.io.write_table`) where :func:`output_path` says.

    A table that breaks its own contract is a programming error: ``SchemaError`` names
    the file, the column and the row before anything is written. ``options``:
    :func:`rnce_bag.core.io.write_table`'s ``float_format`` and ``header``.
    """
    from rnce_bag.core.io import write_table

    return write_table(table, output_path(stage, name, folder, phenotype),
                       schema=stage.output(name).schema, **options)


def read_output_if_exists(stage: StageSpec, name: str, folder: str | os.PathLike[str],
                          phenotype: str | None = None) -> pd.DataFrame | None:
    """:func:`read_output`, or ``None`` when the stage did not write the file."""
    path = output_path(stage, name, folder, phenotype)
    return read_output(stage, name, folder, phenotype) if path.exists() else None
