"""Bivariate GREML: genetic correlation of two traits measured on the same samples.

Model per trait t: y_t = X b_t + g_t + e_t with Cov(g_1, g_2) = C_g A and
Cov(e_1, e_2) = C_e I. On the GRM's eigenbasis every sample contributes one 2 x 2 block
of V, [[V_g1 lam + V_e1, C_g lam + C_e], [., V_g2 lam + V_e2]], so each AI-REML
iteration costs O(n). Samples missing either trait are dropped (GCTA keeps them with
a partially observed block; documented difference). rG = C_g / sqrt(V_g1 V_g2) with a
delta-method SE from the inverse AI matrix. The fit is constrained (rG in [-1, 1]);
``at_boundary`` says when |rG| reached 1.

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
    at_boundary: bool = False
    h2_diff_se: float = float("nan")  # SE of h2[0] - h2[1] (the two estimates covary)


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


def _theta(phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cholesky factors -> (V_g1, V_g2, C_g, V_e1, V_e2, C_e) and the Jacobian (6, 6)."""
    theta = np.empty(6)
    jac = np.zeros((6, 6))
    for k in (0, 3):  # genetic block, then residual block
        a11, a21, a22 = phi[k:k + 3]
        theta[k:k + 3] = a11 * a11, a21 * a21 + a22 * a22, a11 * a21
        jac[k, k] = 2 * a11
        jac[k + 1, k + 1], jac[k + 1, k + 2] = 2 * a21, 2 * a22
        jac[k + 2, k], jac[k + 2, k + 1] = a21, a11
    return theta, jac


def _cholesky_start(v1: float, v2: float, c: float) -> np.ndarray:
    r = np.clip(c / np.sqrt(v1 * v2), -0.95, 0.95) if v1 > 0 and v2 > 0 else 0.0
    a11 = np.sqrt(v1)
    return np.array([a11, r * np.sqrt(v2), np.sqrt(1 - r * r) * np.sqrt(v2)])


def bivariate_greml(y1: np.ndarray, y2: np.ndarray, x: np.ndarray, grm: np.ndarray | None = None,
                    eig: tuple[np.ndarray, np.ndarray] | None = None, max_iter: int = 200,
                    tol: float = 1e-6) -> BivariateResult:
    """Fit the bivariate model on samples with both traits.

    The two 2 x 2 covariance matrices are parameterised by their Cholesky factors, so
    every iterate has a positive semi-definite genetic and a positive definite residual
    covariance (rG in [-1, 1]: constrained REML, where GCTA's default is unconstrained).
    Iterations are average-information scoring in that parameterisation with
    Levenberg-Marquardt damping (a step is taken only if logL does not drop), started
    from the two univariate GREML fits and the phenotypic correlation.

    Parameters
    ----------
    y1, y2 : ndarray, shape (n,)
    x : ndarray, shape (n, c)
        Covariates with intercept, used for both traits.
    grm or eig
        GRM (n, n) or its eigendecomposition ``(lam, U)``.
    max_iter, tol
        Iteration limit and the logL change below which the fit has converged.
    """
    from gwas.heritability.greml import greml

    lam, u = eig if eig is not None else np.linalg.eigh(grm)
    lam = np.clip(lam, 0, None)
    n, c = x.shape
    ys = np.column_stack([u.T @ y1, u.T @ y2])
    xs1 = u.T @ x
    xr = np.zeros((n, 2, 2 * c))
    xr[:, 0, :c] = xs1
    xr[:, 1, c:] = xs1
    f1, f2 = greml(y1, x, eig=(lam, u)), greml(y2, x, eig=(lam, u))
    rp = float(np.corrcoef(y1, y2)[0, 1])
    floor = 1e-3 * np.sqrt(np.array([f1.vg + f1.ve, f2.vg + f2.ve]))
    g1, g2 = max(f1.vg, floor[0] ** 2 * 10), max(f2.vg, floor[1] ** 2 * 10)
    phi = np.r_[_cholesky_start(g1, g2, rp * np.sqrt(g1 * g2)),
                _cholesky_start(f1.ve, f2.ve, rp * np.sqrt(f1.ve * f2.ve))]
    theta, jac = _theta(phi)
    res = _ai_score(ys, xr, lam, theta)
    if res is None:
        raise np.linalg.LinAlgError("bivariate GREML: singular starting covariance")
    mu, converged, iterations = 1e-3, False, 0
    for _ in range(max_iter):
        iterations += 1
        ai, score, logl = res
        a_phi = jac.T @ ai @ jac
        s_phi = jac.T @ score
        new = None
        while mu < 1e8:
            step = np.linalg.solve(a_phi + mu * np.diag(np.diag(a_phi) + 1e-12), s_phi)
            cand = phi + step
            cand[[3, 5]] = np.where(np.abs(cand[[3, 5]]) < floor, floor, cand[[3, 5]])
            cand_theta, cand_jac = _theta(cand)
            new = _ai_score(ys, xr, lam, cand_theta)
            if new is not None and new[2] >= logl - 1e-10:
                break
            mu *= 10
            new = None
        if new is None:  # even a tiny gradient step lowers logL: at the maximum
            converged = True
            break
        phi, theta, jac, res = cand, cand_theta, cand_jac, new
        mu = max(mu / 10, 1e-8)
        if abs(new[2] - logl) < tol:
            converged = True
            break
    ai, _, logl = res
    covm = np.linalg.inv(ai)
    se = np.sqrt(np.clip(np.diag(covm), 0, None))
    g1, g2, gc, e1, e2, _ = theta
    # delta method for rG = gc / sqrt(g1 g2)
    rg = gc / np.sqrt(g1 * g2) if g1 * g2 > 0 else float("nan")
    grad = np.zeros(6)
    grad[0] = -0.5 * rg / g1
    grad[1] = -0.5 * rg / g2
    grad[2] = 1 / np.sqrt(g1 * g2)
    rg_se = float(np.sqrt(max(grad @ covm @ grad, 0)))

    def h2_grad(ig, ie):
        vg, ve = theta[ig], theta[ie]
        vp = vg + ve
        gr = np.zeros(6)
        gr[ig] = ve / vp**2
        gr[ie] = -vg / vp**2
        return vg / vp, gr

    (h1, d1), (h2, d2) = h2_grad(0, 3), h2_grad(1, 4)
    s1, s2 = (float(np.sqrt(max(d @ covm @ d, 0))) for d in (d1, d2))
    diff_se = float(np.sqrt(max((d1 - d2) @ covm @ (d1 - d2), 0)))
    pval = float(2 * stats.norm.sf(abs(rg) / rg_se)) if rg_se > 0 else float("nan")
    return BivariateResult(theta, se, (h1, h2), (s1, s2), float(rg), rg_se, pval, float(logl),
                           n, iterations, converged, bool(abs(rg) > 0.999), diff_se)
