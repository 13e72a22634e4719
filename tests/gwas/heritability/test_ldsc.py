import gzip

import numpy as np
import pandas as pd
import pytest

from gwas.heritability.ldsc import (
    ldsc_cli_command,
    ldsc_h2,
    ldsc_rg,
    parse_ldsc_log,
    to_ldsc_sumstats,
)

H2_LOG = """Total Observed scale h2: 0.4213 (0.0451)
Lambda GC: 1.1982
Mean Chi^2: 1.2303
Intercept: 1.0132 (0.0087)
Ratio: 0.0573 (0.0378)
"""
RG_LOG = """Genetic Correlation
-------------------
Genetic Correlation: 0.8812 (0.0345)
Z-score: 25.5415
P: 6.5932e-144
"""


def test_log_parsers():
    assert parse_ldsc_log(H2_LOG) == {"h2": 0.4213, "h2_se": 0.0451, "intercept": 1.0132,
                                      "intercept_se": 0.0087, "ratio": 0.0573,
                                      "ratio_se": 0.0378}
    assert parse_ldsc_log(RG_LOG) == {"rg": 0.8812, "rg_se": 0.0345, "p": 6.5932e-144}
    assert ldsc_cli_command("ldsc.py", "rg", ["a.sumstats.gz", "b.sumstats.gz"], "ld/",
                            "w/", "out/x") == [
        "ldsc.py", "--rg", "a.sumstats.gz,b.sumstats.gz", "--ref-ld-chr", "ld/",
        "--w-ld-chr", "w/", "--out", "out/x"]


def test_sumstats_conversion(tmp_path):
    ssf = pd.DataFrame({"rsid": ["rs1", "rs2", "rs3", None], "variant_id": list("abcd"),
                        "effect_allele": ["A", "C", "G", "T"], "other_allele": ["G", "T", "A", "C"],
                        "beta": [0.2, -0.1, 0.3, 0.1], "standard_error": [0.1, 0.05, 0.0, 0.1],
                        "effect_allele_frequency": [0.3, 0.005, 0.4, 0.5], "n": [100] * 4})
    assert to_ldsc_sumstats(ssf, tmp_path / "x.sumstats.gz") == 2  # MAF and SE=0 dropped
    text = gzip.decompress((tmp_path / "x.sumstats.gz").read_bytes()).decode().splitlines()
    assert text[0] == "SNP\tA1\tA2\tZ\tN" and text[1] == "rs1\tA\tG\t2\t100"
    assert text[2].startswith("d\tT\tC\t1\t")  # no rsid: the variant id


@pytest.fixture(scope="module")
def ldsc_inputs(complete_sim, tmp_path_factory):
    from gwas.config import GwasConfig
    from gwas.heritability.ldsc import cohort_ld_scores
    from gwas.run import GenotypeInput, run_gwas

    d = tmp_path_factory.mktemp("ldsc")
    lat = pd.read_csv(complete_sim / "truth/latent.tsv", sep="\t")
    rng = np.random.default_rng(4)
    pd.DataFrame({"IID": lat["IID"], "A": lat["genetic_value"] * 2 + rng.normal(0, 0.5, 300),
                  "NULL": rng.normal(size=300)}).to_csv(d / "p.tsv", sep="\t", index=False)
    cfg = GwasConfig.model_validate({"engine": "plink2", "pca": {"n_pcs": 0}})
    run_gwas(GenotypeInput(bfile=str(complete_sim / "genotypes/cohort")), d / "p.tsv", None,
             None, None, cfg, d / "g")
    prefix = cohort_ld_scores(str(complete_sim / "genotypes/cohort"), d / "ld")
    from gwas.sumstats import read_sumstats

    for name in ("A", "NULL"):
        to_ldsc_sumstats(read_sumstats(d / "g" / f"{name}.tsv.gz"), d / f"{name}.sumstats.gz")
    return d, prefix


@pytest.mark.external
def test_pyldsc_h2_and_rg(ldsc_inputs):
    d, prefix = ldsc_inputs
    a = ldsc_h2(str(d / "A.sumstats.gz"), prefix, prefix)
    null = ldsc_h2(str(d / "NULL.sumstats.gz"), prefix, prefix)
    assert a["h2"] > null["h2"] and np.isfinite(a["intercept_se"])
    self_rg = ldsc_rg(str(d / "A.sumstats.gz"), str(d / "A.sumstats.gz"), prefix, prefix)
    assert self_rg["rg"] == pytest.approx(1.0, abs=1e-3)  # a trait with itself
