"""Shared fixtures and marker handling.

Markers: ``slow`` and ``hail`` run everywhere (CI included); ``external`` runs when
plink2 / gemma are on PATH (``make setup`` installs them) and is skipped with a
reason otherwise; ``gpu`` is skipped without CUDA.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def pytest_collection_modifyitems(config, items):
    have_cuda = None
    missing_tools = [t for t in ("plink2", "gemma") if shutil.which(t) is None]
    for item in items:
        if "gpu" in item.keywords:
            if have_cuda is None:
                have_cuda = _cuda_available()
            if not have_cuda:
                item.add_marker(pytest.mark.skip(reason="needs CUDA"))
        if "external" in item.keywords and missing_tools:
            item.add_marker(pytest.mark.skip(
                reason=f"needs {', '.join(missing_tools)} (run make setup as root)"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared fixtures not present")
    return SHARED


@pytest.fixture()
def runner():
    from typer.testing import CliRunner

    return CliRunner()


@pytest.fixture(scope="session")
def tiny_sim(tmp_path_factory):
    """The simulator's tiny preset, simulated once per test session (~7 s)."""
    from rnce_bag.simulate.config import preset_config
    from rnce_bag.simulate.run import simulate

    out = tmp_path_factory.mktemp("sim") / "tiny"
    simulate(preset_config("tiny"), out)
    return out
