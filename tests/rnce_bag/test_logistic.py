"""The probes' logistic regression against scikit-learn on the same data.

Tolerances: coefficients and probabilities within 1e-6 absolute (both solvers run to
1e-10-level convergence; the optimum is unique because the L2 objective is strictly
convex), the chosen penalty identical.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from rnce_bag.logistic import CS, balanced_weights, cv_l2_logistic, fit_l2_logistic
from rnce_bag.probes import nested_cv_probabilities


def _data(n: int, p: int, seed: int, strength: float = 1.0, share: float = 0.3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p)) * rng.uniform(0.5, 3.0, size=p) + rng.normal(size=p)
    w = rng.normal(size=p) * strength / np.sqrt(p)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(x - x.mean(0)) @ w - np.log(share / (1 - share))
                                             ))).astype(int)
    return x, y


@pytest.mark.parametrize("c", [1e-4, 0.01, 1.0, 100.0])
@pytest.mark.parametrize("p", [30, 90])
def test_one_fit_is_scikit_learns(c, p):
    """Balanced weights, unpenalised intercept; C = 100 on 40 subjects x 30 features is
    nearly separable (Newton's line search must hold); 90 features > 40 subjects is fitted
    in the row space."""
    x, y = _data(40, p, seed=1, strength=4.0)
    ours = fit_l2_logistic(x, y, c, balanced_weights(y))
    ref = LogisticRegression(C=c, class_weight="balanced", solver="newton-cholesky",
                             tol=1e-12, max_iter=1000).fit(x, y)
    scale = max(1.0, np.abs(ref.coef_).max())
    np.testing.assert_allclose(ours[:-1], ref.coef_.ravel(), atol=1e-6 * scale)
    assert ours[-1] == pytest.approx(ref.intercept_[0], abs=1e-6 * scale)


def test_balanced_weights_are_scikit_learns():
    from sklearn.utils.class_weight import compute_sample_weight

    y = np.array([0, 0, 0, 1, 1, 0, 0])
    np.testing.assert_allclose(balanced_weights(y), compute_sample_weight("balanced", y))


@pytest.mark.parametrize("n, p", [(150, 12), (60, 100)])
def test_the_penalty_search_is_logistic_regression_cv(n, p):
    x, y = _data(n, p, seed=2)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=3).split(x, y))
    c, coef = cv_l2_logistic(x, y, folds)
    ref = LogisticRegressionCV(Cs=CS, cv=folds, scoring="roc_auc", class_weight="balanced",
                               solver="newton-cholesky", tol=1e-12, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ref.fit(x, y)
    assert c == pytest.approx(float(ref.C_[0]), rel=1e-12)
    np.testing.assert_allclose(coef[:-1], ref.coef_.ravel(), atol=1e-6)


@pytest.mark.parametrize("pca_dims", [None, 5])
def test_nested_cv_is_the_scikit_learn_pipeline(pca_dims):
    """Outer folds, standardisation and PCA fitted on the training fold, inner CV: the
    out-of-fold probabilities of the scikit-learn pipeline the probes used to run."""
    x, y = _data(120, 20, seed=4, share=0.4)
    ours = nested_cv_probabilities(x, y, seed=7, pca_dims=pca_dims)
    ref = np.empty(y.size)
    for train, test in StratifiedKFold(5, shuffle=True, random_state=7).split(x, y):
        reduce = [PCA(pca_dims, svd_solver="full")] if pca_dims else []
        model = make_pipeline(StandardScaler(), *reduce, LogisticRegressionCV(
            Cs=CS, cv=StratifiedKFold(5, shuffle=True, random_state=8), scoring="roc_auc",
            class_weight="balanced", solver="newton-cholesky", tol=1e-12, max_iter=1000))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            model.fit(x[train], y[train])
        ref[test] = model.predict_proba(x[test])[:, 1]
    np.testing.assert_allclose(ours, ref, atol=1e-6)
