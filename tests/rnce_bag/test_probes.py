import numpy as np
import pandas as pd
import pytest

from rnce_bag.core.errors import InputError
from rnce_bag.probes import nested_cv_probabilities, probe, task_labels

MAN = pd.DataFrame({
    "IID": [f"s{i}" for i in range(6)],
    "diagnosis": ["CN", "AD", "MCI", "MCI", "MCI", "CN"],
    "conversion_years": [np.nan, np.nan, 1.5, 2.5, np.nan, np.nan],
    "amyloid": [0, 1, 1, np.nan, 0, np.nan],
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
                        "conversion_years": np.nan, "amyloid": np.nan})
    y = (dx == "AD").astype(float)
    reps = {"GOOD": np.column_stack([y + rng.normal(0, 0.7, n), rng.normal(size=n)]),
            "BAD": rng.normal(size=(n, 2))}
    scores, pairs, preds = probe(man, reps, ("ad_vs_cn",))
    s = scores.set_index("representation")
    assert s.loc["GOOD", "auc"] > 0.75 > s.loc["BAD", "auc"]
    assert (s["ci_low"] < s["auc"]).all() and (s["auc"] < s["ci_high"]).all()
    assert pairs.loc[0, "p_delong"] < 0.01 and pairs.loc[0, "auc_diff"] > 0
    assert set(preds.columns) == {"IID", "task", "label", "prob_good", "prob_bad"}
    # one representation: no pairs, but the same columns (the probe_pairs contract)
    _, alone, _ = probe(man, {"GOOD": reps["GOOD"]}, ("ad_vs_cn",))
    assert len(alone) == 0 and list(alone.columns) == list(pairs.columns)
    assert {"auc_a", "auc_b"} <= set(pairs.columns)
