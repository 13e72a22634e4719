"""Atomic checkpoints that load with ``torch.load(weights_only=True)``.

A checkpoint holds only tensors, numbers, strings, lists and dicts: model, optimiser
and scheduler states, the resolved config, the feature scaler, the auxiliary PCA and
the training position (stage, step).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from rnce_bag.core.errors import InputError
from rnce_bag.core.io import atomic_path
from rnce_bag.stages import TRAIN

# the names are the train stage's declared outputs
CHECKPOINT = TRAIN.outputs["checkpoint"].file  # latest training state (resume)
MODEL = TRAIN.outputs["model"].file  # final weights and what ``embed`` needs


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``state`` atomically (a crash leaves the previous checkpoint intact)."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint safely (``weights_only=True``, on the CPU)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: checkpoint not found",
                         hint="pass the folder written by 'rnce-bag train'")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated or foreign file
        raise InputError(f"{p}: not a readable rnce-bag checkpoint ({type(exc).__name__}: "
                         f"{exc})", hint="retrain, or resume from an intact checkpoint") from exc
