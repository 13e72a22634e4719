"""``h2 --backend bolt``: BOLT-REML's estimate next to the embedded GREML on the same
samples and covariates, its log parsed, and the flags it cannot take refused."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from cli.main import app
from gwas.heritability.bolt_reml import parse_reml_log

#: make setup installs the Debian package bolt-lmm; without it these say so
NEEDS_BOLT = pytest.mark.skipif(shutil.which("bolt") is None,
                                reason="needs bolt (BOLT-LMM): make setup installs bolt-lmm")


def test_parse_reml_log_takes_the_final_estimate():
    text = ("Estimating variance parameters...\n  h2g (1,1): 0.300 (0.100)\n"
            "Final:\n  h2g (1,1): 0.4561 (0.0432)\nTotal elapsed time\n")
    assert parse_reml_log(text) == (0.4561, 0.0432)
    with pytest.raises(ValueError):
        parse_reml_log("nothing here")


def test_bolt_backend_refuses_a_grm_and_rg(runner, tmp_path):
    (tmp_path / "p.tsv").write_text("IID\tY\nA\t1\n")
    res = runner.invoke(app, ["h2", "--grm", "g", "--pheno", str(tmp_path / "p.tsv"),
                              "--backend", "bolt", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "needs --bfile" in res.output
    res = runner.invoke(app, ["rg", "--bfile", "g", "--pheno", str(tmp_path / "p.tsv"),
                              "--backend", "bolt", "--out", str(tmp_path / "r")])
    assert res.exit_code == 2, res.output


@pytest.mark.external
@NEEDS_BOLT
def test_bolt_reml_agrees_with_the_embedded_greml(families_sim, tmp_path, runner):
    """Same samples (the unrelated ones of a families cohort: BOLT-REML and GREML both
    assume no close relatives) and no covariates: the two estimates of the latent
    factor's h2 within one SE of each other."""
    latent = pd.read_csv(families_sim / "truth" / "latent.tsv", sep="\t")
    planted = pd.read_csv(families_sim / "truth" / "relatives.tsv", sep="\t")
    drop = set(planted["IID2"])  # one of each planted pair
    latent = latent[~latent["IID"].isin(drop)]
    pheno = tmp_path / "y.tsv"
    latent[["IID", "latent_factor"]].rename(columns={"latent_factor": "Y"}).to_csv(
        pheno, sep="\t", index=False)
    bfile = str(families_sim / "genotypes" / "cohort")
    tables = {}
    for backend in ("bolt", "embedded"):
        res = runner.invoke(app, ["h2", "--bfile", bfile, "--pheno", str(pheno),
                                  "--backend", backend, "--grm-cutoff", "0", "--out",
                                  str(tmp_path / backend)])
        assert res.exit_code == 0, res.output
        tables[backend] = pd.read_csv(tmp_path / backend / "heritability.tsv", sep="\t")
    b, e = tables["bolt"].iloc[0], tables["embedded"].iloc[0]
    assert b["backend"] == "bolt" and b["status"].startswith("ok") and b["n"] == e["n"]
    assert abs(b["h2"] - e["h2"]) < max(b["h2_se"], e["h2_se"])
    assert not (tmp_path / "bolt" / "grm.grm.bin").exists()  # no dense GRM
    assert (tmp_path / "bolt" / "Y.bolt.log").exists()
