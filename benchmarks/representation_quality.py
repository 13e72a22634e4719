"""What each representation captures, against the simulator's planted truth.

Usage: python benchmarks/representation_quality.py COHORT_DIR FEATURES.parquet
       NAME=embeddings.parquet [NAME=embeddings.parquet ...]

For FreeSurfer features and every embedding table: 5-fold cross-validated R2 of a
ridge map (alpha by inner CV) to (a) the FreeSurfer features themselves (mean R2 over
the standardised columns: does the representation span what FreeSurfer measures?),
(b) the planted non-FreeSurfer image signal ``hidden_signal`` (white-matter texture,
absent from the stats), (c) the true brain age and (d) age. ``FS+NAME`` rows
concatenate FreeSurfer features with the embedding.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def cv_r2(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cross-validated R2 per column of ``y`` (n, k) from ``x`` (n, p)."""
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 4, 13)))
    pred = cross_val_predict(model, x, y, cv=KFold(5, shuffle=True, random_state=0))
    ss_res = ((y - pred) ** 2).sum(axis=0)
    ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    return 1 - ss_res / ss_tot


def varying_columns(table: pd.DataFrame) -> list[str]:
    """Columns of a FreeSurfer feature table (IID left out) that are not constant up to
    rounding (a ratio FreeSurfer writes as 1.000 for everyone has an SD of 2e-16)."""
    return [c for c in table.columns
            if c != "IID" and table[c].std() > 1e-8 * (abs(table[c].mean()) + 1)]


def main() -> None:
    cohort, fs_path, *embs = sys.argv[1:]
    truth = pd.read_csv(Path(cohort) / "truth" / "latent.tsv", sep="\t")
    fs = pd.read_parquet(fs_path)
    keep = varying_columns(fs)
    reps = {"FS": fs[["IID", *keep]]}
    for item in embs:
        name, _, path = item.partition("=")
        reps[name] = pd.read_parquet(path)
    ids = truth["IID"]
    fs_x = reps["FS"].set_index("IID").loc[ids].to_numpy()
    fs_y = (fs_x - fs_x.mean(0)) / fs_x.std(0)
    fs_y = fs_y[:, np.isfinite(fs_y).all(axis=0)]
    targets = truth.set_index("IID").loc[ids, ["hidden_signal", "true_brain_age", "age"]]
    rows = []
    for name, table in reps.items():
        x = table.set_index("IID").loc[ids].to_numpy()
        variants = [(name, x)] if name == "FS" else [(name, x), (f"FS+{name}",
                                                                np.hstack([fs_x, x]))]
        for label, xx in variants:
            r = cv_r2(xx, targets.to_numpy())
            rec = float(np.nanmean(cv_r2(xx, fs_y))) if label != "FS" else 1.0
            rows.append({"representation": label, "dim": xx.shape[1],
                         "R2_freesurfer_features": rec, "R2_hidden_signal": r[0],
                         "R2_true_brain_age": r[1], "R2_age": r[2]})
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
