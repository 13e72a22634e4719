"""PyTorch availability (imports torch lazily)."""

from __future__ import annotations

from typing import Any


def torch_status() -> dict[str, Any]:
    """Torch version, CUDA availability and devices, threads.

    Returns
    -------
    dict
        ``ok``, ``version``, ``cuda`` (bool), ``cuda_version``, ``devices`` (names),
        ``threads``; ``error`` when torch cannot be imported.
    """
    try:
        import torch
    except Exception as exc:  # ImportError, or a broken binary
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    cuda = bool(torch.cuda.is_available())
    devices = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda \
        else []
    return {
        "ok": True,
        "version": torch.__version__,
        "cuda": cuda,
        "cuda_version": torch.version.cuda,
        "devices": devices,
        "threads": torch.get_num_threads(),
    }
