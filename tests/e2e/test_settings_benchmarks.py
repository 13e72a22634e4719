"""Benchmarks that choose settings or train encoders read no simulator truth; the rules
they apply (spacing, the compute curve's claims)."""

from __future__ import annotations

import ast
import importlib.util
import sys

import pandas as pd
import pytest

#: benchmarks whose results choose a setting of training or of the product
SETTINGS = ("spacing_choice.py", "train_throughput.py", "gpu_check.py", "augment_speed.py",
            "dataloader_throughput.py", "augment_sensitivity.py", "rnce_compute_curve.py",
            "ssl_eval.py")


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


def _benchmark(repo_root, name):
    sys.path.insert(0, str(repo_root / "benchmarks"))
    try:
        spec = importlib.util.spec_from_file_location(name, repo_root / "benchmarks" / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.pop(0)
    return mod


def test_the_spacing_rule_takes_the_coarsest_within_tolerance(repo_root):
    mod = _benchmark(repo_root, "spacing_choice")
    table = pd.DataFrame({"spacing_mm": [4.0, 6.0, 8.0], "R2_fs": [0.556, 0.533, 0.496]})
    assert mod.choose(table, 0.02) == 4.0
    assert mod.choose(table, 0.03) == 6.0
    assert mod.choose(table.assign(R2_fs=[0.50, 0.55, 0.54]), 0.02) == 8.0


def test_the_compute_curve_counts_a_claim_only_when_every_seed_holds_it(repo_root, tmp_path):
    mod = _benchmark(repo_root, "rnce_compute_curve")
    runs = mod.plan([3.0, 10.0], [0, 1], ["simclr"], tmp_path)
    assert [r.name for r in runs] == ["RNCE_E3_S0", "RNCE_E3_S1", "RNCE_E10_S0", "RNCE_E10_S1",
                                      "SIMCLR_E3_S0", "SIMCLR_E3_S1", "SIMCLR_E10_S0",
                                      "SIMCLR_E10_S1"]
    assert runs[3].sets == ("stage1.epochs=10.0", "stage2.epochs=10.0", "seed=1")
    aucs = {f"auc_{t}": 0.7 for t in ("ad_vs_cn", "conversion_2y", "conversion_3y", "amyloid")}
    ps = {f"p_{t}": 0.01 for t in ("ad_vs_cn", "conversion_2y", "conversion_3y", "amyloid")}
    row = {"R2_fs": 0.5, "mae": 4.0, "rg_fs": 0.9, "train_cpu_hours": 0.4, **aucs, **ps}
    table = pd.DataFrame([
        {"representation": "FS", "method": None, "h2": 0.40, **row},
        {"representation": "RNCE_E3_S0", "method": "rnce", "h2": 0.45, **row,
         "auc_conversion_2y": 0.75},
        {"representation": "RNCE_E3_S1", "method": "rnce", "h2": 0.35, **row,
         "auc_conversion_2y": 0.75},
        {"representation": "RNCE_E10_S0", "method": "rnce", "h2": 0.41, **row,
         "auc_conversion_2y": 0.75},
        {"representation": "RNCE_E10_S1", "method": "rnce", "h2": 0.42, **row,
         "auc_conversion_2y": 0.74, "p_conversion_2y": 0.2},
    ])
    verdicts = mod.claims(table).set_index(["budget", "claim"])
    heritable = "R-NCE-BAG at least as heritable as FS-BAG"
    conversion = "R-NCE above FreeSurfer on conversion 2 y (DeLong p < 0.05)"
    assert verdicts.loc[(3.0, heritable), "met"] == "not met"  # one seed of two below FS
    assert verdicts.loc[(3.0, heritable), "seeds_holding"] == 1
    assert verdicts.loc[(10.0, heritable), "met"] == "met"
    assert verdicts.loc[(3.0, conversion), "met"] == "met"
    assert verdicts.loc[(10.0, conversion), "met"] == "not met"  # p 0.2 in one seed
    summary = mod.summarise(table).set_index("budget")
    assert summary.loc[3.0, "h2_mean"] == pytest.approx(0.40)
    assert (summary.loc[3.0, "h2_min"], summary.loc[3.0, "h2_max"]) == (0.35, 0.45)
    assert summary.loc[10.0, "seeds"] == 2
