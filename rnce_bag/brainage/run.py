"""One Brain Age Gap per representation: cross-fit, bias-correct, export.

For each representation (FreeSurfer features, R-NCE / SimCLR / Barlow embeddings) the
regressor is cross-fitted on the normative training subjects (``train_filter``),
out-of-fold predictions of those subjects and fold-model means for the others are
bias-corrected with a correction fitted on the training subjects' out-of-fold
predictions only, and the gap ``bag = corrected prediction - age`` is exported.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from rnce_bag.brainage.bias import apply_bias, fit_bias
from rnce_bag.brainage.config import BrainAgeConfig
from rnce_bag.brainage.metrics import brain_age_metrics
from rnce_bag.brainage.regressor import BrainAgeModel
from rnce_bag.core.errors import InputError
from rnce_bag.core.schema import validate_frame
from rnce_bag.representations import load_representation

log = logging.getLogger(__name__)

def training_mask(manifest: pd.DataFrame, train_filter: dict[str, list[str]]) -> np.ndarray:
    """Rows whose manifest values are allowed by every filter column."""
    mask = np.ones(len(manifest), dtype=bool)
    for col, allowed in train_filter.items():
        if col not in manifest.columns:
            raise InputError(f"train_filter names column '{col}', absent from the manifest",
                             hint=f"manifest columns: {', '.join(manifest.columns)}")
        mask &= manifest[col].astype(str).isin([str(a) for a in allowed]).to_numpy()
    return mask


def fit_representation(x: np.ndarray, age: np.ndarray, train: np.ndarray,
                       cfg: BrainAgeConfig) -> dict:
    """Cross-fit, bias-correct and evaluate one representation.

    Returns a dict with ``pred_raw``, ``pred``, ``bag`` (n,), ``fold`` (n,, -1 for
    non-training subjects), ``bias`` parameters and ``metrics``.
    """
    model = BrainAgeModel(cfg.regressor, cfg.n_splits, cfg.n_repeats, cfg.seed)
    model.fit(x[train], age[train])
    pred_raw = np.empty_like(age)
    pred_raw[train] = model.oof_pred_
    if (~train).any():
        pred_raw[~train] = model.predict(x[~train])
    params = fit_bias(cfg.bias_correction, age[train], model.oof_pred_)
    pred = apply_bias(cfg.bias_correction, params, age, pred_raw)
    fold = np.full(age.size, -1)
    fold[train] = model.fold_
    metrics = {
        "train_uncorrected": brain_age_metrics(age[train], pred_raw[train]),
        "train_corrected": brain_age_metrics(age[train], pred[train]),
    }
    if (~train).any():
        metrics["other_uncorrected"] = brain_age_metrics(age[~train], pred_raw[~train])
        metrics["other_corrected"] = brain_age_metrics(age[~train], pred[~train])
    return {"pred_raw": pred_raw, "pred": pred, "bag": pred - age, "fold": fold,
            "bias": {"method": cfg.bias_correction, **params}, "metrics": metrics}


def brain_age(manifest: pd.DataFrame, reps: dict[str, Path], cfg: BrainAgeConfig
              ) -> tuple[pd.DataFrame, pd.DataFrame, dict, pd.Series | None]:
    """Brain age for every representation.

    Returns
    -------
    bag : DataFrame
        ``IID age pred_<rep> bag_<rep> ... fold`` (the ``brain_age`` schema).
    figure : DataFrame
        Data behind the figures: also ``pred_raw_<rep>``, ``diagnosis``, ``train``.
    metrics : dict
        Per representation: metrics, bias parameters, columns dropped, mean BAG by
        diagnosis; plus the training set size.
    etiv : Series or None
        eTIV by IID from the first representation that has it (for covariates).
    """
    age = manifest["age"].to_numpy(dtype=float)
    train = training_mask(manifest, cfg.train_filter)
    need = max(cfg.min_train_subjects, 2 * cfg.n_splits)
    if train.sum() < need:
        raise InputError(f"only {int(train.sum())} normative training subjects match "
                         f"train_filter {cfg.train_filter}; need at least {need} for "
                         f"{cfg.n_splits}-fold cross-fitting",
                         hint="relax train_filter, lower n_splits or min_train_subjects")
    if np.ptp(age[train]) == 0:
        raise InputError("manifest column 'age' is constant among the training subjects")
    bag = pd.DataFrame({"IID": manifest["IID"].to_numpy(), "age": age})
    figure = bag.copy()
    figure["diagnosis"] = manifest["diagnosis"].to_numpy() if "diagnosis" in manifest else "NA"
    figure["train"] = train
    metrics: dict = {"n_subjects": int(len(manifest)), "n_train": int(train.sum()),
                     "config": cfg.model_dump(mode="json"), "representations": {}}
    etiv_out = None
    fold = None
    for name, path in reps.items():
        x, cols, etiv, dropped = load_representation(name, path, manifest["IID"])
        etiv_out = etiv_out if etiv_out is not None else etiv
        res = fit_representation(x, age, train, cfg)
        key = name.lower()
        bag[f"pred_{key}"] = res["pred"]
        bag[f"bag_{key}"] = res["bag"]
        figure[f"pred_raw_{key}"] = res["pred_raw"]
        figure[f"pred_{key}"] = res["pred"]
        figure[f"bag_{key}"] = res["bag"]
        fold = res["fold"] if fold is None else fold
        by_dx = figure.groupby("diagnosis")[f"bag_{key}"].agg(["mean", "std", "count"])
        metrics["representations"][name] = {
            "path": str(path), "n_features": len(cols), "dropped_zero_columns": dropped,
            "bias": res["bias"], **res["metrics"],
            "bag_by_diagnosis": {d: {k: float(v) for k, v in row.items()}
                                 for d, row in by_dx.iterrows()},
        }
        log.info("%s: MAE %.2f (corrected %.2f), corr(BAG, age) %.3f -> %.3f", name,
                 res["metrics"]["train_uncorrected"]["mae"],
                 res["metrics"]["train_corrected"]["mae"],
                 res["metrics"]["train_uncorrected"]["corr_bag_age"],
                 res["metrics"]["train_corrected"]["corr_bag_age"])
    bag["fold"] = pd.array(np.where(fold >= 0, fold, -1), dtype="Int64")
    bag.loc[bag["fold"] < 0, "fold"] = pd.NA
    bag = validate_frame(bag, "brain_age", source="brain-age output")
    return bag, figure, metrics, etiv_out


def write_outputs(out: str | os.PathLike[str], bag: pd.DataFrame, figure: pd.DataFrame,
                  metrics: dict) -> list[Path]:
    """``bag.tsv``, ``bag.parquet``, ``figure_data.tsv``, ``metrics.json`` (atomic)."""
    import json

    from rnce_bag.core.io import atomic_path, write_text
    from rnce_bag.core.outputs import output_path, write_output
    from rnce_bag.stages import BRAIN_AGE

    out = Path(out)
    write_output(BRAIN_AGE, "bag", bag, out)
    with atomic_path(out / "bag.parquet") as tmp:
        bag.to_parquet(tmp, index=False)
    write_output(BRAIN_AGE, "figure_data", figure, out)
    write_text(output_path(BRAIN_AGE, "metrics", out), json.dumps(metrics, indent=2) + "\n")
    return [output_path(BRAIN_AGE, "bag", out), out / "bag.parquet",
            output_path(BRAIN_AGE, "figure_data", out), output_path(BRAIN_AGE, "metrics", out)]
