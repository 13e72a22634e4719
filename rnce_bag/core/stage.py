"""The stage contract: ``run_<stage>(params, echo) -> outputs``.

Every stage of the product is one library function taking a :class:`StageParams`
subclass (its inputs, options and output folder, validated by pydantic) and returning
the paths of what it wrote, keyed by the names of :data:`rnce_bag.core.outputs.OUTPUTS`.
A CLI command maps its flags (and ``--config``/``--set``) onto the model and calls the
function; the pipeline builds the same models from a study and upstream outputs and
hands each child process the model as JSON (``python -m cli stage --params FILE``).
``echo`` receives the lines a person reads (the command's summary), nothing else.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from rnce_bag.core.config import StrictModel

Echo = Callable[[str], None]
P = TypeVar("P", bound="StageParams")
#: what a stage function returns: output name (see OUTPUTS) -> path
Outputs = dict[str, Path]


def silent(_: str) -> None:
    return None


class StageParams(StrictModel):
    """Fields every stage has; subclasses add their inputs and options."""

    out: Path

    def key_payload(self) -> dict[str, Any]:
        """What a cached result depends on: every field but the output folder."""
        return self.model_dump(mode="json", exclude={"out"})


def make_params(model: type[P], **fields: Any) -> P:
    """``model(**fields)``, a validation error becoming an :class:`InputError` (exit 2)
    that names the option (``--grm-cutoff``) the way a user typed it."""
    from pydantic import ValidationError

    from rnce_bag.core.errors import InputError

    try:
        return model(**fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = "--" + str(err["loc"][0]).replace("_", "-") if err["loc"] else model.__name__
        raise InputError(f"{where}: {err['msg']} (got {err.get('input')!r})") from None


def params_document(kind: str, params: StageParams) -> str:
    """The JSON a child process receives: ``{"kind": ..., "params": {...}}``."""
    return json.dumps({"kind": kind, "params": params.model_dump(mode="json")}, indent=2) + "\n"


def write_params(path: str | os.PathLike[str], kind: str, params: StageParams) -> Path:
    """Write :func:`params_document` atomically to ``path``."""
    from rnce_bag.core.io import write_text

    return write_text(Path(path), params_document(kind, params))


__all__ = ["Echo", "Outputs", "StageParams", "make_params", "params_document", "silent",
           "write_params"]
