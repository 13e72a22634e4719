"""Chromosome codes as public files write them ('chr1', '1', '23', 'X', 'MT'): both engines
analyse the autosomes, count the rest, and agree."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from gwas.config import GwasConfig
from gwas.run import GenotypeInput, run_gwas


@pytest.mark.hail
@pytest.mark.external
def test_chr_prefixed_and_numeric_sex_chromosome_codes(complete_sim, tmp_path):
    d = tmp_path / "g"
    d.mkdir()
    for ext in ("bed", "fam"):
        shutil.copy(complete_sim / f"genotypes/cohort.{ext}", d / f"c.{ext}")
    bim = pd.read_csv(complete_sim / "genotypes/cohort.bim", sep="\t", header=None, dtype=str)
    bim[0] = "chr" + bim[0]
    bim.loc[:29, 0] = "23"  # PLINK's numeric X
    bim.loc[30:39, 0] = "chrY"
    bim.loc[40:44, 0] = "MT"
    bim.loc[:44, 3] = [str(100 + 10 * i) for i in range(45)]  # within MT's 16.6 kb
    bim.to_csv(d / "c.bim", sep="\t", header=False, index=False)
    reports, ss = {}, {}
    for engine in ("plink2", "hail"):
        cfg = GwasConfig.model_validate({"engine": engine, "pca": {"n_pcs": 0},
                                         "hail": {"spark_master": "local[2]",
                                                  "driver_memory_gb": 2}})
        reports[engine] = run_gwas(GenotypeInput(bfile=str(d / "c")), complete_sim / "pheno.tsv",
                                   ["LATENT"], None, None, cfg, tmp_path / engine)
        ss[engine] = pd.read_csv(tmp_path / engine / "LATENT.tsv.gz", sep="\t",
                                 dtype={"chromosome": str}).set_index("rsid")
    for engine in ("plink2", "hail"):
        assert reports[engine]["qc"]["variants_not_autosomal"] == 45, engine
        assert ss[engine]["chromosome"].str.fullmatch(r"\d+").all()  # '1', not 'chr1'
    assert reports["plink2"]["qc"]["variants_out"] == reports["hail"]["qc"]["variants_out"]
    a, b = ss["plink2"], ss["hail"].loc[ss["plink2"].index]
    np.testing.assert_allclose(a["beta"], b["beta"], rtol=2e-5, atol=1e-8)
