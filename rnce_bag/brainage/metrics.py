"""Accuracy of brain-age predictions: MAE, r, R^2 and the gap's correlation with age."""

from __future__ import annotations

import numpy as np


def brain_age_metrics(age: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """MAE (years), Pearson r, R^2 and corr(pred - age, age) for (n,) arrays."""
    age = np.asarray(age, dtype=float)
    pred = np.asarray(pred, dtype=float)
    gap = pred - age
    ss_res = float(np.sum((age - pred) ** 2))
    ss_tot = float(np.sum((age - age.mean()) ** 2))
    return {
        "n": int(age.size),
        "mae": float(np.mean(np.abs(gap))),
        "r": float(np.corrcoef(age, pred)[0, 1]),
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
        "corr_bag_age": float(np.corrcoef(gap, age)[0, 1]) if np.std(gap) > 0 else 0.0,
        "mean_bag": float(np.mean(gap)),
    }
