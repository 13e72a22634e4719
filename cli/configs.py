"""Which pydantic model validates each folder of ``configs/``.

A YAML under ``configs/<kind>/`` is validated by ``CONFIG_MODELS[<kind>]``. Later
stages add their kind here when they add their configs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from gwas.config import GwasConfig
from rnce_bag.core.errors import ConfigError
from rnce_bag.simulate.config import SimulateConfig

CONFIG_MODELS: dict[str, type[BaseModel]] = {
    "gwas": GwasConfig,
    "simulate": SimulateConfig,
}


def model_for(path: Path, kind: str | None = None) -> tuple[str, type[BaseModel]]:
    """The config kind and model of ``path`` (from ``kind`` or the parent folder name)."""
    name = kind or Path(path).resolve().parent.name
    if name not in CONFIG_MODELS:
        raise ConfigError(
            f"cannot tell which kind of config '{path}' is (folder '{name}')",
            hint=f"pass --kind, one of: {', '.join(sorted(CONFIG_MODELS))}",
        )
    return name, CONFIG_MODELS[name]
