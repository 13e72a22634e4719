"""Which pydantic model validates each folder of ``configs/``.

A YAML under ``configs/<kind>/`` is validated by the model named in
``CONFIG_MODELS[<kind>]`` (``module:Class``, imported on use so that ``rnce-bag --help``
stays instant). Each stage adds its kind here when it adds its configs.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from pydantic import BaseModel

from rnce_bag.core.errors import ConfigError

CONFIG_MODELS: dict[str, str] = {
    "brainage": "rnce_bag.brainage.config:BrainAgeConfig",
    "gwas": "gwas.config:GwasConfig",
    "patches": "rnce_bag.imaging.patches:PatchLayout",
    "simulate": "rnce_bag.simulate.config:SimulateConfig",
    "ssl": "rnce_bag.ssl.config:SSLConfig",
    "study": "pipeline.study:StudyConfig",
}


def resolve_model(kind: str) -> type[BaseModel]:
    """The model class of config kind ``kind``."""
    module, _, name = CONFIG_MODELS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def model_for(path: Path, kind: str | None = None) -> tuple[str, type[BaseModel]]:
    """The config kind and model of ``path`` (from ``kind`` or the parent folder name)."""
    name = kind or Path(path).resolve().parent.name
    if name not in CONFIG_MODELS:
        raise ConfigError(
            f"cannot tell which kind of config '{path}' is (folder '{name}')",
            hint=f"pass --kind, one of: {', '.join(sorted(CONFIG_MODELS))}",
        )
    return name, resolve_model(name)
