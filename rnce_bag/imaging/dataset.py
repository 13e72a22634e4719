"""Torch dataset: per subject, 18 patches of the T1 plus FreeSurfer features.

Each item is ``{"iid": str, "patches": float32 [P, 1, D, H, W], "features": float32
[p]}``; :attr:`CohortDataset.patch_index` (long [P, K], -1 padded) says which feature
columns are each patch's regional auxiliary features, so a batch's regional features
are ``features[:, patch_index[k][patch_index[k] >= 0]]``. Features are standardised
with statistics fitted on the training subjects only (:class:`FeatureScaler`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from rnce_bag.core.errors import InputError
from rnce_bag.core.schema import read_table
from rnce_bag.imaging.manifest import load_manifest
from rnce_bag.imaging.nifti import PreprocessCache, PreprocessParams
from rnce_bag.imaging.patches import PatchLayout, extract_patches, patch_feature_columns


@dataclass
class FeatureScaler:
    """Column means and SDs (constant columns get SD 1), fitted on training rows."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> FeatureScaler:
        """Fit on ``x`` (n, p)."""
        std = x.std(axis=0)
        return cls(x.mean(axis=0), np.where(std > 0, std, 1.0))

    def transform(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.std).astype(np.float32)


def align(manifest: pd.DataFrame, features: pd.DataFrame, source: str) -> pd.DataFrame:
    """Subjects of the manifest that have features, in manifest order; error if none."""
    missing = sorted(set(manifest["IID"]) - set(features["IID"]))
    if len(missing) == len(manifest):
        raise InputError(f"{source}: no manifest subject has FreeSurfer features "
                         f"(first IIDs: {', '.join(manifest['IID'].head(3))})",
                         hint="run 'rnce-bag features' on the same manifest")
    if missing:
        raise InputError(f"{source}: {len(missing)} manifest subject(s) lack FreeSurfer "
                         f"features, e.g. {', '.join(missing[:5])}",
                         hint="rerun 'rnce-bag features' or drop them from the manifest")
    return features.set_index("IID").loc[manifest["IID"]].reset_index()


class CohortDataset(Dataset):
    """Patches and features of a cohort (see module docstring).

    Parameters
    ----------
    iids, t1_paths
        Subjects and their T1 files, shape (n,).
    features
        Standardised FreeSurfer features, shape (n, p), float32.
    feature_names
        The p column names.
    layout
        Patch layout.
    params
        Preprocessing parameters (grid spacing, normalisation).
    cache_dir
        Folder of the preprocessed-volume cache.
    """

    def __init__(self, iids: list[str], t1_paths: list[str], features: np.ndarray,
                 feature_names: list[str], layout: PatchLayout, params: PreprocessParams,
                 cache_dir: str | os.PathLike[str]) -> None:
        if len(iids) != len(t1_paths) or len(iids) != features.shape[0]:
            raise ValueError("'CohortDataset': iids, t1_paths and features must have the same "
                             f"length, found {len(iids)}, {len(t1_paths)}, {features.shape[0]}")
        self.iids = list(iids)
        self.t1_paths = [str(p) for p in t1_paths]
        self.features = np.ascontiguousarray(features, dtype=np.float32)
        self.feature_names = list(feature_names)
        self.layout = layout
        self.params = params
        self.cache_dir = Path(cache_dir)
        self._cache: PreprocessCache | None = None  # created lazily in each worker
        cols = patch_feature_columns(self.feature_names, layout)
        pos = {c: i for i, c in enumerate(self.feature_names)}
        width = max(1, max(len(c) for c in cols))
        index = torch.full((len(cols), width), -1, dtype=torch.long)
        for k, names in enumerate(cols):
            index[k, :len(names)] = torch.tensor([pos[n] for n in names], dtype=torch.long)
        self.patch_index = index

    @property
    def cache(self) -> PreprocessCache:
        if self._cache is None:
            self._cache = PreprocessCache(self.cache_dir, self.params)
        return self._cache

    def __len__(self) -> int:
        return len(self.iids)

    def __getitem__(self, i: int) -> dict:
        vol = self.cache.get(self.t1_paths[i])
        patches = extract_patches(np.asarray(vol), self.layout, self.params.grid)
        return {
            "iid": self.iids[i],
            "patches": torch.from_numpy(patches[:, None]),
            "features": torch.from_numpy(self.features[i]),
        }

    def __getstate__(self) -> dict:  # workers open their own cache
        state = self.__dict__.copy()
        state["_cache"] = None
        return state


def build_dataset(manifest: str | os.PathLike[str], features: str | os.PathLike[str],
                  layout: PatchLayout, params: PreprocessParams,
                  cache_dir: str | os.PathLike[str],
                  scaler: FeatureScaler | None = None) -> tuple[CohortDataset, FeatureScaler]:
    """Dataset of the manifest's subjects with T1 images and FreeSurfer features.

    The scaler is fitted on these subjects unless one (fitted on training subjects) is
    given.
    """
    m = load_manifest(manifest, require=("t1_path",))
    f = read_table(features, "freesurfer_features")
    f = align(m, f, str(manifest))
    names = [c for c in f.columns if c != "IID"]
    x = f[names].to_numpy(dtype=np.float64)
    scaler = scaler or FeatureScaler.fit(x)
    ds = CohortDataset(list(m["IID"]), list(m["t1_path"]), scaler.transform(x), names, layout,
                       params, cache_dir)
    return ds, scaler
