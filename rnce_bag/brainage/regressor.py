"""Cross-fitted brain-age regressor following scikit-learn's estimator contract.

``BrainAgeModel.fit(X, age)`` runs repeated K-fold cross-fitting on the training
(normative) subjects: each repeat gives every training subject exactly one out-of-fold
prediction, and ``oof_pred_`` is their mean over repeats. ``predict(X)`` for other
subjects averages all fold models. The bias correction (:mod:`.bias`) is fitted on
``oof_pred_`` only, never on in-sample predictions.

Shapes: ``X`` (n, p) features, ``age`` (n,) years.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_array, check_is_fitted, check_X_y

from rnce_bag.brainage.config import N_REPEATS, N_SPLITS, Regressor


def make_regressor(kind: Regressor, random_state: int = 0) -> Pipeline:
    """Standardisation + the chosen regressor, as an unfitted pipeline."""
    if kind == "ridge":
        from sklearn.linear_model import RidgeCV

        reg = RidgeCV(alphas=np.logspace(-3, 5, 33))
    elif kind == "kernel_ridge":
        from sklearn.kernel_ridge import KernelRidge
        from sklearn.model_selection import GridSearchCV

        reg = GridSearchCV(KernelRidge(kernel="rbf"),
                           {"alpha": np.logspace(-3, 1, 5), "gamma": np.logspace(-4, -1, 4)},
                           cv=3, scoring="neg_mean_absolute_error")
    elif kind == "gbm":
        from sklearn.ensemble import HistGradientBoostingRegressor

        reg = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05,
                                            random_state=random_state)
    else:
        raise ValueError(f"'make_regressor': parameter 'kind': expected ridge, kernel_ridge or "
                         f"gbm, found {kind!r}")
    return Pipeline([("scale", StandardScaler()), ("reg", reg)])


class BrainAgeModel(RegressorMixin, BaseEstimator):
    """Repeated K-fold cross-fitted brain-age regressor.

    Parameters
    ----------
    regressor
        ``ridge`` (RidgeCV, default), ``kernel_ridge`` or ``gbm``.
    n_splits
        Folds per repeat.
    n_repeats
        Repeats with different fold assignments.
    random_state
        Seed of the fold assignment.

    Attributes
    ----------
    oof_pred_ : ndarray, shape (n_train,)
        Mean out-of-fold prediction of each training subject.
    fold_ : ndarray, shape (n_train,)
        Fold of each training subject in the first repeat (0-based).
    models_ : list of Pipeline
        ``n_splits * n_repeats`` fitted fold models.
    """

    def __init__(self, regressor: Regressor = "ridge", n_splits: int = N_SPLITS,
                 n_repeats: int = N_REPEATS,
                 random_state: int = 0) -> None:
        self.regressor = regressor
        self.n_splits = n_splits
        self.n_repeats = n_repeats
        self.random_state = random_state

    def fit(self, X, y) -> BrainAgeModel:
        X, y = check_X_y(X, y, dtype=np.float64, y_numeric=True)
        if X.shape[0] < 2 * self.n_splits:
            raise ValueError(f"'BrainAgeModel.fit': need at least {2 * self.n_splits} training "
                             f"subjects for {self.n_splits} folds, found {X.shape[0]}")
        oof = np.zeros((self.n_repeats, X.shape[0]))
        self.fold_ = np.zeros(X.shape[0], dtype=int)
        self.models_ = []
        for r in range(self.n_repeats):
            kf = KFold(self.n_splits, shuffle=True, random_state=self.random_state + r)
            for k, (train, test) in enumerate(kf.split(X)):
                model = clone(make_regressor(self.regressor, self.random_state + r))
                model.fit(X[train], y[train])
                oof[r, test] = model.predict(X[test])
                self.models_.append(model)
                if r == 0:
                    self.fold_[test] = k
        self.oof_pred_ = oof.mean(axis=0)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X) -> np.ndarray:
        """Mean prediction of the fold models (for subjects not used in training)."""
        check_is_fitted(self, "models_")
        X = check_array(X, dtype=np.float64)
        return np.mean([m.predict(X) for m in self.models_], axis=0)
