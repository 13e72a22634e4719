"""Benchmarks that choose settings read no simulator truth, and the spacing rule."""

from __future__ import annotations

import ast
import importlib.util
import sys

import pandas as pd
import pytest

#: benchmarks whose results choose a setting of training or of the product
SETTINGS = ("spacing_choice.py", "train_throughput.py", "gpu_check.py", "augment_speed.py",
            "dataloader_throughput.py")


def _strings(path) -> list[str]:
    """String constants of a module, docstrings left out."""
    tree = ast.parse(path.read_text())
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, str) and id(n) not in docs]


@pytest.mark.parametrize("name", SETTINGS)
def test_settings_benchmarks_never_name_the_truth_folder(repo_root, name):
    found = [s for s in _strings(repo_root / "benchmarks" / name)
             if "truth" in s or "latent.tsv" in s or "hidden_signal" in s]
    assert found == [], f"{name} reads the simulator's truth: {found}"


def test_the_spacing_rule_takes_the_coarsest_within_tolerance(repo_root):
    sys.path.insert(0, str(repo_root / "benchmarks"))
    try:
        spec = importlib.util.spec_from_file_location(
            "spacing_choice", repo_root / "benchmarks" / "spacing_choice.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.pop(0)
    table = pd.DataFrame({"spacing_mm": [4.0, 6.0, 8.0], "R2_fs": [0.556, 0.533, 0.496]})
    assert mod.choose(table, 0.02) == 4.0
    assert mod.choose(table, 0.03) == 6.0
    assert mod.choose(table.assign(R2_fs=[0.50, 0.55, 0.54]), 0.02) == 8.0
