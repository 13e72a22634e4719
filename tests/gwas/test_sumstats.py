import gzip

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gwas.sumstats import lambda_gc, read_sumstats, summarise, write_ssf
from rnce_bag.core.errors import InputError

PLINK2 = ("#CHROM\tPOS\tID\tREF\tALT\tA1\tA1_FREQ\tTEST\tOBS_CT\tBETA\tSE\tT_STAT\tP\n"
          "2\t200\trs2\tC\tT\tT\t0.3\tADD\t100\t-0.2\t0.05\t-4\t0.0001\n"
          "1\t100\trs1\tA\tG\tG\t0.1\tADD\t98\t0.5\t0.1\t5\t1e-6\n")
REGENIE = ("CHROM GENPOS ID ALLELE0 ALLELE1 A1FREQ N TEST BETA SE CHISQ LOG10P\n"
           "1 100 rs1 A G 0.1 98 ADD 0.5 0.1 25 6\n")
BOLT = ("SNP\tCHR\tBP\tGENPOS\tALLELE1\tALLELE0\tA1FREQ\tF_MISS\tBETA\tSE\tP_BOLT_LMM_INF\t"
        "P_BOLT_LMM\nrs1\t1\t100\t0.001\tG\tA\t0.1\t0\t0.5\t0.1\t2e-6\t1e-6\n")
HAIL = ('locus\talleles\trsid\tbeta\tstandard_error\tp_value\tn\n'
        '1:100\t["A","G"]\trs1\t0.5\t0.1\t1e-06\t98\n')


@pytest.mark.parametrize(("text", "fmt", "kw"), [(PLINK2, "plink2", {}),
                                                  (REGENIE, "regenie", {}),
                                                  (BOLT, "bolt", {"n": 98}),
                                                  (HAIL, "hail", {})])
def test_readers_agree_on_rs1(tmp_path, text, fmt, kw):
    p = tmp_path / f"x.{fmt}"
    p.write_text(text)
    df = read_sumstats(p, **kw)
    row = df[df["rsid"] == "rs1"].iloc[0]
    assert (row["chromosome"], row["base_pair_location"]) == ("1", 100)
    assert (row["effect_allele"], row["other_allele"]) == ("G", "A")
    assert row["beta"] == 0.5 and row["standard_error"] == 0.1
    assert row["p_value"] == pytest.approx(1e-6) and row["n"] == 98
    assert row["variant_id"] == "1_100_A_G"
    assert df["chromosome"].iloc[0] == "1"  # sorted by chromosome, then position


def test_write_ssf_reproducible_with_meta(tmp_path):
    p = tmp_path / "x.plink2"
    p.write_text(PLINK2)
    df = read_sumstats(p)
    out = write_ssf(df, tmp_path / "BAG.tsv.gz", {"trait_description": ["BAG"]})
    first = out.read_bytes()
    write_ssf(df, tmp_path / "BAG.tsv.gz", {"trait_description": ["BAG"]})
    assert out.read_bytes() == first
    back = read_sumstats(out)
    assert back.equals(df)
    meta = yaml.safe_load((tmp_path / "BAG-meta.yaml").read_text())
    assert meta["file_type"] == "GWAS-SSF v1.0" and meta["genome_assembly"] == "GRCh37"
    header = gzip.decompress(first).decode().splitlines()[0].split("\t")
    assert header == ["chromosome", "base_pair_location", "effect_allele", "other_allele",
                      "beta", "standard_error", "effect_allele_frequency", "p_value",
                      "variant_id", "rsid", "n"]


def test_lambda_gc():
    rng = np.random.default_rng(0)
    assert lambda_gc(rng.uniform(size=200_000)) == pytest.approx(1.0, abs=0.01)
    # chi2 scaled by 1.2 -> lambda 1.2
    from scipy import stats
    p = stats.chi2.sf(1.2 * stats.chi2.isf(rng.uniform(size=200_000), 1), 1)
    assert lambda_gc(p) == pytest.approx(1.2, abs=0.02)
    df = pd.DataFrame({"p_value": [1e-9, 0.5, 0.2], "n": [10, 12, 11]})
    s = summarise(df, "X")
    assert s["n_genome_wide"] == 1 and s["n_samples"] == 12 and s["n_variants"] == 3


def test_unknown_format(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("foo\tbar\n1\t2\n")
    with pytest.raises(InputError, match="cannot tell the summary-statistics format"):
        read_sumstats(p)
    b = tmp_path / "b.txt"
    b.write_text(BOLT)
    with pytest.raises(InputError, match="no sample size"):
        read_sumstats(b)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(["rs1", "rs2", "rs3", "rs4", ".", None]), min_size=1,
                max_size=12))
def test_unambiguous_rsids_property(rsids):
    """An rsid survives exactly when it names one row and is not '.'; the count returned is
    the number of rows left without one."""
    from gwas.sumstats import unambiguous_rsids

    ssf = pd.DataFrame({"rsid": pd.Series(rsids, dtype=object)})
    out, n_without = unambiguous_rsids(ssf)
    kept = out["rsid"].dropna()
    assert kept.is_unique and "." not in set(kept)
    counts = pd.Series([r for r in rsids if r is not None]).value_counts()
    for before, after in zip(rsids, out["rsid"], strict=True):
        named_once = before not in (None, ".") and counts[before] == 1
        assert (after == before) if named_once else pd.isna(after)
    assert n_without == int(out["rsid"].isna().sum())
