"""The self-supervised methods, one module each: the registry every layer asks.

A method is an :class:`SSLMethod` declared as ``METHOD`` in a module of this package
(``rnce.py``, ``simclr.py``, ``barlow.py``): its name (``--method``, ``methods:`` in a
study), the representation it gives (``RNCE``: ``BAG_RNCE``), its loss, and whether the
loss reads the auxiliary FreeSurfer features or goes through the projection heads. The
config's allowed names, the CLI's check, a study's default methods and the model's heads
all derive from this registry, so adding a method (VICReg, say) is one new module here
(see ``docs/ARCHITECTURE.md``, "Adding a method"); a module elsewhere declaring
``METHOD`` is a plug-in (:mod:`rnce_bag.core.plugins`, ``RNCE_BAG_PLUGINS``).

Declarations import no torch: a method's loss imports what it needs when it is called,
so validating a config or a study stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rnce_bag.core.plugins import declared

#: ``loss(z1, z2, a, cfg) -> {"loss": scalar, term: scalar, ...}`` with views ``z1, z2``
#: (B, e), auxiliary features ``a`` (B, p) or None, and the run's ``LossConfig``
LossFn = Callable[[Any, Any, Any, Any], dict]


@dataclass(frozen=True)
class SSLMethod:
    """One self-supervised method.

    Attributes
    ----------
    name : str
        Lower-case identifier: ``--method``, ``train_<name>``, ``embed_<name>``.
    title : str
        How reports and docs write it (``R-NCE``).
    loss : LossFn
        The training loss of two views (module docstring of :mod:`rnce_bag.ssl.losses`).
    uses_auxiliary : bool
        The loss reads the auxiliary FreeSurfer features (the R-NCE checks of batch size
        against the auxiliary dimensions apply).
    projection_head : bool
        The loss acts on the configured projection heads (``loss.head_dims``) rather than
        on the representation itself.
    order : int
        Position in a study's default list of methods (and so in its tables).
    """

    name: str
    title: str
    loss: LossFn
    uses_auxiliary: bool = False
    projection_head: bool = True
    order: int = 100

    @property
    def representation(self) -> str:
        """The name of its embeddings as a representation (``RNCE``, ``BAG_RNCE``)."""
        return self.name.upper()


_REGISTRY: dict[str, SSLMethod] = {}
_DISCOVERED = False


def _discover() -> None:
    """Import every module of this package once; each declares ``METHOD``."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        method = getattr(module, "METHOD", None)
        if not isinstance(method, SSLMethod):
            raise TypeError(f"{module.__name__} declares no METHOD (an SSLMethod)")
        register(method)
    for method in declared("METHOD"):
        if not isinstance(method, SSLMethod):
            raise TypeError(f"a plug-in's METHOD is not an SSLMethod: {method!r}")
        register(method)


def register(method: SSLMethod, replace: bool = False) -> SSLMethod:
    """Add ``method`` to the registry (a second method of the same name is refused)."""
    if not method.name.isidentifier() or method.name != method.name.lower():
        raise ValueError(f"method name {method.name!r}: a lower-case identifier is needed")
    if method.name in _REGISTRY and _REGISTRY[method.name] is not method and not replace:
        raise ValueError(f"a method named {method.name!r} is already registered")
    _REGISTRY[method.name] = method
    return method


def unregister(name: str) -> None:
    """Remove a method added by :func:`register` (tests)."""
    _REGISTRY.pop(name, None)


def methods() -> list[SSLMethod]:
    """Every registered method, in their declared order."""
    _discover()
    return sorted(_REGISTRY.values(), key=lambda m: (m.order, m.name))


def names() -> list[str]:
    """The registered method names, in order: what ``--method`` accepts."""
    return [m.name for m in methods()]


def get(name: str) -> SSLMethod:
    """The method called ``name`` (ValueError naming the known ones otherwise)."""
    _discover()
    if name not in _REGISTRY:
        raise ValueError(f"unknown method {name!r}: expected {choices()}")
    return _REGISTRY[name]


def choices() -> str:
    """The names as a sentence lists them: ``rnce, simclr or barlow``."""
    n = names()
    return n[0] if len(n) == 1 else f"{', '.join(n[:-1])} or {n[-1]}"


def check_name(name: str) -> str:
    """``name`` itself when a method of that name is registered (pydantic validators)."""
    get(name)
    return name
