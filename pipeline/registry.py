"""Stage kind -> (params model, stage function): what ``rnce-bag stage --params FILE``
runs and what the pipeline builds params for.

Entries name their module so that looking a kind up imports only that stage's models
(torch and Hail stay inside the stage functions).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from rnce_bag.core.errors import InputError
from rnce_bag.core.stage import Echo, Outputs, StageParams

#: kind -> (module, params model, function); kinds follow pipeline.study.STAGE_ORDER
STAGES: dict[str, tuple[str, str, str]] = {
    "simulate": ("rnce_bag.stages", "SimulateParams", "run_simulate"),
    "features": ("rnce_bag.stages", "FeaturesParams", "run_features"),
    "train": ("rnce_bag.stages", "TrainParams", "run_train"),
    "embed": ("rnce_bag.stages", "EmbedParams", "run_embed"),
    "brain_age": ("rnce_bag.stages", "BrainAgeParams", "run_brain_age"),
    "probe": ("rnce_bag.stages", "ProbeParams", "run_probe"),
    "gwas": ("gwas.stages", "GwasParams", "run_gwas_stage"),
    "h2": ("gwas.stages", "H2Params", "run_h2"),
    "rg": ("gwas.stages", "RgParams", "run_rg"),
    "enrich": ("gwas.stages", "EnrichParams", "run_enrich_stage"),
    "oracle": ("pipeline.oracle", "OracleParams", "run_oracle_stage"),
    "report": ("gwas.stages", "ReportParams", "run_report"),
}

StageFunction = Callable[..., Outputs]


def stage(kind: str) -> tuple[type[StageParams], StageFunction]:
    """The params model and the function of stage ``kind``."""
    if kind not in STAGES:
        raise InputError(f"unknown stage kind {kind!r}", hint="kinds: " + ", ".join(STAGES))
    module, model, function = STAGES[kind]
    mod = importlib.import_module(module)
    return getattr(mod, model), getattr(mod, function)


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
