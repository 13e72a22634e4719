"""The stages of a study, in order: the list of the stages' own declarations.

Each stage is declared once, next to its function (:class:`rnce_bag.core.outputs.StageSpec`:
kind, params model, function, outputs with their schemas). The stage list, the stage
order of a study and the registry of every output derive from :data:`PIPELINE`; adding a
stage is its declaration plus its place here (and its plan step in
:mod:`pipeline.plan`). Importing this module imports the stage modules, which hold only
their models and declarations: torch and Hail stay inside the stage functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from gwas.stages import ENRICH, GWAS, H2, RG
from pipeline.oracle import ORACLE, ORACLE_FEATURES
from report.stages import COMPARE, REPORT
from rnce_bag.core.errors import InputError
from rnce_bag.core.outputs import Output, StageSpec
from rnce_bag.core.stage import Echo, Outputs, StageParams
from rnce_bag.stages import (
    BRAIN_AGE,
    EMBED,
    FEATURES,
    MANIFEST,
    PROBE,
    REGISTER,
    SIMULATE,
    TRAIN,
)

#: the stages of a study, in the order they run
PIPELINE: tuple[StageSpec, ...] = (SIMULATE, REGISTER, FEATURES, TRAIN, EMBED, BRAIN_AGE,
                                   PROBE, GWAS, H2, RG, ENRICH, ORACLE_FEATURES, ORACLE,
                                   REPORT)
#: kind -> declaration: every stage a params document may name (a study's, and the
#: commands compare and manifest)
STAGES: dict[str, StageSpec] = {s.kind: s for s in (*PIPELINE, COMPARE, MANIFEST)}
#: the study's stage kinds in order
STAGE_ORDER: tuple[str, ...] = tuple(s.kind for s in PIPELINE)
#: kind -> output name -> declaration (derived, for listings and tests)
OUTPUTS: dict[str, dict[str, Output]] = {k: dict(s.outputs) for k, s in STAGES.items()}

StageFunction = Callable[..., Outputs]


def stage(kind: str) -> tuple[type[StageParams], StageFunction]:
    """The params model and the function of stage ``kind``."""
    if kind not in STAGES:
        raise InputError(f"unknown stage kind {kind!r}", hint="kinds: " + ", ".join(STAGES))
    spec = STAGES[kind]
    return spec.params, spec.function  # type: ignore[return-value]


def run_params_file(path: Path, echo: Echo) -> Outputs:
    """Validate a params document (:func:`rnce_bag.core.stage.params_document`) and run it."""
    try:
        doc = json.loads(Path(path).read_text())
        kind, raw = doc["kind"], doc["params"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a stage params document ({exc})",
                         hint='expected {"kind": ..., "params": {...}}') from exc
    model, function = stage(kind)
    try:
        params = model.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"{path}: invalid params for stage {kind!r}: {exc}") from exc
    return function(params, echo=echo)
