"""Plug-ins: modules outside the package that declare a method or an engine.

``RNCE_BAG_PLUGINS`` lists importable modules (comma-separated, on ``PYTHONPATH``). The
method and engine registries (:mod:`rnce_bag.ssl.methods`, :mod:`gwas.engines`) import
them after their own modules and register the ``METHOD`` (an ``SSLMethod``) or
``ENGINE`` (a ``GwasEngine``) each declares, exactly as for a module inside the package.
The variable is inherited by the pipeline's stage processes, and the pipeline's code
version covers the plug-ins' files, so a changed plug-in reruns its stages.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from types import ModuleType

from rnce_bag.core.errors import ConfigError

ENV = "RNCE_BAG_PLUGINS"


def plugin_names() -> list[str]:
    """The module names ``RNCE_BAG_PLUGINS`` lists (empty when unset)."""
    return [n.strip() for n in os.environ.get(ENV, "").split(",") if n.strip()]


def plugin_modules() -> list[ModuleType]:
    """The listed modules, imported (ConfigError naming the one that does not import)."""
    out = []
    for name in plugin_names():
        try:
            out.append(importlib.import_module(name))
        except ImportError as exc:
            raise ConfigError(f"{ENV}: plug-in module {name!r} cannot be imported ({exc})",
                              hint="put its folder on PYTHONPATH, or remove it from "
                                   f"{ENV}") from None
    return out


def declared(attribute: str) -> list[object]:
    """Each plug-in's ``attribute`` (``METHOD``, ``ENGINE``), where it declares one."""
    return [getattr(m, attribute) for m in plugin_modules() if hasattr(m, attribute)]


def plugin_files() -> list[Path]:
    """The plug-ins' source files (for the pipeline's code version)."""
    files = []
    for name in plugin_names():
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin and Path(spec.origin).is_file():
            files.append(Path(spec.origin))
    return files
