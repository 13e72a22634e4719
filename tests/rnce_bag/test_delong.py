"""DeLong against its definition (O(mn) placement values) and a bootstrap."""

import numpy as np
import pytest

from rnce_bag.delong import auc, auc_ci, delong_covariance, delong_paired_test


def _delong_reference(y, scores):
    """DeLong et al. (1988) directly: psi kernel, structural components V10 and V01."""
    y = y.astype(bool)
    k = scores.shape[0]
    pos, neg = scores[:, y], scores[:, ~y]
    m, n = pos.shape[1], neg.shape[1]
    psi = (pos[:, :, None] > neg[:, None, :]) + 0.5 * (pos[:, :, None] == neg[:, None, :])
    auc = psi.mean(axis=(1, 2))
    v10 = psi.mean(axis=2)  # (k, m): each positive against all negatives
    v01 = psi.mean(axis=1)  # (k, n)
    s10 = np.array([[np.cov(v10[a], v10[b])[0, 1] for b in range(k)] for a in range(k)])
    s01 = np.array([[np.cov(v01[a], v01[b])[0, 1] for b in range(k)] for a in range(k)])
    return auc, s10 / m + s01 / n


@pytest.mark.parametrize("ties", [False, True])
def test_matches_definition(ties):
    rng = np.random.default_rng(1)
    y = rng.random(120) < 0.35
    a = y + rng.normal(0, 1, 120)
    b = 0.5 * y + rng.normal(0, 1, 120)
    if ties:
        a, b = np.round(a), np.round(b * 2) / 2
    scores = np.vstack([a, b])
    auc, cov = delong_covariance(y, scores)
    ref_auc, ref_cov = _delong_reference(y, scores)
    assert auc == pytest.approx(ref_auc, abs=1e-12)
    assert cov == pytest.approx(ref_cov, abs=1e-12)


def test_agrees_with_bootstrap():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    n = 300
    y = rng.random(n) < 0.4
    a = y + rng.normal(0, 1, n)
    b = 0.6 * y + rng.normal(0, 1, n)
    auc, se, lo, hi = auc_ci(y, a)
    assert auc == pytest.approx(roc_auc_score(y, a), abs=1e-12)
    diff, dse, p = delong_paired_test(y, a, b)
    boot, bdiff = [], []
    for _ in range(2000):
        i = rng.integers(0, n, n)
        boot.append(roc_auc_score(y[i], a[i]))
        bdiff.append(boot[-1] - roc_auc_score(y[i], b[i]))
    # DeLong SEs within 10% of 2,000-sample bootstrap SEs
    assert se == pytest.approx(np.std(boot), rel=0.1)
    assert dse == pytest.approx(np.std(bdiff), rel=0.1)
    assert lo < auc < hi and 0 < p < 1


def test_identical_scores_and_errors():
    y = np.array([0, 0, 1, 1, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8, 0.9])
    assert delong_paired_test(y, s, s) == (0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="both classes"):
        delong_covariance(np.ones(5), s[None, :])


@pytest.mark.parametrize("ties", [False, True])
def test_auc_is_roc_auc_score(ties):
    """The plain AUC (the probes' inner CV score) against scikit-learn, ties included."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    y = (rng.random(80) < 0.3).astype(int)
    score = y + rng.normal(size=80)
    if ties:
        score = np.round(score)
    assert auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert np.isnan(auc(np.zeros(5), score[:5]))
