"""Shared fixtures and marker handling.

Markers: ``slow`` and ``hail`` run everywhere (CI included); ``external`` runs when
plink2 / gemma are on PATH (``make setup`` installs them) and is skipped with a
reason otherwise; ``gpu`` is skipped without CUDA; ``extended`` (long Hail equivalence
checks and the demo-scale planted truth: minutes each, each with a narrower default test
beside it) runs only with ``RNCE_BAG_EXTENDED=1`` (``make test-all``), so that the
default suite stays within CI's 25 minutes.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
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
        if item.get_closest_marker("gpu"):
            if have_cuda is None:
                have_cuda = _cuda_available()
            if not have_cuda:
                item.add_marker(pytest.mark.skip(reason="needs CUDA"))
        if item.get_closest_marker("demo") and not any(
                os.environ.get(v) for v in ("RNCE_BAG_DEMO_RUN", "RNCE_BAG_ORACLE_RUN",
                                            "RNCE_BAG_ORACLE_CONTROL_RUN")):
            item.add_marker(pytest.mark.skip(
                reason="set RNCE_BAG_DEMO_RUN to a finished 'rnce-bag demo --preset demo' run"))
        if item.get_closest_marker("extended") and not os.environ.get("RNCE_BAG_EXTENDED"):
            item.add_marker(pytest.mark.skip(
                reason="extended check: RNCE_BAG_EXTENDED=1 (make test-all) runs it"))
        if item.get_closest_marker("external") and missing_tools:
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


@pytest.fixture(scope="session")
def families_sim(tmp_path_factory):
    """400 subjects, half of the normative ones in families (sibling pairs, trios,
    half-sibling pairs; shared family environment c2 = 0.2), 20,000 variants over 60 Mb
    (long enough for KING: the tiny preset's 6 Mb give unrelated pairs kinship up to 0.1),
    no missing calls, no images (~30 s)."""
    from rnce_bag.simulate.config import SimulateConfig
    from rnce_bag.simulate.run import simulate

    out = tmp_path_factory.mktemp("sim") / "families"
    simulate(SimulateConfig.model_validate({
        "cohort": {"n_subjects": 400},
        "genotypes": {"n_variants": 20000, "simulated_mb": 60, "missing_rate": 0.0},
        "images": {"write": False},
        "families": {"fraction": 0.5, "shared_environment": 0.2}}), out)
    return out


@pytest.fixture(scope="session")
def complete_sim(tmp_path_factory):
    """300 subjects x 2,000 variants, no missing calls, no images, with pheno/covar files."""
    from rnce_bag.simulate.config import SimulateConfig
    from rnce_bag.simulate.run import simulate

    cfg = SimulateConfig.model_validate({
        "seed": 5, "cohort": {"n_subjects": 300},
        "genotypes": {"n_variants": 2000, "simulated_mb": 4.0, "missing_rate": 0.0},
        "genetics": {"n_causal": 30}, "images": {"write": False}})
    out = simulate(cfg, tmp_path_factory.mktemp("gwas") / "sim")
    lat = pd.read_csv(out / "truth/latent.tsv", sep="\t")
    coh = pd.read_csv(out / "cohort.tsv", sep="\t")
    rng = np.random.default_rng(0)
    pheno = pd.DataFrame({"#FID": lat["IID"], "IID": lat["IID"], "LATENT": lat["latent_factor"],
                          "NOISE": rng.normal(size=len(lat))})
    pheno.loc[::7, "NOISE"] = np.nan  # its own missingness
    pheno.to_csv(out / "pheno.tsv", sep="\t", index=False, na_rep="NA")
    coh[["FID", "IID", "age", "sex", "site"]].rename(columns={"FID": "#FID"}).to_csv(
        out / "covar.tsv", sep="\t", index=False)
    return out


@pytest.fixture(scope="session")
def tiny_features(tiny_sim, tmp_path_factory):
    """features.parquet of the tiny cohort (FreeSurfer stats -> features)."""
    from rnce_bag.imaging.features import build_features

    table, _ = build_features(tiny_sim / "cohort.tsv")
    path = tmp_path_factory.mktemp("features") / "features.parquet"
    table.to_parquet(path, index=False)
    return path


@pytest.fixture(scope="session")
def run_folder(complete_sim, tmp_path_factory):
    """A run folder with GWAS, h2 and rg of two BAG-like phenotypes (plink2 engine)."""
    from gwas.config import GwasConfig
    from gwas.heritability.grm import compute_grm
    from gwas.heritability.run import estimate_h2, estimate_rg
    from gwas.plink_io import BedReader
    from gwas.run import GenotypeInput, run_gwas

    run = tmp_path_factory.mktemp("run")  # a session fixture: tests must not modify it
    lat = pd.read_csv(complete_sim / "truth/latent.tsv", sep="\t")
    rng = np.random.default_rng(2)
    p = run / "pheno.tsv"
    pd.DataFrame({"IID": lat["IID"], "BAG_FS": lat["latent_factor"] + rng.normal(0, .5, 300),
                  "BAG_RNCE": lat["latent_factor"] + rng.normal(0, .4, 300)}).to_csv(
        p, sep="\t", index=False)
    cfg = GwasConfig.model_validate({"engine": "plink2", "pca": {"n_pcs": 2},
                                     "genome_wide_p": 1e-4})
    run_gwas(GenotypeInput(bfile=str(complete_sim / "genotypes/cohort")), p, None, None, None,
             cfg, run / "gwas")
    reader = BedReader(complete_sim / "genotypes/cohort")
    a, _ = compute_grm(reader)
    (run / "h2").mkdir()
    estimate_h2(a, reader.fam, 2000, "", p, None, None, None, run / "h2", cutoff=None)
    (run / "rg").mkdir()
    estimate_rg(a, reader.fam, p, None, None, None, run / "rg", cutoff=None)
    (run / "enrich").mkdir()
    pd.DataFrame({"dataset": "truth", "cell_type": ["astrocytes", "neurons"],
                  "method": "gene-property", "beta": [0.1, -0.1], "beta_se": [0.05, 0.05],
                  "p_value": [0.02, 0.9], "p_bonferroni": [0.04, 1.0], "p_fdr": [0.04, 0.9],
                  "n_genes": [100, 100]}).to_csv(run / "enrich/celltypes.tsv", sep="\t",
                                                  index=False)
    (run / "gwas" / "run.json").write_text(json.dumps({
        "command": "<script>alert(1)</script>", "status": "ok", "started": "t0"}))
    return run
