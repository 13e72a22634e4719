import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gwas.heritability.grm import compute_grm, read_grm, unrelated, write_grm
from gwas.plink_io import BedReader


def _naive_gcta(g):
    """GCTA's GRM by explicit loops over pairs (reference), g (m, n) with NaN missing."""
    m, n = g.shape
    p = np.nanmean(g, axis=1) / 2
    ok = (p > 0) & (p < 1)
    g, p = g[ok], p[ok]
    v = 2 * p * (1 - p)
    a = np.zeros((n, n))
    for i in range(n):
        for k in range(i + 1):
            both = ~np.isnan(g[:, i]) & ~np.isnan(g[:, k])
            if i == k:
                x = g[both, i]
                a[i, i] = 1 + np.mean((x**2 - (1 + 2 * p[both]) * x + 2 * p[both] ** 2)
                                      / v[both])
            else:
                a[i, k] = a[k, i] = np.mean((g[both, i] - 2 * p[both]) * (g[both, k]
                                            - 2 * p[both]) / v[both])
    return a


@pytest.mark.parametrize(("precision", "atol"), [("double", 1e-10), ("single", 1e-6)])
def test_matches_definition_with_missing_calls(tiny_sim, precision, atol):
    """float64 products equal the definition to rounding; float32 products (the default)
    to 1e-6, the resolution of the float32 .grm.bin every GRM is written to."""
    reader = BedReader(tiny_sim / "genotypes/cohort")
    rows = np.arange(0, 5000, 25)
    samples = np.arange(40)
    grm, counts = compute_grm(reader, rows, samples, chunk=64, precision=precision)
    ref = _naive_gcta(reader.read(rows, samples))
    assert np.abs(grm - ref).max() < atol
    assert counts.max() <= len(rows) and counts.min() < len(rows)  # missing calls counted


def test_single_precision_products_match_double_on_a_cohort(tiny_sim):
    """All the tiny cohort's variants and samples: float32 chunk products accumulated in
    float64 stay within 1e-6 of the float64 GRM (3.6e-8 measured on the demo cohort,
    2,500 x 100,000); a wrong precision name is refused."""
    reader = BedReader(tiny_sim / "genotypes/cohort")
    single, n1 = compute_grm(reader, chunk=500)
    double, n2 = compute_grm(reader, chunk=500, precision="double")
    assert np.abs(single - double).max() < 1e-6
    assert np.array_equal(n1, n2)
    with pytest.raises(ValueError, match="precision"):
        compute_grm(reader, np.arange(10), precision="half")


@pytest.mark.external
def test_off_diagonal_equals_plink2(complete_sim, tmp_path):
    prefix = str(complete_sim / "genotypes/cohort")
    grm, _ = compute_grm(BedReader(prefix))
    subprocess.run(["plink2", "--bfile", prefix, "--make-grm-bin", "--out",
                    str(tmp_path / "p")], check=True, capture_output=True)
    pg, _, ids = read_grm(tmp_path / "p")
    off = ~np.eye(len(grm), dtype=bool)
    # float32 on disk: 1e-6; PLINK 2's diagonal is the mean of squared standardised
    # genotypes, GCTA's (ours) is 1 + F-hat-3, so only the off-diagonal must agree
    assert np.abs(pg[off] - grm[off]).max() < 1e-6
    assert list(ids["IID"]) == BedReader(prefix).fam["IID"].tolist()


def test_binary_roundtrip_and_cutoff(tmp_path):
    import pandas as pd

    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 50))
    grm = x @ x.T / 50
    grm[0, 1] = grm[1, 0] = 0.5
    ids = pd.DataFrame({"FID": list("abcdef"), "IID": list("abcdef")})
    write_grm(tmp_path / "g", grm, np.full((6, 6), 50.0), ids)
    back, counts, ids2 = read_grm(tmp_path / "g")
    assert np.allclose(back, grm, atol=1e-6) and counts[2, 3] == 50
    assert (tmp_path / "g.grm.bin").stat().st_size == 4 * 21
    keep = unrelated(np.array([[1, 0.5, 0], [0.5, 1, 0.3], [0, 0.3, 1.0]]), 0.025)
    assert keep.tolist() == [0, 2]  # sample 1 is in both related pairs


def _counts_by_chunks(called, chunk):
    from gwas.heritability.grm import PairCounts

    acc = PairCounts(called.shape[1])
    for start in range(0, called.shape[0], chunk):
        acc.add(called[start:start + chunk])
    return acc.result()


@pytest.mark.parametrize("rate", [0.0, 0.001, 0.01, 0.2])
def test_pair_counts_equal_the_dense_product(rate):
    """Counts of variants called in both samples, accumulated over chunks, equal
    called.T @ called exactly: no missing calls, very few (sparse path), a few, many
    (dense syrk path)."""
    called = np.random.default_rng(1).random((300, 120)) >= rate
    dense = called.astype(float).T @ called.astype(float)
    np.testing.assert_array_equal(_counts_by_chunks(called, 64), dense)


def test_pair_counts_flush_keeps_counts_exact(monkeypatch):
    """The float32 accumulator flushed into float64 mid-way changes nothing."""
    from gwas.heritability.grm import PairCounts

    monkeypatch.setattr(PairCounts, "_FLUSH", 50)
    called = np.random.default_rng(2).random((400, 60)) >= 0.3
    dense = called.astype(float).T @ called.astype(float)
    np.testing.assert_array_equal(_counts_by_chunks(called, 30), dense)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 25), st.floats(0, 0.3), st.integers(0, 2**32 - 1),
       st.integers(1, 40))
def test_pair_counts_property(k, n, rate, seed, chunk):
    """Any block (k variants x n samples, any share missing, any chunking): the count
    equals the dense product, exactly, on either path."""
    called = np.random.default_rng(seed).random((k, n)) >= rate
    dense = called.astype(float).T @ called.astype(float)
    np.testing.assert_array_equal(_counts_by_chunks(called, chunk), dense)
