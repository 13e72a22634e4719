"""Auxiliary (FreeSurfer) features of the R-NCE loss, as principal-component scores.

Patch ``k`` uses the standardised features of the regions it holds, the image level
uses all features (the method's two auxiliary matrices). Each set is replaced by its
principal-component scores, fitted on the training subjects only, keeping the fewest
components that hold ``variance`` of the set's variance (0.95 by default; 1.0 keeps
the whole span) and at most ``max_dim`` (no cap by default). On the demo cohort 95% is
16-49 components per patch (of 27-92 regional features) and 125 for the image (of 266
non-constant features; the rest is near-duplicates such as left + right sums and
FreeSurfer's measurement noise). The paper uses the features themselves; the dropped
5% is the part no encoder can be asked to span (measurement noise), and fewer
dimensions keep the in-batch residual space wide (see ``SSLConfig.rnce_warnings``).

The scores are *not* whitened: each keeps its variance, so ``||A - P_H[A]||_F^2`` over
the scores equals the method's reconstruction error over the standardised features up
to the discarded components (the Frobenius norm is rotation-invariant), and with more
auxiliary dimensions than ``H`` has, the term asks ``H`` to span ``A``'s leading
directions by variance, which is the paper's objective. Whitening would give the
low-variance components, mostly FreeSurfer's measurement noise that no image predicts,
the weight of the first: on the demo cohort the whitened term stayed at 0.8-0.9 whatever
the encoder learned, while the unwhitened one falls from 0.56 to 0.28.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


@dataclass
class AuxSet:
    """One auxiliary set: ``a = (f[:, columns] - mean) @ weight``, (B, p) -> (B, k).

    ``held`` is the fraction of the set's (training) variance the ``k`` columns keep.
    """

    columns: Tensor  # (c,) long
    mean: Tensor  # (c,)
    weight: Tensor  # (c, k)
    held: Tensor | None = None  # () float; None in checkpoints written before it existed

    def apply(self, features: Tensor) -> Tensor:
        if self.columns.numel() == 0:
            return features.new_zeros(features.shape[0], 0)
        f = features[:, self.columns.to(features.device)]
        return (f - self.mean.to(f)) @ self.weight.to(f)

    @property
    def dim(self) -> int:
        """Number of auxiliary columns ``k`` (0 for an empty set)."""
        return int(self.weight.shape[1]) if self.columns.numel() else 0


def components_for(variance: np.ndarray, fraction: float) -> int:
    """Fewest leading components whose share of ``variance`` (descending) reaches ``fraction``."""
    total = float(variance.sum())
    if total <= 0:
        return 0
    share = np.cumsum(variance) / total
    return int(min(len(variance), np.searchsorted(share, fraction - 1e-12) + 1))


def fit_aux_set(train: np.ndarray, columns: list[int], variance: float = 0.95,
                max_dim: int | None = None) -> AuxSet:
    """Fit one set on the training feature matrix ``train`` (n, p) (standardised).

    Parameters
    ----------
    train : ndarray, shape (n, p)
    columns : list of int
        The set's columns of ``train``.
    variance : float
        Keep the fewest principal components holding this fraction of the set's variance.
    max_dim : int, optional
        And at most this many.
    """
    cols = torch.tensor(columns, dtype=torch.long)
    if not columns:
        return AuxSet(cols, torch.zeros(0), torch.zeros(0, 0), torch.tensor(1.0))
    x = train[:, columns].astype(np.float64)
    mean = x.mean(axis=0)
    _, sv, vt = np.linalg.svd(x - mean, full_matrices=False)
    eig = sv ** 2
    k = max(1, components_for(eig, variance))
    if max_dim is not None:
        k = min(k, max_dim)
    held = float(eig[:k].sum() / eig.sum()) if eig.sum() > 0 else 1.0
    return AuxSet(cols, torch.tensor(mean, dtype=torch.float32),
                  torch.tensor(vt[:k].T, dtype=torch.float32),
                  torch.tensor(held, dtype=torch.float64))


@dataclass
class AuxFeatures:
    """Auxiliary sets of every patch and of the whole image."""

    patches: list[AuxSet]
    image: AuxSet

    @classmethod
    def fit(cls, train: np.ndarray, patch_columns: list[list[int]], variance: float = 0.95,
            max_dim: int | None = None) -> AuxFeatures:
        """Fit on training features (n, p); ``patch_columns[k]`` are patch k's columns."""
        return cls([fit_aux_set(train, c, variance, max_dim) for c in patch_columns],
                   fit_aux_set(train, list(range(train.shape[1])), variance, max_dim))

    def state(self) -> dict:
        """Tensors only (checkpoints load with ``weights_only=True``)."""
        return {"patches": [vars(s) for s in self.patches], "image": vars(self.image)}

    @classmethod
    def from_state(cls, state: dict) -> AuxFeatures:
        return cls([AuxSet(**s) for s in state["patches"]], AuxSet(**state["image"]))

    def dims(self) -> list[int]:
        """Auxiliary dimensions of each patch."""
        return [s.dim for s in self.patches]

    def stage_dims(self) -> dict[int, int]:
        """Widest auxiliary set of each training stage: {1: patches, 2: image}."""
        return {1: max(self.dims(), default=0), 2: self.image.dim}

    def summary(self) -> dict:
        """Dimensions and variance held, for the run record and the log."""
        def held(s: AuxSet) -> float | None:
            return None if s.held is None else round(float(s.held), 4)
        return {"patch_dims": self.dims(), "patch_variance_held": [held(s) for s in self.patches],
                "image_dim": self.image.dim, "image_variance_held": held(self.image)}
