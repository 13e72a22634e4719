"""DeLong's AUC variance and paired test (fast algorithm of Sun and Xu, 2014).

DeLong, DeLong and Clarke-Pearson (1988) give the variance of the empirical AUC (the
Mann-Whitney statistic) and the covariance of two AUCs on the same subjects from
placement values; Sun and Xu (2014) compute them with midranks in O(n log n).

Shapes: ``y`` (n,) in {0, 1}; ``scores`` (k, n) for k classifiers on the same subjects.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def _midrank(x: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing their mean rank (midranks), shape of ``x``."""
    return stats.rankdata(x, method="average")


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """The empirical AUC (Mann-Whitney statistic; ties count one half), as
    ``roc_auc_score``; NaN when ``y`` (n,) holds one class only."""
    y = np.asarray(y).astype(bool)
    m, n = int(y.sum()), int((~y).sum())
    if m == 0 or n == 0:
        return float("nan")
    return float((_midrank(np.asarray(score, dtype=float))[y].sum() - m * (m + 1) / 2.0)
                 / (m * n))


def delong_covariance(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUCs (k,) and their DeLong covariance matrix (k, k)."""
    y = np.asarray(y).astype(bool)
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    if scores.shape[1] != y.size:
        raise ValueError(f"'delong_covariance': parameter 'scores': expected {y.size} columns, "
                         f"found {scores.shape[1]}")
    m, n = int(y.sum()), int((~y).sum())
    if m == 0 or n == 0:
        raise ValueError("'delong_covariance': parameter 'y': needs both classes")
    pos, neg = scores[:, y], scores[:, ~y]
    k = scores.shape[0]
    tx = np.array([_midrank(pos[r]) for r in range(k)])
    ty = np.array([_midrank(neg[r]) for r in range(k)])
    tz = np.array([_midrank(np.concatenate([pos[r], neg[r]])) for r in range(k)])
    aucs = tz[:, :m].sum(axis=1) / m / n - (m + 1.0) / (2.0 * n)
    v01 = (tz[:, :m] - tx) / n
    v10 = 1.0 - (tz[:, m:] - ty) / m
    sx = np.atleast_2d(np.cov(v01))
    sy = np.atleast_2d(np.cov(v10))
    return aucs, sx / m + sy / n


def auc_ci(y: np.ndarray, score: np.ndarray, level: float = 0.95) -> tuple[float, float, float,
                                                                          float]:
    """AUC, its DeLong SE and the ``level`` confidence interval (clipped to [0, 1])."""
    auc, cov = delong_covariance(y, score[None, :])
    se = float(np.sqrt(cov[0, 0]))
    z = stats.norm.ppf(0.5 + level / 2)
    return float(auc[0]), se, max(0.0, auc[0] - z * se), min(1.0, auc[0] + z * se)


def delong_paired_test(y: np.ndarray, score_a: np.ndarray, score_b: np.ndarray
                       ) -> tuple[float, float, float]:
    """Difference AUC_a - AUC_b, its SE and the two-sided DeLong p-value."""
    aucs, cov = delong_covariance(y, np.vstack([score_a, score_b]))
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    diff = float(aucs[0] - aucs[1])
    if var <= 0:
        return diff, 0.0, 1.0 if diff == 0 else 0.0
    se = float(np.sqrt(var))
    return diff, se, float(2 * stats.norm.sf(abs(diff) / se))
