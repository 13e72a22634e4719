"""The verdict on a pair of BAGs (issue 30, item 1): the h2 difference with the joint
fit's SE, rg against 0 and 1, loci replicating in each other, one plain sentence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gwas.verdict import pair_verdict, verdict_sentence


def _rg(**kw):
    row = {"p1": "BAG_FS", "p2": "BAG_RNCE", "method": "greml", "rg": 0.855, "rg_se": 0.067,
           "p": 3.5e-37, "h2_1": 0.41, "h2_1_se": 0.059, "h2_2": 0.23, "h2_2_se": 0.059,
           "h2_diff_se": 0.061, "n": 1886, "status": "ok"}
    return pd.DataFrame([{**row, **kw}])


def _ssf(points):
    return pd.DataFrame({"chromosome": [c for c, _, _ in points],
                         "base_pair_location": [b for _, b, _ in points],
                         "p_value": [p for _, _, p in points]})


LOCI = pd.DataFrame({"phenotype": ["BAG_FS", "BAG_FS", "BAG_RNCE"],
                     "chromosome": ["17", "3", "17"], "position": [44_000_000, 5_000, 44_000_000]})


def test_a_clear_difference_is_said_with_the_joint_se():
    ss = {"BAG_FS": _ssf([("17", 44_000_000, 1e-20), ("3", 5_000, 1e-9)]),
          "BAG_RNCE": _ssf([("17", 44_000_000, 1e-12), ("3", 5_000, 0.2)])}
    v = pair_verdict("BAG_FS", "BAG_RNCE", None, _rg(), LOCI, ss)
    assert v.h2_diff == pytest.approx(0.18) and v.h2_diff_se == 0.061
    assert v.se_source == "joint bivariate GREML"
    assert (v.replicated_in_b, v.replicated_in_a) == (1, 1)
    s = verdict_sentence(v)
    assert s.startswith("BAG_FS is more heritable than BAG_RNCE by 0.18 (SE 0.06, joint")
    # rg 0.855 (SE 0.067): 2 * sf(0.145 / 0.067) = 0.030, below 1
    assert "rg 0.85 (SE 0.07; p(rg = 0) 3.5e-37, p(rg = 1) 0.03: below 1)" in s
    assert "loci: BAG_FS 2 (1 at p < 1e-05 in BAG_RNCE), BAG_RNCE 1 (1 at p < 1e-05 in " \
        "BAG_FS)" in s


def test_a_small_difference_cannot_be_told_apart_and_order_follows_the_question():
    v = pair_verdict("BAG_RNCE", "BAG_FS", None, _rg(h2_2=0.38, n=370), None)
    assert v.h2_diff == pytest.approx(-0.03)  # asked as RNCE - FS, though rg.tsv has FS first
    s = verdict_sentence(v)
    assert s.startswith("BAG_RNCE and BAG_FS cannot be told apart in h2 at n = 370 "
                        "(difference -0.03, SE 0.06")


def test_without_a_joint_fit_the_independent_se_is_said():
    h2 = pd.DataFrame({"phenotype": ["BAG_FS", "BAG_RNCE"], "h2": [0.42, 0.24],
                       "h2_se": [0.03, 0.04]})
    v = pair_verdict("BAG_FS", "BAG_RNCE", h2, None, None)
    assert v.h2_diff_se == pytest.approx(0.05) and v.se_source == "independent estimates"
    assert np.isnan(v.rg) and "rg" not in verdict_sentence(v).split(";")[1]
    assert pair_verdict("BAG_FS", "BAG_X", h2, None, None) is None


def test_an_undefined_rg_is_said_as_such():
    v = pair_verdict("BAG_FS", "BAG_BARLOW", None, _rg(
        p2="BAG_BARLOW", rg=1.0, rg_se=3.52, status="ok; an h2 is ~0, so rg is undefined"), None)
    assert "rg not estimable (an h2 is ~0, so rg is undefined)" in verdict_sentence(v)


def test_tables_say_labels_and_round_estimates_to_their_precision():
    """Report tables read 'AUC AD vs CN', not auc_ad_vs_cn, and an h2 at zero reads 0.000,
    not 1.2e-06 (issue 30)."""
    from report.page import _fmt, column_label

    assert column_label("auc_ad_vs_cn") == "AUC AD vs CN"
    assert column_label("p_conversion_2y") == "DeLong p, conversion within 2 y"
    assert column_label("n_genome_wide") == "genome-wide variants"
    assert column_label("something_new") == "something new"
    assert _fmt(1.2e-06, "h2") == "0.000" and _fmt(0.4123, "h2") == "0.412"
    assert _fmt(0.87455, "auc_amyloid") == "0.875"
    assert _fmt(1.2e-06, "p_value") == "1.2e-06"  # p-values keep their digits
    assert _fmt(2.0e-05, "beta") == "2e-05"  # LDSC-SEG coefficients are that small


def test_ldsc_intercepts_sit_next_to_lambda_where_ld_scores_were_available(tmp_path):
    from report.page import _with_ldsc_intercepts

    summary = pd.DataFrame({"phenotype": ["BAG_FS", "BAG_RNCE"], "lambda_gc": [1.18, 1.09]})
    greml = tmp_path / "g.tsv"
    pd.DataFrame({"phenotype": ["BAG_FS"], "method": ["greml"], "backend": "embedded",
                  "h2": [0.4], "h2_se": [0.06], "status": "ok"}).to_csv(greml, sep="\t",
                                                                         index=False)
    assert _with_ldsc_intercepts(summary, [greml])[1] is False
    ldsc = tmp_path / "l.tsv"
    pd.DataFrame({"phenotype": ["BAG_FS"], "method": ["ldsc"], "backend": "embedded",
                  "h2": [0.35], "h2_se": [0.1], "intercept": [1.02], "intercept_se": [0.008],
                  "status": "ok"}).to_csv(ldsc, sep="\t", index=False)
    out, found = _with_ldsc_intercepts(summary, [greml, ldsc])
    assert found and out.set_index("phenotype").loc["BAG_FS", "intercept"] == 1.02
    assert np.isnan(out.set_index("phenotype").loc["BAG_RNCE", "intercept"])
