"""Bias corrections against hand-computed cases (exact to 1e-9)."""

import numpy as np
import pytest

from rnce_bag.brainage.bias import METHODS, apply_bias, fit_bias

AGE = np.array([50.0, 60.0, 70.0])
PRED = np.array([55.0, 60.0, 65.0])  # regression to the mean: slope 0.5 around 60


def test_cole_hand_computed():
    params = fit_bias("cole", AGE, PRED)
    assert params == pytest.approx({"a": 0.5, "b": 30.0})
    # corrected = (pred - 30) / 0.5
    assert apply_bias("cole", params, AGE, PRED) == pytest.approx([50.0, 60.0, 70.0])
    assert apply_bias("cole", params, np.array([80.0]), np.array([70.0])) == pytest.approx(
        [80.0])


@pytest.mark.parametrize("method", ["beheshti", "smith"])
def test_beheshti_and_smith_linear_hand_computed(method):
    params = fit_bias(method, AGE, PRED)
    # delta = [5, 0, -5] = -0.5 age + 30
    assert params == pytest.approx({"a": -0.5, "b": 30.0})
    assert apply_bias(method, params, AGE, PRED) == pytest.approx([50.0, 60.0, 70.0])
    # a new subject aged 40 predicted 52: delta 12, expected 10 -> corrected 42
    assert apply_bias(method, params, np.array([40.0]), np.array([52.0])) == pytest.approx(
        [42.0])


def test_smith_quadratic_removes_a_quadratic_trend():
    age = np.linspace(45, 85, 41)
    pred = age + 2.0 - 0.3 * (age - 60) + 0.01 * (age - 60) ** 2
    params = fit_bias("smith_quadratic", age, pred)
    assert apply_bias("smith_quadratic", params, age, pred) == pytest.approx(age, abs=1e-9)
    # the orthogonalised age^2 term is uncorrelated with age on the fitting subjects
    q = age**2 - (params["q1"] * age + params["q0"])
    assert abs(np.corrcoef(q, age)[0, 1]) < 1e-9
    # linear methods leave the curvature in
    lin = apply_bias("beheshti", fit_bias("beheshti", age, pred), age, pred)
    assert np.abs(lin - age).max() > 0.5


def test_none_is_identity():
    assert fit_bias("none", AGE, PRED) == {}
    assert np.array_equal(apply_bias("none", {}, AGE, PRED), PRED)


@pytest.mark.parametrize("method", [m for m in METHODS if m != "none"])
def test_corrected_gap_uncorrelated_with_age(method):
    rng = np.random.default_rng(0)
    age = rng.uniform(45, 85, 2000)
    pred = 64 + 0.6 * (age - 64) + rng.normal(0, 4, age.size)
    corrected = apply_bias(method, fit_bias(method, age, pred), age, pred)
    assert abs(np.corrcoef(corrected - age, age)[0, 1]) < 0.02
    assert np.corrcoef(pred - age, age)[0, 1] < -0.5


def test_bad_arguments():
    with pytest.raises(ValueError, match="expected one of"):
        fit_bias("magic", AGE, PRED)
    with pytest.raises(ValueError, match="equal 1-D shapes"):
        fit_bias("cole", AGE, PRED[:2])
    with pytest.raises(ValueError, match="constant"):
        fit_bias("cole", np.full(3, 60.0), PRED)
