import numpy as np
import pandas as pd
import pytest

from rnce_bag.core.errors import InputError
from rnce_bag.probes import (
    BASELINE,
    clinical_mask,
    holm,
    nested_cv_probabilities,
    probe,
    task_labels,
)

MAN = pd.DataFrame({
    "IID": [f"s{i}" for i in range(6)],
    "diagnosis": ["CN", "AD", "MCI", "MCI", "MCI", "CN"],
    "conversion_years": [np.nan, np.nan, 1.5, 2.5, np.nan, np.nan],
    "amyloid": [0, 1, 1, np.nan, 0, np.nan],
    "age": [70.0, 75, 72, 71, 80, 68], "sex": ["F", "M", "F", "M", "F", "M"],
})


def test_labels():
    assert task_labels(MAN, "ad_vs_cn").tolist()[:2] == [0.0, 1.0]
    assert np.isnan(task_labels(MAN, "ad_vs_cn")[2])
    c2 = task_labels(MAN, "conversion_2y")
    assert c2[2] == 1 and c2[3] == 0 and c2[4] == 0 and np.isnan(c2[0])
    assert task_labels(MAN, "conversion_3y")[3] == 1
    am = task_labels(MAN, "amyloid")
    assert am[1] == 1 and np.isnan(am[3])
    with pytest.raises(InputError, match="unknown probe task"):
        task_labels(MAN, "nope")


def test_nested_cv_separates_signal_from_noise():
    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.4).astype(int)
    signal = np.column_stack([y + rng.normal(0, 1, 200), rng.normal(size=(200, 5))])
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, nested_cv_probabilities(signal, y)) > 0.7
    # noise is no better than chance: over 4 data sets the AUC averages 0.5 +/- 0.08
    aucs = []
    for seed in range(4):
        r = np.random.default_rng(seed + 10)
        yy = (r.random(200) < 0.4).astype(int)
        aucs.append(roc_auc_score(yy, nested_cv_probabilities(r.normal(size=(200, 6)), yy)))
    assert abs(np.mean(aucs) - 0.5) < 0.08


def test_probe_single_class_is_an_error():
    man = MAN.assign(diagnosis="CN")
    with pytest.raises(InputError, match="ad_vs_cn: 0 positive"):
        probe(man, {"A": np.zeros((6, 2))}, ("ad_vs_cn",))


def test_probe_tables():
    rng = np.random.default_rng(0)
    n = 160
    dx = np.where(rng.random(n) < 0.4, "AD", "CN")
    man = pd.DataFrame({"IID": [f"s{i}" for i in range(n)], "diagnosis": dx,
                        "conversion_years": np.nan, "amyloid": np.nan,
                        "age": rng.normal(74, 7, n), "sex": rng.choice(["F", "M"], n)})
    y = (dx == "AD").astype(float)
    reps = {"GOOD": np.column_stack([y + rng.normal(0, 0.7, n), rng.normal(size=n)]),
            "BAD": rng.normal(size=(n, 2))}
    scores, pairs, preds = probe(man, reps, ("ad_vs_cn",), baseline=False)
    s = scores.set_index("representation")
    assert s.loc["GOOD", "auc"] > 0.75 > s.loc["BAD", "auc"]
    assert (s["ci_low"] < s["auc"]).all() and (s["auc"] < s["ci_high"]).all()
    assert pairs.loc[0, "p_delong"] < 0.01 and pairs.loc[0, "auc_diff"] > 0
    assert set(preds.columns) == {"IID", "task", "label", "prob_good", "prob_bad"}
    # one representation: no pairs, but the same columns (the probe_pairs contract)
    _, alone, _ = probe(man, {"GOOD": reps["GOOD"]}, ("ad_vs_cn",), baseline=False)
    assert len(alone) == 0 and list(alone.columns) == list(pairs.columns)
    assert {"auc_a", "auc_b", "p_holm"} <= set(pairs.columns)


def test_tasks_use_the_clinical_subset_and_censor_short_follow_up():
    """AD vs CN compares the clinical CN only (a normative cohort's younger CN would let age
    decide); a non-converter followed for less than the horizon is left out, a converter
    before it counts whatever its follow-up."""
    man = pd.DataFrame({
        "IID": [f"s{i}" for i in range(7)],
        "diagnosis": ["CN", "CN", "AD", "MCI", "MCI", "MCI", "MCI"],
        "clinical": [0, 1, 1, 1, 1, 1, 1],
        "conversion_years": [np.nan, np.nan, np.nan, 1.5, np.nan, np.nan, 2.5],
        "followup_years": [np.nan, 5, 5, 1.6, 1.5, 2.4, 4.0],
        "amyloid": [np.nan, 0, 1, 1, 0, 1, 1],
    })
    assert clinical_mask(man).tolist() == [False, True, True, True, True, True, True]
    ad = task_labels(man, "ad_vs_cn")
    assert np.isnan(ad[0]) and ad[1] == 0 and ad[2] == 1
    c2, c3 = task_labels(man, "conversion_2y"), task_labels(man, "conversion_3y")
    assert c2[3] == 1 and np.isnan(c2[4]) and c2[5] == 0 and c2[6] == 0
    assert c3[3] == 1 and np.isnan(c3[4]) and np.isnan(c3[5]) and c3[6] == 1
    # no clinical column: everyone is clinical (an ADNI manifest); no follow-up: full
    bare = man.drop(columns=["clinical", "followup_years"])
    assert task_labels(bare, "ad_vs_cn")[0] == 0 and task_labels(bare, "conversion_2y")[4] == 0
    assert clinical_mask(man.assign(clinical=["true", "false", "1", "1", "yes", "1", "1"])
                         ).tolist() == [True, False, True, True, True, True, True]


def test_holm_matches_statsmodels_definition():
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.5])
    # sorted 0.01, 0.03, 0.04, 0.5 times 4, 3, 2, 1 -> 0.04, 0.09, 0.08 -> 0.09 (monotone), 0.5
    np.testing.assert_allclose(holm(p), [0.04, 0.09, np.nan, 0.09, 0.5])
    assert holm(np.array([0.9, 0.8])).max() == 1.0


def test_every_table_has_age_sex_and_a_pca_row_fitted_inside_the_folds():
    """AGE_SEX is a row of every table; a 200-feature representation also gets a 64-d row
    whose PCA sees only the training fold: on pure noise it stays at chance (a PCA fitted
    on all subjects would still be chance here, so the fold fit is checked directly)."""
    rng = np.random.default_rng(3)
    n = 240
    dx = np.where(rng.random(n) < 0.5, "AD", "CN")
    y = (dx == "AD").astype(float)
    age = 70 + 8 * y + rng.normal(0, 4, n)  # age alone separates the groups here
    man = pd.DataFrame({"IID": [f"s{i}" for i in range(n)], "diagnosis": dx, "age": age,
                        "sex": rng.choice(["F", "M"], n), "conversion_years": np.nan,
                        "amyloid": np.nan})
    wide = rng.normal(size=(n, 200))
    wide[:, 0] += 1.5 * y
    scores, pairs, _ = probe(man, {"WIDE": wide}, ("ad_vs_cn",), pca_dims=64, pca_of=("WIDE",))
    s = scores.set_index("representation")
    assert list(s.index) == ["WIDE", "WIDE-64", BASELINE]
    assert s.loc[BASELINE, "auc"] > 0.85  # age is what the baseline row shows
    assert s.loc["WIDE-64", "auc"] > 0.6
    assert s.loc["WIDE", "age_pos"] > s.loc["WIDE", "age_neg"] + 5
    assert len(pairs) == 3 and pairs["p_holm"].ge(pairs["p_delong"]).all()
    with pytest.raises(InputError, match="reserved"):
        probe(man, {BASELINE: wide}, ("ad_vs_cn",))


def test_pca_is_fitted_on_the_training_fold_only(monkeypatch):
    from sklearn.decomposition import PCA

    seen = []
    real_fit = PCA.fit

    def spy(self, x, y=None):
        seen.append(x.shape[0])
        return real_fit(self, x, y)

    monkeypatch.setattr(PCA, "fit", spy)
    monkeypatch.setattr(PCA, "fit_transform", lambda self, x, y=None: spy(self, x).transform(x))
    rng = np.random.default_rng(0)
    y = (rng.random(100) < 0.5).astype(int)
    nested_cv_probabilities(rng.normal(size=(100, 80)), y, n_outer=5, pca_dims=10)
    assert seen and max(seen) <= 80  # never all 100 subjects
