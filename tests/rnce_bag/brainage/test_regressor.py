import numpy as np
import pytest
from sklearn.base import clone

import rnce_bag.brainage.run as run_mod
from rnce_bag.brainage.config import BrainAgeConfig
from rnce_bag.brainage.regressor import BrainAgeModel


def _data(n=300, p=20, seed=0):
    rng = np.random.default_rng(seed)
    age = rng.uniform(45, 85, n)
    x = rng.normal(size=(n, p))
    x[:, :5] += (age[:, None] - 65) / 8
    return x, age


def test_estimator_contract():
    m = BrainAgeModel(n_splits=4, n_repeats=3, random_state=1)
    assert clone(m).get_params() == m.get_params()
    x, age = _data()
    assert m.fit(x, age) is m
    assert m.oof_pred_.shape == (300,) and len(m.models_) == 12
    assert set(np.unique(m.fold_)) == {0, 1, 2, 3}
    assert m.predict(x[:5]).shape == (5,)


def test_out_of_fold_is_honest():
    # pure noise with p >> n: in-sample fits are good, out-of-fold ones are not
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 400))
    age = rng.uniform(45, 85, 100)
    m = BrainAgeModel(n_splits=5, n_repeats=1).fit(x, age)
    in_sample = m.models_[0].predict(x)
    assert np.corrcoef(in_sample, age)[0, 1] > 0.5
    assert np.corrcoef(m.oof_pred_, age)[0, 1] < 0.3


@pytest.mark.parametrize("kind", ["ridge", "kernel_ridge", "gbm"])
def test_regressors_learn(kind):
    x, age = _data(n=200)
    m = BrainAgeModel(kind, n_splits=3, n_repeats=1).fit(x, age)
    assert np.corrcoef(m.oof_pred_, age)[0, 1] > 0.7


def test_too_few_subjects():
    with pytest.raises(ValueError, match="at least 10 training subjects"):
        BrainAgeModel(n_splits=5).fit(np.zeros((6, 2)), np.arange(6.0))


def test_bias_fitted_on_out_of_fold_training_predictions_only(monkeypatch):
    x, age = _data(n=240)
    train = np.zeros(240, dtype=bool)
    train[:180] = True
    seen = {}
    real_fit = run_mod.fit_bias

    def spy(method, a, p):
        seen["age"], seen["pred"] = a.copy(), p.copy()
        return real_fit(method, a, p)

    monkeypatch.setattr(run_mod, "fit_bias", spy)
    cfg = BrainAgeConfig(n_splits=5, n_repeats=2)
    res = run_mod.fit_representation(x, age, train, cfg)
    # fitted on the 180 training subjects only, with their out-of-fold predictions
    assert np.array_equal(seen["age"], age[train])
    assert np.allclose(seen["pred"], res["pred_raw"][train])
    model = BrainAgeModel("ridge", 5, 2, 0).fit(x[train], age[train])
    assert np.allclose(seen["pred"], model.oof_pred_)
    in_sample = np.mean([mm.predict(x[train]) for mm in model.models_], axis=0)
    assert not np.allclose(seen["pred"], in_sample)
    # the held-out subjects do not influence the correction
    x2 = x.copy()
    x2[~train] += 100
    res2 = run_mod.fit_representation(x2, age, train, cfg)
    assert res2["bias"] == res["bias"]
    assert np.all(res["fold"][~train] == -1) and np.all(res["fold"][train] >= 0)
    assert abs(np.corrcoef(res["bag"][train], age[train])[0, 1]) < 0.02
