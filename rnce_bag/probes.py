"""Linear probes of representations on the clinical tasks of the paper, ADNI-style.

Tasks (labels from the manifest), on the **clinical subset** only (the manifest's
optional ``clinical`` column; without it every subject is clinical, as in ADNI):

- ``ad_vs_cn``: AD (1) vs CN (0) of the clinical subset, whose groups are age-matched by
  design (a normative cohort's younger CN would let age alone separate them);
- ``conversion_2y`` / ``conversion_3y``: MCI subjects converting to AD within 2 / 3
  years (``conversion_years`` <= horizon) vs MCI subjects seen without conversion up to
  the horizon; a non-converter whose follow-up (optional ``followup_years``) ended before
  the horizon is censored: left out, as survival-free ADNI evaluations do;
- ``amyloid``: amyloid positive (1) vs negative (0) where measured.

Model: standardisation + L2 logistic regression (balanced class weights) whose penalty
is chosen by an inner stratified cross-validation; an outer stratified K-fold gives an
out-of-fold probability for every subject (nested CV). Every table also holds an
**age + sex only** row (:data:`BASELINE`) and FreeSurfer (``FS``, when wider than
``pca_dims``) reduced to its first ``pca_dims`` principal components fitted inside each
training fold (``FS-64``): feature count alone must not
decide a comparison with 64-d embeddings. Scores: AUC with its 95% DeLong CI, balanced
accuracy at 0.5, the mean age of each class, and DeLong's paired test between
representations on the same subjects with a Holm adjustment over every test of the
table (:func:`holm`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnce_bag.core.errors import InputError
from rnce_bag.delong import auc_ci, delong_paired_test

#: the probe tasks, defined here once (claims, the report and the headline import them)
TASKS = ("ad_vs_cn", "conversion_2y", "conversion_3y", "amyloid")
#: how a task reads in tables and captions
TASK_LABELS = {"ad_vs_cn": "AD vs CN", "conversion_2y": "conversion within 2 y",
               "conversion_3y": "conversion within 3 y", "amyloid": "amyloid"}
#: the row every probe table holds: age and sex only (what a model needs no image for)
BASELINE = "AGE_SEX"
#: the embeddings' dimension: wider representations also get a row at this dimension
PCA_DIMS = 64


def clinical_mask(manifest: pd.DataFrame) -> np.ndarray:
    """Subjects of the clinical subset, shape (n,): the ``clinical`` column (1/true) when
    the manifest has one, else everyone."""
    if "clinical" not in manifest.columns:
        return np.ones(len(manifest), dtype=bool)
    col = manifest["clinical"]
    if col.dtype == bool:
        return col.to_numpy()
    text = col.astype(str).str.strip().str.lower()
    return text.isin(("1", "1.0", "true", "yes")).to_numpy()


def task_labels(manifest: pd.DataFrame, task: str) -> pd.Series:
    """Labels (0/1) indexed like ``manifest`` for the subjects the task uses; NaN others."""
    dx = manifest["diagnosis"].astype(str).to_numpy()
    clinical = clinical_mask(manifest)
    if task == "ad_vs_cn":
        lab = np.where(dx == "AD", 1.0, np.where(dx == "CN", 0.0, np.nan))
    elif task.startswith("conversion_"):
        horizon = float(task[len("conversion_"):-1])
        conv = pd.to_numeric(manifest["conversion_years"], errors="coerce").to_numpy()
        if "followup_years" in manifest.columns:
            seen = pd.to_numeric(manifest["followup_years"], errors="coerce").to_numpy()
        else:
            seen = np.full(len(manifest), np.inf)
        converted = conv <= horizon
        # NaN follow-up: unknown, so a non-converter cannot be counted as one
        followed = ~np.isnan(conv) | (np.nan_to_num(seen, nan=-1.0) >= horizon)
        lab = np.where(dx != "MCI", np.nan,
                       np.where(converted, 1.0, np.where(followed, 0.0, np.nan)))
    elif task == "amyloid":
        lab = pd.to_numeric(manifest["amyloid"], errors="coerce").to_numpy(dtype=float)
    else:
        raise InputError(f"unknown probe task {task!r}; expected one of {', '.join(TASKS)}")
    return pd.Series(np.where(clinical, lab, np.nan), index=manifest.index)


def age_sex_features(manifest: pd.DataFrame) -> np.ndarray:
    """The :data:`BASELINE` representation: age (years) and sex (1 = F), shape (n, 2)."""
    age = pd.to_numeric(manifest["age"], errors="coerce").to_numpy(dtype=float)
    female = (manifest["sex"].astype(str) == "F").to_numpy(dtype=float)
    return np.column_stack([age, female])


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of ``p`` (shape (k,)) for k tests (NaN kept)."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    k = ok.size
    if k == 0:
        return out
    order = ok[np.argsort(p[ok], kind="mergesort")]
    adjusted = np.maximum.accumulate((k - np.arange(k)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


def nested_cv_probabilities(x: np.ndarray, y: np.ndarray, n_outer: int = 5, n_inner: int = 5,
                            seed: int = 0, pca_dims: int | None = None) -> np.ndarray:
    """Out-of-fold P(y = 1) from nested CV of an L2 logistic regression.

    Each outer training fold is standardised (its own means and SDs), optionally reduced,
    and its penalty chosen among :data:`rnce_bag.logistic.CS` by an inner stratified CV
    on the validation AUC (:func:`rnce_bag.logistic.cv_l2_logistic`, the same fit as
    scikit-learn's ``LogisticRegressionCV`` with balanced class weights).

    Parameters
    ----------
    x : ndarray, shape (n, p)
    y : ndarray, shape (n,), in {0, 1}
    pca_dims
        Reduce the standardised features to their first ``pca_dims`` principal components,
        fitted on each outer training fold only (never on the subjects it predicts).
    """
    from scipy.special import expit
    from sklearn.decomposition import PCA
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    from rnce_bag.logistic import cv_l2_logistic

    x = np.asarray(x, dtype=float)
    y = np.asarray(y).astype(int)
    minority = int(min(y.sum(), (1 - y).sum()))
    n_outer = min(n_outer, minority)
    n_inner = max(2, min(n_inner, minority - minority // n_outer))
    prob = np.empty(y.size)
    outer = StratifiedKFold(n_outer, shuffle=True, random_state=seed)
    inner = StratifiedKFold(n_inner, shuffle=True, random_state=seed + 1)
    for train, test in outer.split(x, y):
        scale = StandardScaler().fit(x[train])
        xtr, xte = scale.transform(x[train]), scale.transform(x[test])
        if pca_dims:
            pca = PCA(min(pca_dims, train.size - 1, x.shape[1]), svd_solver="full")
            pca.fit(xtr)
            xtr, xte = pca.transform(xtr), pca.transform(xte)
        folds = list(inner.split(xtr, y[train]))
        _, coef = cv_l2_logistic(xtr, y[train], folds)
        prob[test] = expit(xte @ coef[:-1] + coef[-1])
    return prob


#: the representations that also get a row at :data:`PCA_DIMS` (FreeSurfer, the reference)
PCA_OF = ("FS",)


def probe_representations(manifest: pd.DataFrame, reps: dict[str, np.ndarray],
                          pca_dims: int | None = PCA_DIMS, baseline: bool = True,
                          pca_of: tuple[str, ...] = PCA_OF
                          ) -> dict[str, tuple[np.ndarray, int | None]]:
    """The rows of a probe table: name -> (features, PCA dimension or None).

    The given representations, then each of ``pca_of`` wider than ``pca_dims`` at
    ``pca_dims`` (named ``<name>-<pca_dims>``), then :data:`BASELINE` (age + sex).
    """
    rows: dict[str, tuple[np.ndarray, int | None]] = {k: (v, None) for k, v in reps.items()}
    if pca_dims:
        for name, x in reps.items():
            if name in pca_of and x.shape[1] > pca_dims:
                rows[f"{name}-{pca_dims}"] = (x, pca_dims)
    if baseline:
        if BASELINE in rows:
            raise InputError(f"representation name {BASELINE} is reserved for the age + sex "
                             "row every probe table holds", hint="rename that representation")
        rows[BASELINE] = (age_sex_features(manifest), None)
    return rows


def probe(manifest: pd.DataFrame, reps: dict[str, np.ndarray], tasks: tuple[str, ...] = TASKS,
          min_per_class: int = 5, seed: int = 0, pca_dims: int | None = PCA_DIMS,
          baseline: bool = True, pca_of: tuple[str, ...] = PCA_OF
          ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Score every representation on every task.

    Parameters
    ----------
    manifest
        Subjects with ``age``, ``sex``, ``diagnosis``, ``conversion_years``, ``amyloid``
        and optionally ``clinical`` and ``followup_years``.
    reps
        Name -> features aligned with ``manifest`` rows, shape (n, p).
    tasks
        Tasks to run.
    min_per_class
        Fewer subjects in a class than this is an error.
    pca_dims, baseline, pca_of
        See :func:`probe_representations`.

    Returns
    -------
    scores : DataFrame
        ``task representation n n_pos auc auc_se ci_low ci_high balanced_accuracy
        age_pos age_neg``.
    pairs : DataFrame
        ``task rep_a rep_b auc_a auc_b auc_diff diff_se p_delong p_holm``; ``p_holm``
        adjusts for every test of the table (all tasks).
    predictions : DataFrame
        ``IID task label prob_<rep> ...`` (the data behind the figures).
    """
    from itertools import combinations

    from sklearn.metrics import balanced_accuracy_score

    rows_in = probe_representations(manifest, reps, pca_dims, baseline, pca_of)
    age = pd.to_numeric(manifest["age"], errors="coerce").to_numpy(dtype=float) \
        if "age" in manifest.columns else np.full(len(manifest), np.nan)
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
        a = age[use]
        probs = {}
        for name, (x, dims) in rows_in.items():
            p = nested_cv_probabilities(x[use], y, seed=seed, pca_dims=dims)
            probs[name] = p
            auc, se, lo, hi = auc_ci(y, p)
            rows.append({"task": task, "representation": name, "n": int(y.size), "n_pos": n_pos,
                         "auc": auc, "auc_se": se, "ci_low": lo, "ci_high": hi,
                         "balanced_accuracy": float(balanced_accuracy_score(y, p >= 0.5)),
                         "age_pos": float(np.nanmean(a[y == 1])),
                         "age_neg": float(np.nanmean(a[y == 0]))})
        for ra, rb in combinations(rows_in, 2):
            diff, se, pval = delong_paired_test(y, probs[ra], probs[rb])
            pair_rows.append({"task": task, "rep_a": ra, "rep_b": rb, "auc_diff": diff,
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
    pairs["p_holm"] = holm(pairs["p_delong"].to_numpy(dtype=float))
    return scores, pairs, pd.concat(pred_frames, ignore_index=True)
