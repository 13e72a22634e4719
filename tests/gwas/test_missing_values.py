"""One missing-value rule for phenotypes and covariates, rare categorical levels, sample
lists given several times, and counts that name what they count (issue 30: defects a
geneticist's first run on real 1000 Genomes files hit)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from gwas.filters import Filters, filter_samples, filter_variants
from gwas.inputs import (
    MIN_LEVEL_SAMPLES,
    load_covariates,
    load_phenotypes,
    match_samples,
    missing_cells,
    warn_fid_mismatch,
)
from rnce_bag.core.errors import InputError


def _w(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_minus9_in_a_phenotype_is_counted_and_warned(tmp_path, caplog):
    """It used to be analysed as a value without a word (n 368 instead of 366)."""
    p = _w(tmp_path, "p.tsv", "IID\tBAG\n" + "".join(
        f"s{i}\t{-9 if i in (3, 7) else i * 0.5}\n" for i in range(20)))
    with caplog.at_level(logging.WARNING):
        df = load_phenotypes(p)
    assert (df["BAG"] == -9).sum() == 2
    assert "column 'BAG': 2 phenotype value(s) are exactly -9" in caplog.text
    assert "--minus9-is-missing" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        df = load_phenotypes(p, minus9_is_missing=True)
    assert df["BAG"].isna().sum() == 2 and "exactly -9" not in caplog.text


def test_one_rule_for_phenotypes_and_covariates():
    raw = pd.Series(["1", "-9", "NA", "", "nan", "None", "-9.0", "-90"])
    assert missing_cells(raw, False).tolist() == [False, False, True, True, True, True,
                                                  False, False]
    assert missing_cells(raw, True).tolist() == [False, True, True, True, True, True,
                                                 True, False]


def test_minus9_in_covariates_follows_the_same_flag(tmp_path):
    """A categorical covariate with one -9 became a one-sample level (PLINK 2 then stopped
    with VIF_TOO_HIGH after QC and PCA, exit 3), and minus9_is_missing did not touch
    covariates."""
    rows = [f"s{i}\t{40 + i}\t{'AB'[i % 2]}\n" for i in range(20)]
    rows[5] = "s5\t-9\t-9\n"
    p = _w(tmp_path, "c.tsv", "IID\tage\tsite\n" + "".join(rows))
    with pytest.raises(InputError, match=r"column 'site': level '-9' is held by 1 sample\(s\) "
                                         r"\(first at row 6, line 7\), fewer than 5") as err:
        load_covariates(p)
    assert "--minus9-is-missing" in err.value.hint
    cov = load_covariates(p, minus9_is_missing=True)
    assert list(cov.columns) == ["IID", "age", "site_B"]
    assert np.isnan(cov.loc[5, "age"]) and np.isnan(cov.loc[5, "site_B"])


def test_a_rare_level_is_an_error_naming_column_level_and_count(tmp_path):
    rows = "".join(f"s{i}\t{'ABC'[0 if i < 12 else 1 if i < 20 else 2]}\n" for i in range(23))
    with pytest.raises(InputError, match=f"level 'C' is held by 3 sample.*fewer than "
                                         f"{MIN_LEVEL_SAMPLES}"):
        load_covariates(_w(tmp_path, "c.tsv", "IID\tbatch\n" + rows))


def test_repeated_sample_lists_are_their_union(tmp_path):
    samples = pd.DataFrame({"FID": [f"f{i}" for i in range(6)],
                            "IID": [f"s{i}" for i in range(6)]})
    a, b = _w(tmp_path, "a.txt", "s1\ns2\n"), _w(tmp_path, "b.txt", "f3 s3\n")
    keep, counts = filter_samples(samples, Filters(remove=[a, b]))
    assert keep.tolist() == [True, False, False, False, True, True]
    assert counts["samples_removed_remove"] == 3 and counts["listed_unmatched_remove"] == 0
    # a one-column list beside a two-column one: each matches by its own rule
    keep, _ = filter_samples(samples, Filters(keep=[a, b]))
    assert keep.tolist() == [False, True, True, True, False, False]
    other = _w(tmp_path, "other.txt", "famX s4\n")  # other FIDs: removes nobody
    with pytest.raises(InputError, match="--remove '.*other.txt': none of its 1 entries"):
        filter_samples(samples, Filters(remove=[a, other]))


def test_repeated_variant_lists_are_their_union(tmp_path):
    variants = pd.DataFrame({"chromosome": ["1"] * 5, "position": [10, 20, 30, 40, 50],
                             "variant_id": [f"rs{i}" for i in range(5)]})
    a, b = _w(tmp_path, "a.txt", "rs0\n"), _w(tmp_path, "b.txt", "1:35-45\n")
    keep, counts = filter_variants(variants, Filters(exclude=[a, b]))
    assert keep.tolist() == [False, True, True, False, True]
    assert counts["variants_removed_exclude"] == 2
    keep, counts = filter_variants(variants, Filters(extract=[a, b]))
    assert keep.tolist() == [True, False, False, True, False]
    assert Filters(exclude=a).config()["exclude"] == [str(a)]  # one file still works


def test_samples_removed_by_a_list_are_not_said_to_lack_genotypes(caplog):
    """The warning 'N phenotyped sample(s) have no genotypes' used to count the samples
    --remove took out."""
    iids = [f"s{i}" for i in range(15)]
    pheno = pd.DataFrame({"IID": iids + ["ghost"], "P": np.arange(16.0)})
    with caplog.at_level(logging.WARNING):
        s = match_samples(iids[3:], pheno, None, filtered=iids[:3])
    assert s.dropped["phenotyped, removed by --keep/--remove"] == 3
    assert s.dropped["phenotyped but not genotyped"] == 1
    assert "1 phenotyped sample(s) have no genotypes" in caplog.text


def test_fids_that_disagree_with_the_genotypes_are_warned_about(tmp_path, caplog):
    fam = pd.DataFrame({"FID": ["fa", "fb", "fc"], "IID": ["a", "b", "c"]})
    p = _w(tmp_path, "p.tsv", "FID\tIID\tP\nfa\ta\t1\nzz\tb\t2\nfc\tc\t3\n")
    with caplog.at_level(logging.WARNING):
        assert warn_fid_mismatch(p, fam, "phenotype") == 1
    assert "IID 'b': FID 'zz' here, 'fb' there" in caplog.text
    assert "matched on IID alone" in caplog.text
    assert warn_fid_mismatch(_w(tmp_path, "q.tsv", "IID\tP\na\t1\n"), fam, "phenotype") == 0


@pytest.mark.external
def test_the_flag_on_the_command_line(complete_sim, tmp_path, runner):
    """gwas --minus9-is-missing: two -9 codes are left out (n 298 instead of 300); without
    the flag they are values (the warning is tested above)."""
    import json

    from cli.main import app

    p = pd.read_csv(complete_sim / "pheno.tsv", sep="\t")[["IID", "LATENT"]]
    p.loc[[3, 7], "LATENT"] = -9
    p.to_csv(tmp_path / "p.tsv", sep="\t", index=False)
    base = ["gwas", "--bfile", str(complete_sim / "genotypes/cohort"), "--pheno",
            str(tmp_path / "p.tsv"), "--engine", "plink2", "--set", "pca.n_pcs=0"]
    n = {}
    for name, extra in (("as_values", []), ("missing", ["--minus9-is-missing"])):
        res = runner.invoke(app, [*base, *extra, "--out", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        report = json.loads((tmp_path / name / "gwas_report.json").read_text())
        n[name] = report["phenotypes"][0]["n_samples"]
    assert (n["as_values"], n["missing"]) == (300, 298)
