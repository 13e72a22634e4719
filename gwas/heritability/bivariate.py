"""Bivariate GREML: genetic correlation of two traits measured on the same samples.

Model per trait t: y_t = X b_t + g_t + e_t with Cov(g_1, g_2) = C_g A and
Cov(e_1, e_2) = C_e I. On the GRM's eigenbasis every sample contributes one 2 x 2 block
of V, [[V_g1 lam + V_e1, C_g lam + C_e], [., V_g2 lam + V_e2]], so each AI-REML
iteration costs O(n). Samples missing either trait are dropped (GCTA keeps them with
a partially observed block; documented difference). rG = C_g / sqrt(V_g1 V_g2) with a
delta-method SE from the inverse AI matrix.

Parameters are ordered (V_g1, V_g2, C_g, V_e1, V_e2, C_e).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

# dV/dtheta_i per block: lam-scaled for genetic terms, constant for residual terms
_M = [np.array([[1.0, 0], [0, 0]]), np.array([[0, 0], [0, 1.0]]), np.array([[0, 1.0], [1.0, 0]])]


@dataclass
class BivariateResult:
    """Components, h2 of each trait, rG with SE and a Wald p-value for rG = 0."""

    theta: np.ndarray
    se: np.ndarray
    h2: tuple[float, float]
    h2_se: tuple[float, float]
    rg: float
    rg_se: float
    pval: float
    logl: float
    n: int
    iterations: int
    converged: bool


def _parts(y, x, lam, theta):
    g1, g2, gc, e1, e2, ec = theta
    v = np.empty((lam.size, 2, 2))
    v[:, 0, 0] = g1 * lam + e1
    v[:, 1, 1] = g2 * lam + e2
    v[:, 0, 1] = v[:, 1, 0] = gc * lam + ec
    det = v[:, 0, 0] * v[:, 1, 1] - v[:, 0, 1] ** 2
    if np.any(det <= 0):
        return None
    vinv = np.empty_like(v)
    vinv[:, 0, 0] = v[:, 1, 1] / det
    vinv[:, 1, 1] = v[:, 0, 0] / det
    vinv[:, 0, 1] = vinv[:, 1, 0] = -v[:, 0, 1] / det
    w = np.einsum("kab,kbj->kaj", vinv, x)  # V^-1 X, (n, 2, q)
    xvx = np.einsum("kai,kaj->ij", x, w)
    c = np.linalg.inv(xvx)

    def p_times(u):  # P u, u (n, 2)
        return np.einsum("kab,kb->ka", vinv, u) - np.einsum("kai,i->ka", w,
                                                              c @ np.einsum("kai,ka->i", w, u))

    py = p_times(y)
    pdiag = vinv - np.einsum("kai,ij,kbj->kab", w, c, w)
    logl = -0.5 * (np.sum(np.log(det)) + np.linalg.slogdet(xvx)[1] + np.sum(y * py))
    return py, pdiag, logl, p_times


def _dv_times(i, lam, u):
    m = _M[i % 3]
    scale = lam[:, None] if i < 3 else 1.0
    return scale * (u @ m.T)


def _ai_score(y, x, lam, theta):
    parts = _parts(y, x, lam, theta)
    if parts is None:
        return None
    py, pdiag, logl, p_times = parts
    dpy = [_dv_times(i, lam, py) for i in range(6)]
    pdpy = [p_times(d) for d in dpy]
    ai = 0.5 * np.array([[np.sum(dpy[i] * pdpy[j]) for j in range(6)] for i in range(6)])
    tr = []
    for i in range(6):
        m = _M[i % 3]
        s = lam if i < 3 else np.ones_like(lam)
        tr.append(np.sum(s * np.einsum("kab,ba->k", pdiag, m)))
    score = -0.5 * (np.array(tr) - np.array([np.sum(py * d) for d in dpy]))
    return ai, score, logl


def bivariate_greml(y1: np.ndarray, y2: np.ndarray, x: np.ndarray, grm: np.ndarray | None = None,
                    eig: tuple[np.ndarray, np.ndarray] | None = None, max_iter: int = 100,
                    tol: float = 1e-4) -> BivariateResult:
    """Fit the bivariate model on samples with both traits.

    Parameters
    ----------
    y1, y2 : ndarray, shape (n,)
    x : ndarray, shape (n, c)
        Covariates with intercept, used for both traits.
    grm or eig
        GRM (n, n) or its eigendecomposition ``(lam, U)``.
    """
    lam, u = eig if eig is not None else np.linalg.eigh(grm)
    lam = np.clip(lam, 0, None)
    n, c = x.shape
    ys = np.column_stack([u.T @ y1, u.T @ y2])
    xs1 = u.T @ x
    xr = np.zeros((n, 2, 2 * c))
    xr[:, 0, :c] = xs1
    xr[:, 1, c:] = xs1
    v1, v2 = np.var(y1, ddof=1), np.var(y2, ddof=1)
    cov = np.cov(y1, y2)[0, 1]
    theta = np.array([v1 / 2, v2 / 2, cov / 4, v1 / 2, v2 / 2, cov / 4])
    floor = 1e-6 * np.array([v1, v2])
    res = _ai_score(ys, xr, lam, theta)
    logl = res[2]
    converged = False
    iterations = 0
    for _ in range(max_iter):
        iterations += 1
        ai, score, logl = res
        step = np.linalg.solve(ai, score)
        frac = 1.0
        while True:  # step halving keeps V positive definite and logL from dropping
            cand = theta + frac * step
            cand[[0, 3]] = np.maximum(cand[[0, 3]], floor[0])
            cand[[1, 4]] = np.maximum(cand[[1, 4]], floor[1])
            new = _ai_score(ys, xr, lam, cand)
            if new is not None and new[2] >= logl - 1e-8:
                break
            frac /= 2
            if frac < 1e-4:
                new = None
                break
        if new is None:
            break
        theta, res = cand, new
        if abs(res[2] - logl) < tol:
            converged = True
            logl = res[2]
            break
    ai, _, logl = res
    covm = np.linalg.inv(ai)
    se = np.sqrt(np.clip(np.diag(covm), 0, None))
    g1, g2, gc, e1, e2, _ = theta
    # delta method for rG = gc / sqrt(g1 g2)
    rg = gc / np.sqrt(g1 * g2)
    grad = np.zeros(6)
    grad[0] = -0.5 * rg / g1
    grad[1] = -0.5 * rg / g2
    grad[2] = 1 / np.sqrt(g1 * g2)
    rg_se = float(np.sqrt(max(grad @ covm @ grad, 0)))

    def h2_and_se(ig, ie):
        vg, ve = theta[ig], theta[ie]
        vp = vg + ve
        gr = np.zeros(6)
        gr[ig] = ve / vp**2
        gr[ie] = -vg / vp**2
        return vg / vp, float(np.sqrt(max(gr @ covm @ gr, 0)))

    h1, s1 = h2_and_se(0, 3)
    h2, s2 = h2_and_se(1, 4)
    pval = float(2 * stats.norm.sf(abs(rg) / rg_se)) if rg_se > 0 else float("nan")
    return BivariateResult(theta, se, (h1, h2), (s1, s2), float(rg), rg_se, pval, float(logl),
                           n, iterations, converged)
