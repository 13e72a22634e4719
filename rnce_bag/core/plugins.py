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


class Registry:
    """Named declarations found in a package's modules and in the plug-ins.

    Every module of ``package`` (and every plug-in) that defines ``attribute`` adds it;
    with ``required``, a module of the package that does not is an error. Items have
    ``name`` and ``order``; discovery runs once, at the first lookup. The method and
    engine registries (:mod:`rnce_bag.ssl.methods`, :mod:`gwas.engines`) are two of these.

    Parameters
    ----------
    package : str
        The package whose modules declare items (``rnce_bag.ssl.methods``).
    attribute : str
        The name each declaring module binds (``METHOD``, ``ENGINE``).
    kind : type
        What a declaration must be.
    required : bool
        Whether every module of the package must declare one.
    check : callable
        ``check(name)`` raising ValueError for a name the registry cannot hold.
    """

    def __init__(self, package: str, attribute: str, kind: type, required: bool,
                 check) -> None:
        self.package, self.attribute, self.kind = package, attribute, kind
        self.required, self.check = required, check
        self.items: dict[str, object] = {}
        self.discovered = False

    def _discover(self) -> None:
        import pkgutil

        if self.discovered:
            return
        self.discovered = True
        package = importlib.import_module(self.package)
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{self.package}.{info.name}")
            item = getattr(module, self.attribute, None)
            if isinstance(item, self.kind):
                self.register(item)
            elif self.required:
                raise TypeError(f"{module.__name__} declares no {self.attribute} "
                                f"(a {self.kind.__name__})")
        for item in declared(self.attribute):
            if not isinstance(item, self.kind):
                raise TypeError(f"a plug-in's {self.attribute} is not a "
                                f"{self.kind.__name__}: {item!r}")
            self.register(item)

    def register(self, item, replace: bool = False):
        """Add ``item`` (a second item of the same name is refused unless ``replace``)."""
        self.check(item.name)
        if item.name in self.items and self.items[item.name] is not item and not replace:
            raise ValueError(f"a {self.attribute.lower()} named {item.name!r} is already "
                             "registered")
        self.items[item.name] = item
        return item

    def unregister(self, name: str) -> None:
        """Remove an item added by :meth:`register` (tests)."""
        self.items.pop(name, None)

    def all(self) -> list:
        """Every item, in declared order (then by name)."""
        self._discover()
        return sorted(self.items.values(), key=lambda x: (x.order, x.name))

    def find(self, name: str):
        """The item called ``name``, or None."""
        self._discover()
        return self.items.get(name)
