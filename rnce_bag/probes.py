"""Linear probes of representations on the clinical tasks of the paper.

Tasks (labels from the manifest):

- ``ad_vs_cn``: AD (1) vs CN (0);
- ``conversion_2y`` / ``conversion_3y``: MCI subjects converting to AD within 2 / 3
  years (``conversion_years`` <= horizon) vs MCI subjects who did not (NA);
- ``amyloid``: amyloid positive (1) vs negative (0) where measured.

Model: standardisation + L2 logistic regression (balanced class weights) whose penalty
is chosen by an inner stratified cross-validation; an outer stratified K-fold gives an
out-of-fold probability for every subject (nested CV). Scores: AUC with its 95% DeLong
CI, balanced accuracy at 0.5, and DeLong's paired test between representations on the
same subjects.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from rnce_bag.core.errors import InputError
from rnce_bag.delong import auc_ci, delong_paired_test

TASKS = ("ad_vs_cn", "conversion_2y", "conversion_3y", "amyloid")


def task_labels(manifest: pd.DataFrame, task: str) -> pd.Series:
    """Labels (0/1) indexed like ``manifest`` for the subjects the task uses; NaN others."""
    dx = manifest["diagnosis"].astype(str)
    if task == "ad_vs_cn":
        return pd.Series(np.where(dx == "AD", 1.0, np.where(dx == "CN", 0.0, np.nan)),
                         index=manifest.index)
    if task.startswith("conversion_"):
        horizon = float(task[len("conversion_"):-1])
        conv = pd.to_numeric(manifest["conversion_years"], errors="coerce")
        lab = np.where(dx != "MCI", np.nan, np.where(conv <= horizon, 1.0, 0.0))
        return pd.Series(lab, index=manifest.index)
    if task == "amyloid":
        return pd.to_numeric(manifest["amyloid"], errors="coerce").astype(float)
    raise InputError(f"unknown probe task {task!r}; expected one of {', '.join(TASKS)}")


def nested_cv_probabilities(x: np.ndarray, y: np.ndarray, n_outer: int = 5, n_inner: int = 5,
                            seed: int = 0) -> np.ndarray:
    """Out-of-fold P(y = 1) from nested CV of an L2 logistic regression.

    Parameters
    ----------
    x : ndarray, shape (n, p)
    y : ndarray, shape (n,), in {0, 1}
    """
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    minority = int(min(y.sum(), (1 - y).sum()))
    n_outer = min(n_outer, minority)
    n_inner = max(2, min(n_inner, minority - minority // n_outer))
    prob = np.empty(y.size)
    outer = StratifiedKFold(n_outer, shuffle=True, random_state=seed)
    for train, test in outer.split(x, y):
        model = make_pipeline(StandardScaler(), LogisticRegressionCV(
            Cs=np.logspace(-4, 2, 13), cv=StratifiedKFold(n_inner, shuffle=True,
                                                          random_state=seed + 1),
            scoring="roc_auc", class_weight="balanced", max_iter=2000))
        with warnings.catch_warnings():  # sklearn 1.9 announces API changes of 1.10
            warnings.simplefilter("ignore", FutureWarning)
            model.fit(x[train], y[train])
        prob[test] = model.predict_proba(x[test])[:, 1]
    return prob


def probe(manifest: pd.DataFrame, reps: dict[str, np.ndarray], tasks: tuple[str, ...] = TASKS,
          min_per_class: int = 5, seed: int = 0
          ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Score every representation on every task.

    Parameters
    ----------
    manifest
        Subjects with ``diagnosis``, ``conversion_years``, ``amyloid``.
    reps
        Name -> features aligned with ``manifest`` rows, shape (n, p).
    tasks
        Tasks to run.
    min_per_class
        Fewer subjects in a class than this is an error.

    Returns
    -------
    scores : DataFrame
        ``task representation n n_pos auc auc_se ci_low ci_high balanced_accuracy``.
    pairs : DataFrame
        ``task rep_a rep_b auc_a auc_b auc_diff diff_se p_delong``.
    predictions : DataFrame
        ``IID task label prob_<rep> ...`` (the data behind the figures).
    """
    from itertools import combinations

    from sklearn.metrics import balanced_accuracy_score

    rows, pair_rows, pred_frames = [], [], []
    for task in tasks:
        lab = task_labels(manifest, task)
        use = lab.notna().to_numpy()
        y = lab[use].to_numpy().astype(int)
        n_pos, n_neg = int(y.sum()), int((1 - y).sum())
        if min(n_pos, n_neg) < min_per_class:
            raise InputError(
                f"probe task {task}: {n_pos} positive and {n_neg} negative subjects; each class "
                f"needs at least {min_per_class}",
                hint="drop the task with --task, or add subjects with that label")
        probs = {}
        for name, x in reps.items():
            p = nested_cv_probabilities(x[use], y, seed=seed)
            probs[name] = p
            auc, se, lo, hi = auc_ci(y, p)
            rows.append({"task": task, "representation": name, "n": int(y.size), "n_pos": n_pos,
                         "auc": auc, "auc_se": se, "ci_low": lo, "ci_high": hi,
                         "balanced_accuracy": float(balanced_accuracy_score(y, p >= 0.5))})
        for a, b in combinations(reps, 2):
            diff, se, pval = delong_paired_test(y, probs[a], probs[b])
            pair_rows.append({"task": task, "rep_a": a, "rep_b": b, "auc_diff": diff,
                              "diff_se": se, "p_delong": pval})
        frame = pd.DataFrame({"IID": manifest["IID"].to_numpy()[use], "task": task, "label": y})
        for name, p in probs.items():
            frame[f"prob_{name.lower()}"] = p
        pred_frames.append(frame)
    scores = pd.DataFrame(rows)
    pairs = pd.DataFrame(pair_rows, columns=["task", "rep_a", "rep_b", "auc_diff", "diff_se",
                                             "p_delong"])
    # the same columns with one representation (no pairs) as with several
    auc = scores.set_index(["task", "representation"])["auc"] if len(scores) else {}
    pairs.insert(3, "auc_a", [auc[(t, a)] for t, a in zip(pairs["task"], pairs["rep_a"],
                                                            strict=True)])
    pairs.insert(4, "auc_b", [auc[(t, b)] for t, b in zip(pairs["task"], pairs["rep_b"],
                                                            strict=True)])
    return scores, pairs, pd.concat(pred_frames, ignore_index=True)
