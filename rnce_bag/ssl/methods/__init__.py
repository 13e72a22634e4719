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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rnce_bag.core.plugins import Registry

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


def _check(name: str) -> None:
    if not name.isidentifier() or name != name.lower():
        raise ValueError(f"method name {name!r}: a lower-case identifier is needed")


#: every method: the modules of this package (each must declare one) and the plug-ins
REGISTRY = Registry(__name__, "METHOD", SSLMethod, required=True, check=_check)
register, unregister = REGISTRY.register, REGISTRY.unregister


def methods() -> list[SSLMethod]:
    """Every registered method, in their declared order."""
    return REGISTRY.all()


def names() -> list[str]:
    """The registered method names, in order: what ``--method`` accepts."""
    return [m.name for m in methods()]


def get(name: str) -> SSLMethod:
    """The method called ``name`` (ValueError naming the known ones otherwise)."""
    method = REGISTRY.find(name)
    if method is None:
        raise ValueError(f"unknown method {name!r}: expected {choices()}")
    return method


def choices() -> str:
    """The names as a sentence lists them: ``rnce, simclr or barlow``."""
    n = names()
    return n[0] if len(n) == 1 else f"{', '.join(n[:-1])} or {n[-1]}"


def check_name(name: str) -> str:
    """``name`` itself when a method of that name is registered (pydantic validators)."""
    get(name)
    return name
