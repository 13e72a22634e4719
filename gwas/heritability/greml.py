"""Embedded GREML: GCTA's AI-REML for one genetic component, on the GRM's eigenbasis.

Model: y = X b + g + e, g ~ N(0, s_g A), e ~ N(0, s_e I). With A = U diag(lam) U',
rotating y and X by U' makes V diagonal (s_g lam + s_e), so each iteration costs
O(n c^2) after one O(n^3) eigendecomposition.

Algorithm (as GCTA): start from s_g = s_e = Var(y)/2; one EM step; then average-
information (AI) updates theta += AI^-1 score; a component that turns negative is set to
1e-6 Var(y) (GCTA's constraint); stop when the log-likelihood changes by < 1e-4
(GCTA's rule) within ``max_iter`` iterations. logL is GCTA's REML log-likelihood
without the 2 pi constant: -1/2 (log|V| + log|X'V^-1 X| + y'Py). The LRT against
s_g = 0 has p = 1/2 P(chi2_1 > LRT) (boundary), as GCTA reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass
class GremlResult:
    """Variance components with SEs, h2 = V(G)/Vp and the LRT (GCTA's .hsq fields)."""

    vg: float
    ve: float
    vg_se: float
    ve_se: float
    vp: float
    vp_se: float
    h2: float
    h2_se: float
    logl: float
    logl0: float
    lrt: float
    pval: float
    n: int
    iterations: int
    converged: bool
    constrained: bool


def _reml_parts(ys: np.ndarray, xs: np.ndarray, lam: np.ndarray, vg: float, ve: float):
    """P y, tr(P V_i) and logL in the rotated space (V diagonal)."""
    d = vg * lam + ve  # diagonal of V
    vinv = 1.0 / d
    xv = xs * vinv[:, None]
    xvx = xs.T @ xv
    xvx_inv = np.linalg.inv(xvx)
    # P = Vinv - Vinv X (X'VinvX)^-1 X' Vinv
    py = vinv * ys - xv @ (xvx_inv @ (xv.T @ ys))
    # diag(P) = vinv - rowwise (xv (X'VinvX)^-1 xv')
    diag_p = vinv - np.einsum("ij,jk,ik->i", xv, xvx_inv, xv)
    _, logdet_xvx = np.linalg.slogdet(xvx)
    logl = -0.5 * (np.sum(np.log(d)) + logdet_xvx + ys @ py)
    return py, diag_p, logl, xv, xvx_inv, vinv


def _ai_and_score(ys, xs, lam, vg, ve):
    py, diag_p, logl, xv, xvx_inv, vinv = _reml_parts(ys, xs, lam, vg, ve)
    # V_1 = A -> lam, V_2 = I
    v1py = lam * py
    v2py = py

    def p_times(v):  # P v in the rotated space
        return vinv * v - xv @ (xvx_inv @ (xv.T @ v))

    pv1py = p_times(v1py)
    pv2py = p_times(v2py)
    ai = 0.5 * np.array([[v1py @ pv1py, v1py @ pv2py], [v2py @ pv1py, v2py @ pv2py]])
    tr1 = np.sum(diag_p * lam)
    tr2 = np.sum(diag_p)
    score = -0.5 * np.array([tr1 - py @ v1py, tr2 - py @ v2py])
    return ai, score, logl, py, tr1, tr2


def reml_null(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """(logL0, s_e) of the model without a genetic component (closed form)."""
    n, c = x.shape
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    r = y - x @ beta
    ve = float(r @ r) / (n - c)
    _, logdet = np.linalg.slogdet(x.T @ x / ve)
    logl0 = -0.5 * (n * np.log(ve) + logdet + (r @ r) / ve)
    return float(logl0), ve


def greml(y: np.ndarray, x: np.ndarray, grm: np.ndarray | None = None,
          eig: tuple[np.ndarray, np.ndarray] | None = None, max_iter: int = 100,
          tol: float = 1e-4) -> GremlResult:
    """Fit the GREML model.

    Parameters
    ----------
    y
        Phenotype, shape (n,), no missing values.
    x
        Fixed effects including the intercept column, shape (n, c).
    grm
        GRM, shape (n, n) (or pass ``eig``).
    eig
        ``(lam, U)`` eigendecomposition of the GRM, reused across phenotypes.
    max_iter, tol
        Iteration limit and the logL change that stops it.
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    if eig is None:
        lam, u = np.linalg.eigh(grm)
    else:
        lam, u = eig
    lam = np.clip(lam, 0, None)
    ys, xs = u.T @ y, u.T @ x
    n = y.size
    vary = float(np.var(y, ddof=1))
    floor = 1e-6 * vary
    vg = ve = vary / 2
    constrained = False
    # one EM step (GCTA: s_i <- (s_i^2 y'PV_iPy + tr(s_i I - s_i^2 P V_i)) / n)
    _, _, logl, py, tr1, tr2 = _ai_and_score(ys, xs, lam, vg, ve)
    vg_new = (vg**2 * (py @ (lam * py)) + n * vg - vg**2 * tr1) / n
    ve_new = (ve**2 * (py @ py) + n * ve - ve**2 * tr2) / n
    vg, ve = max(vg_new, floor), max(ve_new, floor)
    converged = False
    iterations = 1
    for _ in range(2, max_iter + 1):
        iterations += 1
        ai, score, logl_now, *_ = _ai_and_score(ys, xs, lam, vg, ve)
        step = np.linalg.solve(ai, score)
        vg_next, ve_next = vg + step[0], ve + step[1]
        if vg_next < floor:
            vg_next, constrained = floor, True
        if ve_next < floor:
            ve_next, constrained = floor, True
        vg, ve = vg_next, ve_next
        logl_next = _reml_parts(ys, xs, lam, vg, ve)[2]
        if abs(logl_next - logl_now) < tol:
            converged = True
            logl = logl_next
            break
        logl = logl_next
    constrained = constrained and min(vg, ve) <= floor * (1 + 1e-9)
    ai, *_ = _ai_and_score(ys, xs, lam, vg, ve)
    cov = np.linalg.inv(ai)
    vp = vg + ve
    var_vp = cov[0, 0] + cov[1, 1] + 2 * cov[0, 1]
    var_h2 = (ve**2 * cov[0, 0] + vg**2 * cov[1, 1] - 2 * vg * ve * cov[0, 1]) / vp**4
    logl0, _ = reml_null(y, x)
    lrt = max(0.0, 2 * (logl - logl0))
    return GremlResult(
        vg=float(vg), ve=float(ve), vg_se=float(np.sqrt(max(cov[0, 0], 0))),
        ve_se=float(np.sqrt(max(cov[1, 1], 0))), vp=float(vp),
        vp_se=float(np.sqrt(max(var_vp, 0))), h2=float(vg / vp),
        h2_se=float(np.sqrt(max(var_h2, 0))), logl=float(logl), logl0=float(logl0),
        lrt=float(lrt), pval=float(0.5 * stats.chi2.sf(lrt, 1)) if lrt > 0 else 0.5,
        n=int(n), iterations=iterations, converged=converged, constrained=constrained)
