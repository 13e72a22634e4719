"""Relatedness QC: KING-robust kinship as PLINK 2 computes it, one removal rule for every
engine (a maximal unrelated set, ties to the later sample), and the planted families of
the simulator found."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from gwas.engines import remove_relatives
from gwas.relatedness import KING_CUTOFF, degree, relatives_table, unrelated_set


def _pairs(edges: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(edges, columns=["IID1", "IID2", "kinship"])


def _independent_and_maximal(samples, pairs, cutoff, kept):
    close = pairs[pairs["kinship"] >= cutoff]
    adj = {s: set() for s in samples}
    for a, b in zip(close["IID1"], close["IID2"], strict=True):
        adj[a].add(b)
        adj[b].add(a)
    keep = set(kept)
    assert all(not (adj[s] & keep) for s in keep)  # no related pair left
    assert all(adj[s] & keep for s in samples if s not in keep)  # none could join


def test_degree_boundaries_are_kings():
    assert [degree(k) for k in (0.5, 0.3, 0.25, 0.15, 0.1, 0.06, 0.03, -0.1)] == \
        [0, 1, 1, 2, 2, 3, None, None]
    assert KING_CUTOFF == pytest.approx(2 ** -3.5, abs=1e-4)


def test_one_pair_keeps_the_earlier_sample():
    kept, removed = unrelated_set(["a", "b", "c"], _pairs([("b", "a", 0.25)]), 0.0884)
    assert kept == ["a", "c"] and removed == ["b"]
    # a third-degree pair stays at the default cutoff
    kept, removed = unrelated_set(["a", "b"], _pairs([("a", "b", 0.06)]), 0.0884)
    assert kept == ["a", "b"] and removed == []


def test_the_sample_with_most_relatives_goes_first():
    # a trio: the child is related to both parents; removing it keeps both
    pairs = _pairs([("mum", "kid", 0.25), ("dad", "kid", 0.25), ("mum", "dad", 0.0)])
    kept, removed = unrelated_set(["kid", "mum", "dad"], pairs, 0.0884)
    assert removed == ["kid"] and kept == ["mum", "dad"]


def test_removed_samples_are_given_back_when_they_can_be():
    # a path a-b-c-d: greedy by degree removes b (tie with c: b... c is later, c goes),
    # the give-back step must leave a maximal set
    samples = list("abcd")
    pairs = _pairs([("a", "b", 0.25), ("b", "c", 0.25), ("c", "d", 0.25)])
    kept, removed = unrelated_set(samples, pairs, 0.0884)
    _independent_and_maximal(samples, pairs, 0.0884, kept)
    assert len(kept) == 2 and sorted(kept + removed) == samples


@pytest.mark.parametrize("seed", range(25))
def test_random_graphs_give_a_maximal_unrelated_set(seed):
    rng = np.random.default_rng(seed)
    samples = [f"s{i}" for i in range(30)]
    edges = [(a, b, float(rng.uniform(0, 0.3))) for a, b in itertools.combinations(samples, 2)
             if rng.random() < 0.08]
    pairs = _pairs(edges)
    kept, removed = unrelated_set(samples, pairs, 0.0884)
    _independent_and_maximal(samples, pairs, 0.0884, kept)
    assert kept == [s for s in samples if s in set(kept)]  # in the samples' order
    # the same rule whatever order the engine lists its pairs in, either way round
    flipped = pairs.rename(columns={"IID1": "IID2", "IID2": "IID1"}).sample(frac=1,
                                                                            random_state=seed)
    assert unrelated_set(samples, flipped, 0.0884) == (kept, removed)


def test_remove_relatives_orders_pairs_and_counts():
    counts = {"samples_out": 3}
    pairs = _pairs([("c", "a", 0.26), ("x", "a", 0.3)])  # x is not analysed
    kept, rel = remove_relatives(["a", "b", "c"], ["c", "b", "a"], pairs, 0.0884, counts)
    assert kept == ["a", "b"] and rel.removed == ["c"]
    assert counts == {"samples_out": 2, "samples_removed_related": 1}
    assert rel.pairs[["IID1", "IID2", "removed"]].values.tolist() == [["a", "c", "c"]]
    assert rel.pairs["degree"].tolist() == [1]


def test_relatives_table_lists_closest_first():
    t = relatives_table(_pairs([("a", "b", 0.06), ("c", "d", 0.24)]), ["d"])
    assert t["IID1"].tolist() == ["c", "a"] and t["removed"].tolist() == ["d", ""]
    assert t["degree"].tolist() == [1, 3]


def king_robust(dos: np.ndarray) -> np.ndarray:
    """Reference KING-robust kinship (Manichaikul et al. 2010, eq. 11), counts over the
    variants both samples called: ``dos`` (n_variants, n_samples) with -1 missing."""
    called = (dos >= 0).astype(float)
    het = (dos == 1).astype(float)
    hom_ref, hom_alt = (dos == 0).astype(float), (dos == 2).astype(float)
    hethet = het.T @ het
    ibs0 = hom_ref.T @ hom_alt + hom_alt.T @ hom_ref
    het_i = het.T @ called  # i's hets where j is called
    het_j = het_i.T
    return 0.5 + (2 * hethet - 4 * ibs0 - het_i - het_j) / (4 * np.minimum(het_i, het_j))


@pytest.mark.external
def test_plink2_king_matches_the_estimator_and_finds_the_planted_families(tmp_path,
                                                                          families_sim):
    """PLINK 2's --make-king-table equals the estimator computed here, to its printed
    precision; every planted first- and second-degree pair is found, within range."""
    from gwas.engines.plink2 import king_pairs
    from gwas.plink_io import open_bed

    bfile = str(families_sim / "genotypes" / "cohort")
    reader = open_bed(bfile)
    ids = reader.fam["IID"].astype(str).tolist()
    keep = tmp_path / "keep.tsv"
    reader.fam[["FID", "IID"]].to_csv(keep, sep="\t", index=False, header=["#FID", "IID"])
    pairs = king_pairs(["--bfile", bfile], keep, 0.0442, tmp_path)
    dos = reader.read(np.arange(len(reader.bim)))  # (m, n) A1 counts, NaN missing
    ref = king_robust(np.where(np.isnan(dos), -1, dos).astype(np.int8))
    rank = {s: i for i, s in enumerate(ids)}
    want = ref[[rank[a] for a in pairs["IID1"]], [rank[b] for b in pairs["IID2"]]]
    np.testing.assert_allclose(pairs["kinship"], want, atol=5e-6)
    truth = pd.read_csv(families_sim / "truth" / "relatives.tsv", sep="\t", dtype=str)
    found = {frozenset(p): k for p, k in zip(zip(pairs["IID1"], pairs["IID2"], strict=True),
                                            pairs["kinship"], strict=True)}
    for _, r in truth.iterrows():
        phi = found.get(frozenset((r["IID1"], r["IID2"])))
        assert phi is not None, (r["IID1"], r["IID2"], r["relationship"])
        expected = float(r["kinship"])
        assert expected / 2 ** 0.5 < phi < expected * 2 ** 0.5, (r.to_dict(), phi)
        assert degree(phi) == int(r["degree"])


def _family_pheno(sim, path):
    """The planted latent factor as a phenotype (the families' shared environment in it)."""
    latent = pd.read_csv(sim / "truth" / "latent.tsv", sep="\t")
    latent[["IID", "latent_factor"]].rename(columns={"latent_factor": "Y"}).to_csv(
        path, sep="\t", index=False)
    return path


def _gwas(sim, tmp_path, engine, name):
    from gwas.config import GwasConfig
    from gwas.genotype_input import GenotypeInput
    from gwas.run import run_gwas

    cfg = GwasConfig.model_validate({"engine": engine, "pca": {"n_pcs": 2},
                                     "hail": {"spark_master": "local[2]",
                                              "driver_memory_gb": 2}})
    out = tmp_path / name
    report = run_gwas(GenotypeInput(bfile=str(sim / "genotypes" / "cohort")),
                      _family_pheno(sim, tmp_path / "y.tsv"), None, None, None, cfg, out)
    return out, report


@pytest.mark.external
def test_plink2_engine_removes_relatives_and_reports_them(families_sim, tmp_path):
    """The GWAS analyses the rule's unrelated set (checked against the rule applied to the
    reference estimator), lists every planted pair, and the report shows them."""
    from gwas.plink_io import open_bed
    from report.page import build_report

    out, report = _gwas(families_sim, tmp_path, "plink2", "gwas")
    rel = report["relatedness"]
    pairs = pd.read_csv(out / "relatives.tsv", sep="\t", dtype={"IID1": str, "IID2": str})
    truth = pd.read_csv(families_sim / "truth" / "relatives.tsv", sep="\t", dtype=str)
    listed = {frozenset(p) for p in zip(pairs["IID1"], pairs["IID2"], strict=True)}
    assert {frozenset(p) for p in zip(truth["IID1"], truth["IID2"], strict=True)} <= listed
    # the same removals as the rule on the reference KING of the analysed samples
    reader = open_bed(str(families_sim / "genotypes" / "cohort"))
    ids = reader.fam["IID"].astype(str).tolist()
    dos = reader.read(np.arange(len(reader.bim)))
    qc_ids = set(pd.read_csv(out / "work" / "qc" / "keep.tsv", sep="\t", dtype=str)["IID"])
    extract = set((out / "work" / "qc" / "extract.txt").read_text().split())
    rows = np.array([v in extract for v in reader.bim["id"]])
    cols = [i for i, s in enumerate(ids) if s in qc_ids]
    sub = dos[np.ix_(rows, cols)]
    ref = king_robust(np.where(np.isnan(sub), -1, sub).astype(np.int8))
    names = [ids[i] for i in cols]
    iu = np.triu_indices(len(names), 1)
    ref_pairs = pd.DataFrame({"IID1": np.array(names)[iu[0]], "IID2": np.array(names)[iu[1]],
                              "kinship": ref[iu]})
    kept, removed = unrelated_set(names, ref_pairs, KING_CUTOFF)
    assert sorted(rel["removed"]) == sorted(removed) and rel["samples_removed_related"] > 0
    assert rel["checked"] and report["qc"]["samples_out"] == len(kept)
    # the association and the design h2/rg reuse hold the unrelated set only
    ssf = pd.read_csv(out / "Y.tsv.gz", sep="\t")
    assert int(ssf["n"].max()) == len(kept)
    covar = pd.read_csv(out / "covariates.tsv", sep="\t", dtype={"IID": str})
    assert set(covar["IID"]) == set(kept)
    html = build_report(tmp_path, tmp_path / "report").read_text()
    assert "Relatedness QC (KING-robust kinship, cutoff 0.0884)" in html
    assert (tmp_path / "report" / "figures" / "kinship.png").exists()


@pytest.mark.hail
@pytest.mark.extended
def test_hail_engine_removes_the_same_relatives(families_sim, tmp_path):
    """Hail's hl.king and the PLINK 2 engine remove the same samples on the same data."""
    _, a = _gwas(families_sim, tmp_path, "plink2", "plink2")
    _, b = _gwas(families_sim, tmp_path, "hail", "hail")
    assert sorted(a["relatedness"]["removed"]) == sorted(b["relatedness"]["removed"])
    assert a["relatedness"]["related_pairs"] == b["relatedness"]["related_pairs"]
