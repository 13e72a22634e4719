"""Age-bias correction of brain-age predictions, fitted on out-of-fold predictions only.

Brain-age predictions regress toward the training mean: the gap ``pred - age`` is
negatively correlated with age. Every method is a pair of pure functions, ``fit``
(on the *out-of-fold* predictions of the training subjects) and ``apply`` (to anyone):

- ``beheshti`` (Beheshti et al. 2019): regress delta = pred - age on age,
  delta = a age + b; corrected delta = delta - (a age + b).
- ``cole`` (Cole et al. 2018): regress pred on age, pred = a age + b; corrected
  pred = (pred - b) / a.
- ``smith`` (Smith et al. 2019, linear): regress delta on age and remove the fit;
  identical to ``beheshti`` by construction, kept under its published name.
- ``smith_quadratic``: delta regressed on age and age^2, with age^2 orthogonalised to
  age on the fitting subjects (Smith et al. 2019).
- ``none``.

Shapes: ``age`` and ``pred`` are (n,) arrays in years.
"""

from __future__ import annotations

from typing import get_args

import numpy as np

from rnce_bag.brainage.config import BiasMethod as Method

METHODS: tuple[str, ...] = get_args(Method)


def _check(age: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    age = np.asarray(age, dtype=float)
    pred = np.asarray(pred, dtype=float)
    if age.shape != pred.shape or age.ndim != 1:
        raise ValueError(f"'bias': parameters 'age' and 'pred': expected equal 1-D shapes, "
                         f"found {age.shape} and {pred.shape}")
    return age, pred


def fit_bias(method: Method, age: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Fit the correction on (out-of-fold) predictions; returns its parameters."""
    age, pred = _check(age, pred)
    if method not in METHODS:
        raise ValueError(f"'fit_bias': parameter 'method': expected one of {METHODS}, "
                         f"found {method!r}")
    if method == "none":
        return {}
    if np.ptp(age) == 0:
        raise ValueError("'fit_bias': parameter 'age': constant; cannot fit an age trend")
    if method == "cole":
        a, b = np.polyfit(age, pred, 1)
        return {"a": float(a), "b": float(b)}
    delta = pred - age
    if method in ("beheshti", "smith"):
        a, b = np.polyfit(age, delta, 1)
        return {"a": float(a), "b": float(b)}
    # smith_quadratic: age^2 orthogonalised to [1, age] on these subjects
    c1, c0 = np.polyfit(age, age**2, 1)
    q = age**2 - (c1 * age + c0)
    design = np.column_stack([np.ones_like(age), age, q])
    coef, *_ = np.linalg.lstsq(design, delta, rcond=None)
    return {"b": float(coef[0]), "a": float(coef[1]), "c": float(coef[2]),
            "q1": float(c1), "q0": float(c0)}


def apply_bias(method: Method, params: dict[str, float], age: np.ndarray, pred: np.ndarray
               ) -> np.ndarray:
    """Corrected predictions (years); the corrected gap is ``result - age``."""
    age, pred = _check(age, pred)
    if method == "none":
        return pred.copy()
    if method == "cole":
        if params["a"] == 0:
            raise ValueError("'apply_bias': cole slope is 0; predictions do not follow age")
        return (pred - params["b"]) / params["a"]
    if method in ("beheshti", "smith"):
        return pred - (params["a"] * age + params["b"])
    q = age**2 - (params["q1"] * age + params["q0"])
    return pred - (params["b"] + params["a"] * age + params["c"] * q)
