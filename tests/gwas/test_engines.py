"""PLINK 2 and Hail on the same inputs, and both against statsmodels OLS.

Tolerances: PLINK 2 prints 6 significant digits, so anything compared with it agrees to
2e-5 relative (beta, SE) and 1e-4 relative (p); Hail and statsmodels are compared at
full precision (1e-6 relative). Genotypes have no missing calls here: Hail mean-imputes
missing calls per variant while PLINK 2 drops those samples, which differ by design.
"""

import numpy as np
import pandas as pd
import pytest

from gwas.config import GwasConfig
from gwas.plink_io import BedReader
from gwas.run import GenotypeInput, run_gwas


def _cfg(engine):
    return GwasConfig.model_validate({"engine": engine, "pca": {"n_pcs": 0},
                                      "hail": {"spark_master": "local[2]",
                                               "driver_memory_gb": 2}})


def _run(sim, engine, out):
    return run_gwas(GenotypeInput(bfile=str(sim / "genotypes/cohort")), sim / "pheno.tsv", None,
                    sim / "covar.tsv", None, _cfg(engine), out)


def _ssf(out, name):
    return pd.read_csv(out / f"{name}.tsv.gz", sep="\t", dtype={"chromosome": str}
                       ).set_index("rsid")


def _ols(sim, rsids, pheno_name):
    import statsmodels.api as sm

    reader = BedReader(sim / "genotypes/cohort")
    ph = pd.read_csv(sim / "pheno.tsv", sep="\t")
    cv = pd.read_csv(sim / "covar.tsv", sep="\t")
    cv = pd.get_dummies(cv.drop(columns=["#FID"]), columns=["sex", "site"], drop_first=True,
                        dtype=float)
    df = ph.drop(columns=["#FID"]).merge(cv, on="IID")
    order = reader.fam["IID"].tolist()
    df = df.set_index("IID").loc[order]
    rows = reader.bim.reset_index().set_index("id").loc[rsids, "index"].to_numpy()
    g = reader.read(rows)
    out = {}
    for k, rs in enumerate(rsids):
        d = df.assign(g=g[k]).dropna(subset=[pheno_name])
        x = sm.add_constant(d[["g", *[c for c in cv.columns if c != "IID"]]].astype(float))
        fit = sm.OLS(d[pheno_name].astype(float), x).fit()
        out[rs] = (fit.params["g"], fit.bse["g"], fit.pvalues["g"], int(fit.nobs))
    return out


@pytest.mark.external
def test_plink2_matches_statsmodels(complete_sim, tmp_path):
    rep = _run(complete_sim, "plink2", tmp_path / "p2")
    assert rep["qc"]["samples_out"] == 300
    for name in ("LATENT", "NOISE"):
        ssf = _ssf(tmp_path / "p2", name)
        rsids = ssf.sort_values("p_value").index[:3].tolist()
        for rs, (b, se, p, n) in _ols(complete_sim, rsids, name).items():
            row = ssf.loc[rs]
            assert row["beta"] == pytest.approx(b, rel=2e-5)
            assert row["standard_error"] == pytest.approx(se, rel=2e-5)
            assert row["p_value"] == pytest.approx(p, rel=1e-4)
            assert row["n"] == n  # NOISE keeps its own missingness (every 7th sample NA)
    assert _ssf(tmp_path / "p2", "NOISE")["n"].max() < 300


@pytest.mark.hail
@pytest.mark.external
@pytest.mark.slow
def test_hail_agrees_with_plink2_and_statsmodels(complete_sim, tmp_path):
    import hail as hl

    fresh = hl.utils.java.Env._hc is None  # else this worker's session (and log) is reused
    rp = _run(complete_sim, "plink2", tmp_path / "p2")
    rh = _run(complete_sim, "hail", tmp_path / "hail")
    assert rp["qc"] == rh["qc"]  # same QC decisions
    for name in ("LATENT", "NOISE"):
        a, b = _ssf(tmp_path / "p2", name), _ssf(tmp_path / "hail", name)
        assert set(a.index) == set(b.index)
        b = b.loc[a.index]
        assert (a["effect_allele"] == b["effect_allele"]).all()
        assert np.allclose(b["beta"], a["beta"], rtol=2e-5, atol=1e-12)
        assert np.allclose(b["standard_error"], a["standard_error"], rtol=2e-5)
        assert np.allclose(b["p_value"], a["p_value"], rtol=1e-4, atol=1e-300)
        assert (a["n"] == b["n"]).all()
        rsids = a.sort_values("p_value").index[:3].tolist()
        for rs, (beta, se, p, n) in _ols(complete_sim, rsids, name).items():
            assert b.loc[rs, "beta"] == pytest.approx(beta, rel=1e-6)
            assert b.loc[rs, "standard_error"] == pytest.approx(se, rel=1e-6)
            assert b.loc[rs, "p_value"] == pytest.approx(p, rel=1e-6)
            assert b.loc[rs, "n"] == n
    assert (tmp_path / "hail" / "hail.log").exists() or not fresh  # a new session logs here


@pytest.mark.external
@pytest.mark.parametrize("fmt", ["bgen", "vcf"])
def test_plink2_engine_reads_bgen_and_vcf(shared_dir, tmp_path, fmt):
    g = shared_dir / "fixtures/genotypes"
    if fmt == "bgen":
        geno = GenotypeInput(bgen=str(g / "example.8bits.bgen"), sample=str(g / "example.sample"))
    else:
        geno = GenotypeInput(vcf=str(g / "sample.vcf"))
    ids = geno.samples()["IID"]
    rng = np.random.default_rng(0)
    pd.DataFrame({"IID": ids, "Y": rng.normal(size=len(ids))}).to_csv(tmp_path / "p.tsv",
                                                                      sep="\t", index=False)
    rep = run_gwas(geno, tmp_path / "p.tsv", None, None, None, _cfg("plink2"), tmp_path / "o")
    assert rep["phenotypes"][0]["n_variants"] > 100
    if fmt == "bgen":  # imputed: INFO filter, no call-rate filter on hard calls
        assert rep["qc"]["variants_removed_info"] > 0 and rep["qc"]["samples_out"] == 500
    assert (tmp_path / "o/Y.tsv.gz").exists()


@pytest.mark.hail
@pytest.mark.slow
def test_hail_engine_reads_read_only_bgen(shared_dir, tmp_path):
    g = shared_dir / "fixtures/genotypes"
    geno = GenotypeInput(bgen=str(g / "example.8bits.bgen"), sample=str(g / "example.sample"))
    ids = geno.samples()["IID"]
    pd.DataFrame({"IID": ids, "Y": np.random.default_rng(0).normal(size=len(ids))}).to_csv(
        tmp_path / "p.tsv", sep="\t", index=False)
    rep = run_gwas(geno, tmp_path / "p.tsv", None, None, None, _cfg("hail"), tmp_path / "o")
    assert rep["qc"]["variants_removed_info"] > 0 and rep["qc"]["samples_out"] == 500
    assert not list(g.glob("*.idx2"))  # the index went to the run's work folder
