"""PyTorch availability and device selection (imports torch lazily)."""

from __future__ import annotations

from typing import Any

from rnce_bag.core.errors import ConfigError


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


def select_device(requested: str = "auto") -> str:
    """Resolve ``auto`` / ``cpu`` / ``cuda`` / ``cuda:N`` to an available device name.

    Raises
    ------
    ConfigError
        If CUDA is requested but not available.
    """
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cpu":
        return "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"device {requested!r} requested but CUDA is not available "
                f"(torch {torch.__version__})",
                hint="use device: cpu (or auto), or install a CUDA build of torch",
            )
        return requested
    raise ConfigError(f"device: expected auto, cpu, cuda or cuda:N, found {requested!r}")
