"""A method and an engine added from one file each (``vicreg_method.py``,
``numpy_engine.py``) run through the product: the CLI, the registries' names and checks,
and a study run by the pipeline (its stages are child processes, which find the plug-ins
through ``RNCE_BAG_PLUGINS``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

HERE = Path(__file__).resolve().parent
PLUGINS = "vicreg_method,numpy_engine"


@pytest.fixture
def plugins(monkeypatch):
    """The two plug-ins visible to this process and its children, and forgotten after
    (the study model is imported first, as in a full test run: its defaults must still
    see a plug-in registered later)."""
    import pipeline.study  # noqa: F401
    from gwas import engines
    from rnce_bag.ssl import methods

    monkeypatch.setenv("RNCE_BAG_PLUGINS", PLUGINS)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])]))
    monkeypatch.syspath_prepend(str(HERE))
    for registry in (methods, engines):
        monkeypatch.setattr(registry.REGISTRY, "discovered", False)
    yield
    methods.unregister("vicreg")
    engines.unregister("numpy")


def test_the_registries_name_the_plugins_and_configs_accept_them(plugins):
    from gwas.config import GwasConfig
    from gwas.engines import names as engine_names
    from pipeline.study import StudyConfig
    from rnce_bag.ssl.config import SSLConfig
    from rnce_bag.ssl.methods import choices, get

    assert get("vicreg").representation == "VICREG"
    assert choices() == "rnce, simclr, barlow or vicreg"
    assert engine_names() == ["plink2", "hail", "bolt", "numpy"]
    assert SSLConfig(method="vicreg").method == "vicreg"
    assert GwasConfig(engine="numpy").engine == "numpy"
    study = StudyConfig(simulate={})
    assert study.stages.train.methods[-1] == "vicreg"  # default: every method
    assert ("FS", "VICREG") in study.stages.rg_pairs


def test_unknown_names_are_refused_with_the_known_ones():
    from pydantic import ValidationError

    from gwas.config import GwasConfig
    from rnce_bag.ssl.config import SSLConfig

    with pytest.raises(ValidationError, match="expected rnce, simclr or barlow"):
        SSLConfig(method="vicreg")
    with pytest.raises(ValidationError, match="expected auto, plink2, hail"):
        GwasConfig(engine="regenie")


def test_a_plugin_that_does_not_import_is_a_config_error(monkeypatch):
    from rnce_bag.core.errors import ConfigError
    from rnce_bag.core.plugins import declared

    monkeypatch.setenv("RNCE_BAG_PLUGINS", "no_such_plugin_module")
    with pytest.raises(ConfigError, match="no_such_plugin_module"):
        declared("METHOD")


def test_vicreg_loss_terms():
    import torch

    sys.path.insert(0, str(HERE))
    try:
        from vicreg_method import METHOD
    finally:
        sys.path.remove(str(HERE))
    z = torch.randn(64, 8, generator=torch.Generator().manual_seed(0))
    same = METHOD.loss(z, z, None, None)
    assert float(same["invariance"]) == 0
    collapsed = METHOD.loss(torch.zeros(64, 8), torch.zeros(64, 8), None, None)
    assert float(collapsed["variance"]) == pytest.approx(2 * (1 - 1e-2), rel=1e-5)


@pytest.mark.external
def test_numpy_engine_matches_plink2_on_the_same_samples(plugins, complete_sim, tmp_path,
                                                        runner):
    """Same inputs and no PCs: the shared steps give the numpy engine's results the same
    tables as PLINK 2's, and the statistics agree (PLINK 2 prints 6 significant digits;
    NOISE has missing values, so its n differs from LATENT's)."""
    from cli.main import app

    out = {}
    for engine in ("plink2", "numpy"):
        out[engine] = tmp_path / engine
        res = runner.invoke(app, [
            "gwas", "--bfile", str(complete_sim / "genotypes" / "cohort"),
            "--pheno", str(complete_sim / "pheno.tsv"), "--covar",
            str(complete_sim / "covar.tsv"), "--engine", engine, "--set", "pca.n_pcs=0",
            "--out", str(out[engine])])
        assert res.exit_code == 0, res.output
    for name in ("LATENT", "NOISE"):
        a, b = (pd.read_csv(out[e] / f"{name}.tsv.gz", sep="\t", dtype={"chromosome": str})
                for e in ("plink2", "numpy"))
        assert list(a.columns) == list(b.columns)
        both = a.merge(b, on="variant_id", suffixes=("_p", "_n"))
        assert len(both) >= 0.95 * len(a)
        assert (both["n_p"] == both["n_n"]).all()
        np.testing.assert_allclose(both["beta_n"], both["beta_p"], rtol=2e-5, atol=1e-9)
        np.testing.assert_allclose(both["standard_error_n"], both["standard_error_p"],
                                   rtol=2e-5)
        np.testing.assert_allclose(both["p_value_n"], both["p_value_p"], rtol=1e-4)
    for e in ("plink2", "numpy"):  # the shared steps wrote the same set of files
        assert sorted(p.name for p in out[e].iterdir() if p.name not in ("work", "run.json")) \
            == sorted(p.name for p in out["plink2"].iterdir()
                      if p.name not in ("work", "run.json"))
    report = yaml.safe_load((out["numpy"] / "gwas_report.json").read_text())
    assert report["engine"] == "numpy" and "HWE" in report["note"]


@pytest.mark.slow
@pytest.mark.external
def test_a_study_runs_the_plugin_method_and_engine(plugins, tmp_path):
    """The pipeline trains and embeds VICReg, a BAG comes of it, and the numpy engine
    runs its GWAS: every stage a child process that finds both through the variable."""
    study = {"name": "plugins", "simulate": {"preset": "tiny", "seed": 0},
             "stages": {"train": {"config": "configs/ssl/tiny.yaml", "methods": ["vicreg"]},
                        "brain_age_set": ["min_train_subjects=20"], "gwas_engine": "numpy",
                        "rg_pairs": [], "combined": []},
             "skip": ["probe", "h2", "rg", "enrich", "oracle", "report"]}
    cfg = tmp_path / "study.yaml"
    cfg.write_text(yaml.safe_dump(study))
    proc = subprocess.run([sys.executable, "-m", "cli", "run", str(cfg), "--out",
                           str(tmp_path / "run")], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run = tmp_path / "run"
    metrics = (run / "train_vicreg" / "metrics.jsonl").read_text().splitlines()
    assert '"invariance"' in metrics[-1]
    bag = pd.read_csv(run / "brain_age" / "bag.tsv", sep="\t")
    assert {"bag_fs", "bag_vicreg"} <= set(bag.columns)
    report = yaml.safe_load((run / "gwas" / "gwas_report.json").read_text())
    assert report["engine"] == "numpy"
    assert {p["phenotype"] for p in report["phenotypes"]} >= {"BAG_FS", "BAG_VICREG"}


def test_an_engine_result_without_the_qc_counts_is_refused():
    from gwas.engines import EngineResult, GwasEngine, check_result

    engine = GwasEngine("broken", "Broken", lambda req: None)
    with pytest.raises(TypeError, match="'broken'.*variants_removed_hwe"):
        check_result(engine, EngineResult({}, {"samples_in": 1}, None))
