"""L2-penalised logistic regression by Newton's method, and its cross-validated penalty.

The objective is scikit-learn's (``LogisticRegression(penalty="l2", C=C)``)::

    0.5 * ||w||^2 + C * sum_i s_i * log(1 + exp(-t_i * (x_i . w + b)))

with labels ``t_i`` in {-1, +1}, sample weights ``s_i`` and an unpenalised intercept ``b``,
so a fit here and one there reach the same optimum (tested against scikit-learn). The
probes fit this model thousands of times on small tables (25 inner fits x 13 penalties per
representation and task); scikit-learn's per-fit overhead made that the slowest stage of
the demo. Here one Newton path with warm starts over the penalties does the same work
with a Cholesky solve of the (p + 1) x (p + 1) Hessian per step; with more features than
subjects (p > n) the fit runs in the n-dimensional row space of the data, where the
optimal weights lie, and is mapped back.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.special import expit

from rnce_bag.delong import auc

#: the penalties the probes search, as scikit-learn's ``Cs`` (smallest first)
CS = np.logspace(-4, 2, 13)
#: Newton's stopping rule (see :func:`fit_l2_logistic`) and its step limit
TOL, MAX_ITER = 1e-13, 100


def _objective(xa: np.ndarray, t: np.ndarray, s: np.ndarray, pen: np.ndarray,
               beta: np.ndarray) -> float:
    """The objective above divided by C (``pen`` = 1/C, 0 for the intercept)."""
    return float(s @ np.logaddexp(0.0, -t * (xa @ beta)) + 0.5 * pen @ (beta * beta))


def fit_l2_logistic(x: np.ndarray, y: np.ndarray, c: float, sample_weight: np.ndarray
                    | None = None, start: np.ndarray | None = None, tol: float = TOL,
                    max_iter: int = MAX_ITER) -> np.ndarray:
    """Coefficients of an L2 logistic regression at penalty ``c``.

    Parameters
    ----------
    x : ndarray, shape (n, p)
    y : ndarray, shape (n,), in {0, 1}
    c : float
        Inverse penalty strength, as scikit-learn's ``C``.
    sample_weight : ndarray, shape (n,), optional
    start : ndarray, shape (p + 1,), optional
        Warm start (weights, then intercept).
    tol : float
        Stop when half the Newton decrement (the objective's predicted decrease) falls
        below ``tol`` times the objective, or a step no longer decreases it.

    Returns
    -------
    ndarray, shape (p + 1,)
        Weights, then the intercept.
    """
    basis = _row_space(x)
    if start is not None and basis is not None:
        start = np.append(basis @ start[:-1], start[-1])
    beta = _newton(x if basis is None else x @ basis.T, y, c, sample_weight, start, tol,
                   max_iter)
    return _original(beta, basis)


def _row_space(x: np.ndarray) -> np.ndarray | None:
    """An orthonormal basis (r, p) of the rows of ``x`` (n, p) when p > n, else None:
    the optimal weights lie there (w / C = -x' r), so the fit needs only r <= n
    coordinates."""
    n, p = x.shape
    return np.linalg.svd(x, full_matrices=False)[2] if p > n else None


def _original(beta: np.ndarray, basis: np.ndarray | None) -> np.ndarray:
    """Coefficients in the row-space coordinates of ``basis`` mapped back to the features."""
    return beta if basis is None else np.append(basis.T @ beta[:-1], beta[-1])


def _newton(x: np.ndarray, y: np.ndarray, c: float, sample_weight: np.ndarray | None,
            start: np.ndarray | None, tol: float, max_iter: int) -> np.ndarray:
    """:func:`fit_l2_logistic` in the coordinates given (Newton with Armijo backtracking)."""
    n, p = x.shape
    xa = np.column_stack([x, np.ones(n)])
    t = np.where(np.asarray(y) > 0, 1.0, -1.0)
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    pen = np.full(p + 1, 1.0 / c)
    pen[-1] = 0.0
    beta = np.zeros(p + 1) if start is None else np.array(start, dtype=float)
    f = _objective(xa, t, s, pen, beta)
    for _ in range(max_iter):
        prob = expit(xa @ beta)
        grad = xa.T @ (s * (prob - (t > 0))) + pen * beta
        root = xa * np.sqrt(s * prob * (1.0 - prob))[:, None]
        hess = root.T @ root  # X' W X, numpy's symmetric rank-k update (half a product)
        hess[np.diag_indices_from(hess)] += pen + 1e-12
        step = cho_solve(cho_factor(hess, check_finite=False), grad, check_finite=False)
        decrement = float(grad @ step)
        if decrement / 2.0 <= tol * max(1.0, f):
            break
        size = 1.0  # backtracking (Armijo) line search: Newton's full step is not always a descent
        while True:
            new = beta - size * step
            f_new = _objective(xa, t, s, pen, new)
            if f_new <= f - 1e-4 * size * decrement or size < 1e-10:
                break
            size *= 0.5
        if f_new >= f:  # at the optimum to machine precision
            break
        beta, f = new, f_new
    return beta


def balanced_weights(y: np.ndarray) -> np.ndarray:
    """scikit-learn's ``class_weight="balanced"`` as sample weights: n / (2 n_class)."""
    y = np.asarray(y).astype(int)
    counts = np.bincount(y, minlength=2).astype(float)
    return y.size / (2.0 * counts[y])


def cv_l2_logistic(x: np.ndarray, y: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]],
                   cs: np.ndarray = CS) -> tuple[float, np.ndarray]:
    """The penalty with the best mean validation AUC over ``folds``, and the refit on all.

    As ``LogisticRegressionCV(Cs=cs, scoring="roc_auc", class_weight="balanced")`` with
    ``cv=folds``: class weights from all of ``y``, each fold's path warm-started from
    the smallest ``C`` up, the first best ``C`` on ties, the refit started from the mean of
    the folds' coefficients at that ``C``.

    Parameters
    ----------
    x : ndarray, shape (n, p)
    y : ndarray, shape (n,), in {0, 1}
    folds
        (train indices, validation indices) pairs.

    Returns
    -------
    c : float
    coef : ndarray, shape (p + 1,)
        Weights, then the intercept.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # small products: two BLAS pools on 2 cores only contend
        return _cv_l2_logistic(x, y, folds, cs)


def _cv_l2_logistic(x: np.ndarray, y: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]],
                    cs: np.ndarray) -> tuple[float, np.ndarray]:
    weight = balanced_weights(y)
    scores = np.zeros((len(folds), len(cs)))
    paths = np.zeros((len(folds), len(cs), x.shape[1] + 1))
    for k, (train, valid) in enumerate(folds):
        basis = _row_space(x[train])  # one basis for the fold's whole path
        xt = x[train] if basis is None else x[train] @ basis.T
        beta = None
        for j, c in enumerate(cs):
            beta = _newton(xt, y[train], c, weight[train], beta, TOL, MAX_ITER)
            paths[k, j] = _original(beta, basis)
            scores[k, j] = auc(y[valid], x[valid] @ paths[k, j, :-1] + beta[-1])
    best = int(np.nan_to_num(scores.sum(axis=0), nan=-np.inf).argmax())
    coef = fit_l2_logistic(x, y, cs[best], weight, start=paths[:, best].mean(axis=0))
    return float(cs[best]), coef
