import gzip

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gwas.enrichment import (
    _moment_matched_p,
    celltype_enrichment,
    gene_analysis,
    gene_windows,
    read_specificity,
)
from gwas.plink_io import BedReader
from rnce_bag.core.errors import InputError


def test_moment_matching_exact_limits():
    # independent SNPs: the sum of k chi2_1 is chi2_k exactly
    assert _moment_matched_p(12.0, np.eye(5)) == pytest.approx(stats.chi2.sf(12.0, 5))
    # perfect LD: the sum is k z^2, i.e. k chi2_1
    assert _moment_matched_p(12.0, np.ones((4, 4))) == pytest.approx(stats.chi2.sf(3.0, 1))
    assert _moment_matched_p(4.0, np.ones((1, 1))) == pytest.approx(stats.chi2.sf(4.0, 1))


def test_windows_are_strand_aware():
    g = gene_windows().set_index("symbol")
    mapt = g.loc["MAPT"]  # + strand: 35 kb before the start, 10 kb after the stop
    assert (mapt["win_start"], mapt["win_end"]) == (mapt["start"] - 35_000,
                                                   mapt["stop"] + 10_000)
    minus = g[g["strand"] == "-"].iloc[0]
    assert minus["win_start"] == minus["start"] - 10_000 and minus["win_end"] == minus[
        "stop"] + 35_000


@pytest.mark.external
def test_gene_p_values_uniform_on_null(complete_sim, tmp_path):
    from gwas.config import GwasConfig
    from gwas.run import GenotypeInput, run_gwas
    from gwas.sumstats import read_sumstats

    rng = np.random.default_rng(11)
    lat = pd.read_csv(complete_sim / "truth/latent.tsv", sep="\t")
    nulls = [f"N{k}" for k in range(6)]
    pd.DataFrame({"IID": lat["IID"], **{k: rng.normal(size=300) for k in nulls}}).to_csv(
        tmp_path / "p.tsv", sep="\t", index=False)
    run_gwas(GenotypeInput(bfile=str(complete_sim / "genotypes/cohort")), tmp_path / "p.tsv",
             None, None, None, GwasConfig.model_validate({"engine": "plink2",
                                                          "pca": {"n_pcs": 0}}), tmp_path / "g")
    reader = BedReader(complete_sim / "genotypes/cohort")
    frac, lam = [], []
    for k in nulls:
        genes = gene_analysis(read_sumstats(tmp_path / f"g/{k}.tsv.gz"), reader, gene_windows())
        frac.append((genes["p"] < 0.05).mean())
        lam.append(np.median(genes["z"] ** 2) / 0.4549)
    assert len(genes) > 300 and list(genes.columns) == ["gene", "chromosome", "start", "stop",
                                                        "n_snps", "statistic", "z", "p"]
    # null phenotypes: ~5% of genes below 0.05 and gene-z inflation ~1, averaged over six
    # nulls because neighbouring genes share SNPs in this small, LD-heavy panel
    assert 0.02 < np.mean(frac) < 0.09, frac
    assert 0.7 < np.mean(lam) < 1.3, lam


def test_real_fuma_tables_map_ensembl(shared_dir):
    t, info = read_specificity(shared_dir / "fixtures/celltypes/GSE67835_Human_Cortex_woFetal"
                                            ".txt.gz")
    assert info["id_type"] == "ensembl" and info["n_genes"] > 12_000 and info["n_unmapped"] > 0
    assert {"astrocytes", "oligodendrocytes", "Average"} <= set(t.columns)
    assert "MAPT" in t.index


def _table(tmp_path, text, name="t.txt.gz"):
    p = tmp_path / name
    p.write_bytes(gzip.compress(text.encode()))
    return p


@pytest.mark.parametrize(("text", "match"), [
    ("GENE\tA\tAverage\nMAPT\t1\t1\nMAPT\t2\t2\n", "appears more than once"),
    ("GENE\tA\tAverage\nMAPT\tx\t1\n", "column 'A': expression must be numeric"),
    ("GENE\tA\tAverage\nfoo1\t1\t1\nfoo2\t2\t2\n", "none of the 2 gene ids"),
    ("GENE\tA\nMAPT\t1\n", "expected FUMA format"),
])
def test_bad_tables(tmp_path, text, match):
    with pytest.raises(InputError, match=match):
        read_specificity(_table(tmp_path, text))


def test_gene_property_regression_finds_planted_cell_type():
    rng = np.random.default_rng(0)
    n = 3000
    genes = pd.DataFrame({"gene": [f"G{i}" for i in range(n)],
                          "chromosome": rng.integers(1, 23, n).astype(str),
                          "start": rng.integers(1, 100_000_000, n)})
    genes["stop"] = genes["start"] + rng.integers(1000, 200_000, n)
    genes["n_snps"] = rng.integers(1, 50, n)
    spec = pd.DataFrame({"oligo": rng.gamma(2, 1, n), "neuron": rng.gamma(2, 1, n)},
                        index=genes["gene"])
    spec["Average"] = spec.mean(axis=1)
    genes["z"] = 0.3 * (spec["oligo"].to_numpy() - spec["Average"].to_numpy()) + rng.normal(
        size=n)
    res = celltype_enrichment(genes, spec, "syn").set_index("cell_type")
    assert res.loc["oligo", "p_value"] < 1e-6 and res.loc["neuron", "p_value"] > 0.01
    assert set(res.columns) >= {"dataset", "method", "beta", "beta_se", "p_fdr", "n_genes"}


@pytest.mark.external
def test_enrich_command(runner, complete_sim, shared_dir, tmp_path):
    from cli.main import app
    from gwas.config import GwasConfig
    from gwas.run import GenotypeInput, run_gwas

    run_gwas(GenotypeInput(bfile=str(complete_sim / "genotypes/cohort")),
             complete_sim / "pheno.tsv", ["LATENT"], None, None,
             GwasConfig.model_validate({"engine": "plink2", "pca": {"n_pcs": 0}}),
             tmp_path / "g")
    res = runner.invoke(app, ["enrich", "--sumstats", str(tmp_path / "g/LATENT.tsv.gz"),
                              "--bfile", str(complete_sim / "genotypes/cohort"), "--celltypes",
                              str(complete_sim / "expression/celltype_specificity.tsv"),
                              "--celltypes", str(shared_dir / "fixtures/celltypes/"
                                                               "GSE67835_Human_Cortex_woFetal"
                                                               ".txt.gz"),
                              "--out", str(tmp_path / "e")])
    assert res.exit_code == 0, res.output
    ct = pd.read_csv(tmp_path / "e/celltypes.tsv", sep="\t")
    assert set(ct["dataset"]) == {"celltype_specificity", "GSE67835_Human_Cortex_woFetal"}
    assert ct["p_fdr"].between(0, 1).all() and (tmp_path / "e/genes.tsv").exists()
    res = runner.invoke(app, ["enrich", "--sumstats", str(tmp_path / "g/LATENT.tsv.gz"),
                              "--bfile", str(complete_sim / "genotypes/cohort"), "--celltypes",
                              str(complete_sim / "expression/celltype_specificity.tsv"),
                              "--ldsc-seg", "--out", str(tmp_path / "seg")])
    assert res.exit_code == 0, res.output
    seg = pd.read_csv(tmp_path / "seg/celltypes.tsv", sep="\t")
    assert set(seg["method"]) == {"gene-property", "ldsc-seg"}
    assert (seg[seg["method"] == "ldsc-seg"]["n_genes"] > 0).all()
    bad = _table(tmp_path, "GENE\tA\tAverage\nfoo1\t1\t1\n", "bad.txt.gz")
    res = runner.invoke(app, ["enrich", "--sumstats", str(tmp_path / "g/LATENT.tsv.gz"),
                              "--bfile", str(complete_sim / "genotypes/cohort"), "--celltypes",
                              str(bad), "--out", str(tmp_path / "e2")])
    assert res.exit_code == 2 and "gene ids" in res.output
    wrong = pd.read_csv(tmp_path / "g/LATENT.tsv.gz", sep="\t", dtype={"chromosome": str})
    wrong.loc[0, ["chromosome", "base_pair_location", "rsid"]] = ["19", 44908684, "rs429358"]
    wrong.to_csv(tmp_path / "hg38.tsv", sep="\t", index=False)
    res = runner.invoke(app, ["enrich", "--sumstats", str(tmp_path / "hg38.tsv"),
                              "--bfile", str(complete_sim / "genotypes/cohort"), "--celltypes",
                              str(complete_sim / "expression/celltype_specificity.tsv"),
                              "--out", str(tmp_path / "e3")])
    assert res.exit_code == 2 and "look like GRCh38" in res.output
    assert not (tmp_path / "e3/celltypes.tsv").exists()


@pytest.mark.external
def test_ld_scores_are_computed_once_per_reference_and_table(runner, complete_sim, tmp_path):
    """Two traits, one --ld-cache: the second enrich reuses the base and annotation LD
    scores (they do not depend on the trait) and gives what a fresh computation gives."""
    from cli.main import app
    from gwas.config import GwasConfig
    from gwas.run import GenotypeInput, run_gwas

    run_gwas(GenotypeInput(bfile=str(complete_sim / "genotypes/cohort")),
             complete_sim / "pheno.tsv", None, None, None,
             GwasConfig.model_validate({"engine": "plink2", "pca": {"n_pcs": 0}}),
             tmp_path / "g")
    cache = tmp_path / "ldcache"

    def enrich(trait: str, out: str, *extra: str) -> pd.DataFrame:
        res = runner.invoke(app, ["enrich", "--sumstats", str(tmp_path / f"g/{trait}.tsv.gz"),
                                  "--bfile", str(complete_sim / "genotypes/cohort"),
                                  "--celltypes",
                                  str(complete_sim / "expression/celltype_specificity.tsv"),
                                  "--ldsc-seg", "--out", str(tmp_path / out), *extra])
        assert res.exit_code == 0, res.output
        return pd.read_csv(tmp_path / out / "celltypes.tsv", sep="\t")

    enrich("LATENT", "a", "--ld-cache", str(cache))
    built = sorted(p.name for p in cache.iterdir())
    assert len(built) == 2 and all((cache / b / ".complete").exists() for b in built)
    stamps = {b: (cache / b / ".complete").stat().st_mtime_ns for b in built}
    reused = enrich("NOISE", "b", "--ld-cache", str(cache))
    assert sorted(p.name for p in cache.iterdir()) == built  # nothing rebuilt or added
    assert {b: (cache / b / ".complete").stat().st_mtime_ns for b in built} == stamps
    fresh = enrich("NOISE", "c")
    pd.testing.assert_frame_equal(reused, fresh)
