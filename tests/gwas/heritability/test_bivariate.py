import numpy as np
import pytest

from gwas.heritability.bivariate import _ai_score, bivariate_greml
from gwas.heritability.greml import greml
from gwas.heritability.hsq import format_bivariate_hsq, parse_hsq, rg_from_hsq


def _two_traits(rg, n=1200, m=2500, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.5, m)
    z = (rng.binomial(2, p, (n, m)) - 2 * p) / np.sqrt(2 * p * (1 - p))
    b1 = rng.normal(size=m)
    b2 = rg * b1 + np.sqrt(1 - rg**2) * rng.normal(size=m)
    e = rng.multivariate_normal([0, 0], [[0.5, 0.1], [0.1, 0.6]], n)
    y1 = z @ b1 * np.sqrt(0.5 / m) + e[:, 0]
    y2 = z @ b2 * np.sqrt(0.4 / m) + e[:, 1] + 1.0
    return y1, y2, np.ones((n, 1)), z @ z.T / m


@pytest.mark.parametrize("rg", [0.8, 0.0])
def test_recovers_rg_and_matches_univariate(rg):
    y1, y2, x, a = _two_traits(rg)
    r = bivariate_greml(y1, y2, x, a)
    assert r.converged and abs(r.rg - rg) < 3 * r.rg_se and r.rg_se < 0.2
    # each trait's h2 agrees with its univariate GREML within about one SE (the joint fit
    # borrows information across traits, so they need not be identical)
    assert r.h2[0] == pytest.approx(greml(y1, x, a).h2, abs=0.05)
    assert r.h2[1] == pytest.approx(greml(y2, x, a).h2, abs=0.05)


def test_at_a_maximum_and_hsq_layout():
    y1, y2, x, a = _two_traits(0.5, n=600, m=1500, seed=3)
    r = bivariate_greml(y1, y2, x, a)
    lam, u = np.linalg.eigh(a)
    lam = np.clip(lam, 0, None)
    ys = np.column_stack([u.T @ y1, u.T @ y2])
    xr = np.zeros((len(y1), 2, 2))
    xr[:, 0, 0] = xr[:, 1, 1] = (u.T @ x)[:, 0]
    best = _ai_score(ys, xr, lam, r.theta)[2]
    for i in range(6):
        for d in (0.01, -0.01):
            t = r.theta.copy()
            t[i] += d
            out = _ai_score(ys, xr, lam, t)
            assert out is None or out[2] <= best + 1e-6
    parsed = rg_from_hsq(parse_hsq(format_bivariate_hsq(r)))
    assert parsed["rg"] == pytest.approx(r.rg, abs=1e-6) and parsed["n"] == 600


@pytest.mark.slow
@pytest.mark.parametrize("rg", [0.0, 0.5, 0.9])
def test_converges_on_known_rg_at_n_2000(rg):
    """The issue's check: simulated pairs with rG 0, 0.5, 0.9 at n = 2,000 converge, and the
    estimate is within 3 SE of the truth."""
    y1, y2, x, a = _two_traits(rg, n=2000, m=3000, seed=11)
    r = bivariate_greml(y1, y2, x, a)
    assert r.converged, r
    assert -1 <= r.rg <= 1 and abs(r.rg - rg) < 3 * r.rg_se and r.rg_se < 0.15
    assert r.iterations < 100


def test_true_rg_of_one_stays_in_range_and_converges():
    """Where the unconstrained REML walks past |rG| = 1 (and used to stop unconverged), the
    constrained fit converges inside [-1, 1] and says when it sits on the boundary."""
    rng = np.random.default_rng(5)
    n, m = 800, 1500
    p = rng.uniform(0.05, 0.5, m)
    z = (rng.binomial(2, p, (n, m)) - 2 * p) / np.sqrt(2 * p * (1 - p))
    g = z @ rng.normal(size=m) * np.sqrt(0.4 / m)
    y1 = g + rng.normal(0, np.sqrt(0.6), n)
    y2 = 1.3 * g + rng.normal(0, np.sqrt(0.8), n)
    r = bivariate_greml(y1, y2, np.ones((n, 1)), z @ z.T / m)
    assert r.converged and -1 <= r.rg <= 1 and r.rg > 0.7
    assert r.at_boundary == (abs(r.rg) > 0.999)


def test_rg_status_flags():
    from gwas.heritability.run import rg_status

    assert rg_status(True, 0.5) == "ok"
    assert "not converged" in rg_status(False, 0.5)
    assert "outside [-1, 1]" in rg_status(True, 1.2)
    assert "boundary" in rg_status(True, 1.0, at_boundary=True)
    assert "undefined" in rg_status(True, -0.99, h2=(0.4, 1e-6))
