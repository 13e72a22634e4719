"""The shipped presets: ``rnce_bag/configs/<kind>/<name>.yaml``, the only copy of each.

The YAML files are the source (the repository's top-level ``configs/`` is a link to
them, so users copy ``configs/study/template.yaml`` as before); an installed wheel holds
them too, read through :mod:`importlib.resources`. A study's ``configs/...`` path that is
not beside the study resolves here.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from rnce_bag.core.errors import ConfigError

PREFIX = "configs/"


def configs_root() -> Path:
    """The folder of the shipped presets (inside the installed package)."""
    return Path(str(resources.files("rnce_bag") / "configs"))


def preset_names(kind: str) -> list[str]:
    """The presets of one kind (``simulate``, ``study``, ``ssl``, ...), sorted."""
    folder = configs_root() / kind
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def preset_path(kind: str, name: str) -> Path:
    """``configs/<kind>/<name>.yaml``; an unknown name is a :class:`ConfigError`."""
    path = configs_root() / kind / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown {kind} preset {name!r}",
                          hint=f"choose one of: {', '.join(preset_names(kind))}")
    return path


def load_preset(kind: str, name: str) -> dict:
    """The preset's YAML as a mapping (``yaml.safe_load``)."""
    path = preset_path(kind, name)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping")
    return data


def shipped(path: str) -> Path | None:
    """A ``configs/<kind>/<file>`` path as shipped with the package, if it is one."""
    if not path.startswith(PREFIX):
        return None
    candidate = configs_root() / path[len(PREFIX):]
    return candidate if candidate.is_file() else None
