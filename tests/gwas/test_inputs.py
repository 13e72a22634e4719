import numpy as np
import pandas as pd
import pytest

from gwas.inputs import check_covariates, load_covariates, load_phenotypes, match_samples
from rnce_bag.core.errors import InputError


def _w(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_phenotypes_missing_codes(tmp_path):
    p = _w(tmp_path, "p.tsv", "#FID\tIID\tA\tB\nf1\ts1\t-9\t1\nf2\ts2\tNA\t2\nf3\ts3\t\t3\n"
                              "f4\ts4\t0.5\t4\n")
    df = load_phenotypes(p, ["B"])
    assert list(df.columns) == ["IID", "B"]
    assert load_phenotypes(p, ["A"])["A"].tolist()[0] == -9  # -9 is a value by default
    with pytest.raises(InputError, match="column 'A': phenotype is constant"):
        load_phenotypes(_w(tmp_path, "k.tsv", "IID\tA\ns1\t3\ns2\t3\n"))
    df = load_phenotypes(_w(tmp_path, "q.tsv", "IID\tA\ns1\t-9\ns2\t1\ns3\tNA\n"), ["A"])
    assert df["A"].tolist()[0] == -9 and np.isnan(df["A"][2])
    df = load_phenotypes(_w(tmp_path, "r.tsv", "IID\tA\ns1\t-9\ns2\t1\ns3\t2\n"), ["A"],
                         minus9_is_missing=True)
    assert np.isnan(df["A"][0])


@pytest.mark.parametrize(("text", "names", "match"), [
    ("IID\tA\ns1\tx\ns2\t2\n", None, r"row 1 \(line 2\), column 'A': expected a number"),
    ("IID\tA\ns1\t1\ns1\t2\n", None, "duplicated sample 's1'"),
    ("ID\tA\ns1\t1\n", None, "no IID column"),
    ("IID\tA\ns1\t1\ns2\t2\n", ["Z"], "phenotype.s. Z not in the file"),
    ("IID\tA\ns1\tNA\ns2\tNA\n", None, "every value is missing"),
])
def test_bad_phenotypes(tmp_path, text, names, match):
    with pytest.raises(InputError, match=match):
        load_phenotypes(_w(tmp_path, "p.tsv", text), names)


def test_covariates_one_hot_and_checks(tmp_path):
    rows = "".join(f"{i}\t{50 + i}\t{'xyz'[i % 3]}\tk\n" for i in range(15))
    p = _w(tmp_path, "c.tsv", "IID\tage\tsite\ts1\n" + rows)
    cov = load_covariates(p, ["age", "site"])
    assert list(cov.columns) == ["IID", "age", "site_y", "site_z"]
    with pytest.raises(InputError, match="constant covariate.*k"):
        check_covariates(load_covariates(p), "c.tsv")
    col = pd.DataFrame({"IID": list("abcde"), "x": [1, 2, 3, 4, 5.0], "y": [2, 4, 6, 8, 10.0]})
    with pytest.raises(InputError, match="covariate 'y' is collinear"):
        check_covariates(col, "c.tsv")


def test_match_samples_counts():
    pheno = pd.DataFrame({"IID": ["a", "b", "c", "x"] + [f"s{i}" for i in range(12)],
                          "P": [1.0, np.nan, 2.0, 3.0] + list(np.arange(12.0))})
    cov = pd.DataFrame({"IID": ["a", "c"] + [f"s{i}" for i in range(12)],
                        "age": [1.0, np.nan] + list(np.arange(12.0) + 3)})
    geno = ["a", "b", "c", "d"] + [f"s{i}" for i in range(12)]
    s = match_samples(geno, pheno, cov)
    assert s.iids == ["a"] + [f"s{i}" for i in range(12)]
    assert s.dropped == {"phenotyped but not genotyped": 1, "genotyped but not phenotyped": 1,
                         "all phenotypes missing": 1, "no covariate row": 0,
                         "missing covariate": 1}
    assert list(s.covar.columns) == ["IID", "age"] and list(s.pheno["IID"]) == s.iids
    with pytest.raises(InputError, match="only 0 samples"):
        match_samples(["q"], pheno, cov)
