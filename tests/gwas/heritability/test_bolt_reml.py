"""``h2``/``rg --backend bolt``: BOLT-REML's estimates next to the embedded GREML on the
same samples, its logs parsed, and the flags it cannot take refused."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from cli.main import app
from gwas.heritability.bolt_reml import parse_gen_corr, parse_reml_log

#: make setup installs the Debian package bolt-lmm; without it these say so
NEEDS_BOLT = pytest.mark.skipif(shutil.which("bolt") is None,
                                reason="needs bolt (BOLT-LMM): make setup installs bolt-lmm")


def test_parse_reml_log_takes_the_final_estimate():
    text = ("Estimating variance parameters...\n  h2g (1,1): 0.300 (0.100)\n"
            "Final:\n  h2g (1,1): 0.4561 (0.0432)\nTotal elapsed time\n")
    assert parse_reml_log(text) == (0.4561, 0.0432)
    with pytest.raises(ValueError):
        parse_reml_log("nothing here")


#: the end of a two-trait ``bolt --reml`` log (BOLT 2.4)
BIVARIATE_LOG = """AI iteration converged: predicted change in log likelihood < tol = 0.0001
Variance component 0:  (environment/noise)
  h2e (1,1): 0.396460 (0.260661)
  resid corr (1,2): 0.805611 (1.127653)
  h2e (2,2): 0.101246 (0.257320)
Variance component 1:  "modelSnps"
  h2g (1,1): 0.603540 (0.260661)
  gen corr (1,2): 0.151310 (0.263693)
  h2g (2,2): 0.898754 (0.257320)
"""


def test_parse_the_two_trait_log():
    assert parse_reml_log(BIVARIATE_LOG, 1) == (0.603540, 0.260661)
    assert parse_reml_log(BIVARIATE_LOG, 2) == (0.898754, 0.257320)
    assert parse_gen_corr(BIVARIATE_LOG) == (0.151310, 0.263693)  # not the residual corr
    with pytest.raises(ValueError):
        parse_gen_corr("  h2g (1,1): 0.3 (0.1)\n")


@pytest.mark.parametrize("command", ["h2", "rg"])
def test_bolt_backend_refuses_a_grm(runner, tmp_path, command):
    (tmp_path / "p.tsv").write_text("IID\tY\tZ\nA\t1\t2\n")
    res = runner.invoke(app, [command, "--grm", "g", "--pheno", str(tmp_path / "p.tsv"),
                              "--backend", "bolt", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "needs --bfile" in res.output


@pytest.mark.external
@NEEDS_BOLT
def test_bolt_reml_agrees_with_the_embedded_greml(families_sim, tmp_path, runner):
    """Same samples (the unrelated ones of a families cohort: BOLT-REML and GREML both
    assume no close relatives) and no covariates: the two estimates of the latent
    factor's h2 within one SE of each other."""
    tables = _bolt_and_embedded(runner, families_sim, tmp_path, "h2", {"latent_factor": "Y"})
    b, e = tables["bolt"].iloc[0], tables["embedded"].iloc[0]
    assert b["backend"] == "bolt" and b["status"].startswith("ok") and b["n"] == e["n"]
    assert abs(b["h2"] - e["h2"]) < max(b["h2_se"], e["h2_se"])
    assert not (tmp_path / "bolt" / "grm.grm.bin").exists()  # no dense GRM
    assert (tmp_path / "bolt" / "Y.bolt.log").exists()


@pytest.mark.external
@NEEDS_BOLT
def test_bolt_rg_agrees_with_the_embedded_greml(families_sim, tmp_path, runner):
    """The genetic correlation of the BAG latent factor and the white-matter factor by
    BOLT's two-trait REML and by the embedded bivariate GREML, same unrelated samples:
    rg and both h2 within one SE of each other (BOLT's is a Monte Carlo REML)."""
    tables = _bolt_and_embedded(runner, families_sim, tmp_path, "rg",
                                {"latent_factor": "latent_factor", "wm_factor": "wm_factor"})
    b, e = tables["bolt"].iloc[0], tables["embedded"].iloc[0]
    assert b["backend"] == "bolt" and b["status"].startswith("ok") and b["n"] == e["n"]
    for est, se in (("rg", "rg_se"), ("h2_1", "h2_1_se"), ("h2_2", "h2_2_se")):
        assert abs(b[est] - e[est]) < max(b[se], e[se]), (est, b[est], e[est])
    assert 0 < b["p"] < 1 and b["converged"]
    assert (tmp_path / "bolt" / "latent_factor__wm_factor.bolt.log").exists()
    assert not list((tmp_path / "bolt").glob("*.grm.bin"))


def _bolt_and_embedded(runner, sim, tmp_path, command: str, columns: dict[str, str]) -> dict:
    """``command`` (h2 or rg) by both backends on the same samples, the unrelated ones of
    the families cohort (one of each planted pair dropped; TRUTH, for the test's sample
    choice only): latent ``columns`` renamed as phenotypes -> backend -> its table."""
    latent = pd.read_csv(sim / "truth" / "latent.tsv", sep="\t")
    planted = pd.read_csv(sim / "truth" / "relatives.tsv", sep="\t")
    latent = latent[~latent["IID"].isin(set(planted["IID2"]))]
    pheno = tmp_path / "y.tsv"
    latent[["IID", *columns]].rename(columns=columns).to_csv(pheno, sep="\t", index=False)
    tables = {}
    for backend in ("bolt", "embedded"):
        res = runner.invoke(app, [command, "--bfile", str(sim / "genotypes" / "cohort"),
                                  "--pheno", str(pheno), "--backend", backend,
                                  "--grm-cutoff", "0", "--out", str(tmp_path / backend)])
        assert res.exit_code == 0, res.output
        table = "heritability.tsv" if command == "h2" else "rg.tsv"
        tables[backend] = pd.read_csv(tmp_path / backend / table, sep="\t")
    return tables
