"""The BOLT-LMM engine: relatives kept and listed, the same GWAS-SSF tables and report as
the other engines, BOLT's own linear regression equal to the PLINK 2 engine's on the same
samples and covariates, BOLT's warnings surfaced."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from gwas.config import GwasConfig
from gwas.genotype_input import GenotypeInput
from gwas.run import run_gwas
from gwas.sumstats import SSF_COLUMNS

#: make setup installs the Debian package bolt-lmm; without it these say so
NEEDS_BOLT = pytest.mark.skipif(shutil.which("bolt") is None,
                                reason="needs bolt (BOLT-LMM): make setup installs bolt-lmm")


def _gwas(sim, tmp_path, engine, name, **qc):
    latent = pd.read_csv(sim / "truth" / "latent.tsv", sep="\t")
    pheno = tmp_path / "y.tsv"
    latent[["IID", "latent_factor"]].rename(columns={"latent_factor": "Y"}).to_csv(
        pheno, sep="\t", index=False)
    cfg = GwasConfig.model_validate({"engine": engine, "pca": {"n_pcs": 2}, "qc": qc})
    out = tmp_path / name
    return out, run_gwas(GenotypeInput(bfile=str(sim / "genotypes" / "cohort")), pheno, None,
                         None, None, cfg, out)


@pytest.mark.external
@NEEDS_BOLT
def test_bolt_keeps_relatives_and_matches_plink2_linear_regression(families_sim, tmp_path):
    out, rep = _gwas(families_sim, tmp_path, "bolt", "bolt")
    rel = rep["relatedness"]
    assert rel["checked"] and rel["related_pairs"] > 50 and rel["samples_removed_related"] == 0
    assert rep["qc"]["samples_out"] == 400  # nobody removed: the mixed model keeps them
    ssf = pd.read_csv(out / "Y.tsv.gz", sep="\t")
    assert list(ssf.columns) == SSF_COLUMNS and int(ssf["n"].max()) == 400
    assert len(ssf) == rep["qc"]["variants_out"]
    assert "--noMapCheck" in rep["note"]  # the simulated .bim's cM are not a genetic map
    assert any("LDscoresFile" in w for w in rep["bolt_warnings"])  # BOLT's own words
    assert 0.9 < rep["phenotypes"][0]["lambda_gc"] < 1.1
    # BOLT's linear regression (--verboseStats) = the PLINK 2 engine's on the same samples,
    # covariates and PCs (relatedness QC off there): chi2 = N r^2 against t^2
    pl, _ = _gwas(families_sim, tmp_path, "plink2", "plink2", king_cutoff=None)
    stats = pd.read_csv(out / "work" / "bolt.P1.stats", sep="\t").set_index("SNP")
    glm = pd.read_csv(next((pl / "work").glob("assoc*.glm.linear")), sep="\t").set_index("ID")
    both = stats.join(glm[["T_STAT", "OBS_CT"]], how="inner")
    assert len(both) == len(stats)
    t2 = both["T_STAT"].to_numpy() ** 2
    chi2 = both["CHISQ_LINREG"].to_numpy()
    assert np.corrcoef(t2, chi2)[0, 1] > 0.9999
    # BOLT's score statistic N r^2 against PLINK 2's t^2 = (N - k) r^2 / (1 - r^2)
    ratio = np.median(chi2[t2 > 1] / t2[t2 > 1])
    assert ratio == pytest.approx(1, abs=0.02)
    report = json.loads((out / "gwas_report.json").read_text())
    assert report["engine"] == "bolt" and report["bolt_models"]["Y"].startswith(
        ("non-infinitesimal", "infinitesimal"))


def test_bolt_reference_tables_are_passed_when_given(tmp_path):
    """BOLT's own LD-score and genetic-map tables, when configured, replace the chip LD
    scores and the .bim's positions; a missing one is refused (exit 2), naming the key."""
    from gwas.config import BoltConfig
    from gwas.engines.bolt import reference_args
    from rnce_bag.core.errors import InputError

    bim = tmp_path / "g.bim"
    bim.write_text("1\trs1\t0.1\t100000\tA\tG\n1\trs2\t1.1\t1100000\tC\tT\n")
    assert reference_args(BoltConfig(), tmp_path / "g") == (["--LDscoresUseChip"], "")
    ld, gm = tmp_path / "LDSCORE.tab.gz", tmp_path / "map.txt.gz"
    ld.write_bytes(b"x")
    gm.write_bytes(b"x")
    args, note = reference_args(BoltConfig(ld_scores=str(ld), genetic_map=str(gm)),
                                tmp_path / "g")
    assert args == ["--LDscoresFile", str(ld), "--geneticMapFile", str(gm)] and note == ""
    with pytest.raises(InputError, match="bolt.genetic_map"):
        reference_args(BoltConfig(genetic_map=str(tmp_path / "nope")), tmp_path / "g")
    # positions that are no genetic map: BOLT's check is turned off, and said
    bim.write_text("1\trs1\t0\t100000\tA\tG\n1\trs2\t0\t1100000\tC\tT\n")
    args, note = reference_args(BoltConfig(), tmp_path / "g")
    assert "--noMapCheck" in args and "not a genetic map" in note
