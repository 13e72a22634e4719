"""Auxiliary (FreeSurfer) features of the R-NCE loss, reduced by PCA on training subjects.

Patch ``k`` uses the standardised features of the regions it holds, the image level
uses all features. A set with more than ``max_aux_dim`` columns is replaced by its
first ``max_aux_dim`` principal component scores, fitted on the training subjects
only; smaller sets are used as they are. ``max_aux_dim`` stays below the batch size
and the representation size, so the residual space is never empty.

The scores are *not* whitened: each keeps its variance, so ``||A - P_H[A]||_F^2`` over
the scores equals the method's reconstruction error over the standardised features up
to the discarded components (the Frobenius norm is rotation-invariant). Whitening
would give the low-variance components, mostly FreeSurfer's measurement noise that no
image predicts, the weight of the first: on the demo cohort the whitened term stayed
at 0.8-0.9 whatever the encoder learned (even a supervised encoder could not predict
the later components), while the unwhitened one falls from 0.56 to 0.28 and the
encoder's cross-validated R2 of its patch's features rises from 0.14 to 0.55.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


@dataclass
class AuxSet:
    """One auxiliary set: ``a = (f[:, columns] - mean) @ weight``, (B, p) -> (B, k)."""

    columns: Tensor  # (c,) long
    mean: Tensor  # (c,)
    weight: Tensor  # (c, k)

    def apply(self, features: Tensor) -> Tensor:
        if self.columns.numel() == 0:
            return features.new_zeros(features.shape[0], 0)
        f = features[:, self.columns.to(features.device)]
        return (f - self.mean.to(f)) @ self.weight.to(f)


def fit_aux_set(train: np.ndarray, columns: list[int], max_dim: int) -> AuxSet:
    """Fit one set on the training feature matrix ``train`` (n, p) (standardised)."""
    cols = torch.tensor(columns, dtype=torch.long)
    if not columns:
        return AuxSet(cols, torch.zeros(0), torch.zeros(0, 0))
    x = train[:, columns].astype(np.float64)
    mean = x.mean(axis=0)
    if len(columns) <= max_dim:
        weight = np.eye(len(columns))
    else:
        _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
        weight = vt[:max_dim].T
    return AuxSet(cols, torch.tensor(mean, dtype=torch.float32),
                  torch.tensor(weight, dtype=torch.float32))


@dataclass
class AuxFeatures:
    """Auxiliary sets of every patch and of the whole image."""

    patches: list[AuxSet]
    image: AuxSet

    @classmethod
    def fit(cls, train: np.ndarray, patch_columns: list[list[int]], max_dim: int
            ) -> AuxFeatures:
        """Fit on training features (n, p); ``patch_columns[k]`` are patch k's columns."""
        return cls([fit_aux_set(train, c, max_dim) for c in patch_columns],
                   fit_aux_set(train, list(range(train.shape[1])), max_dim))

    def state(self) -> dict:
        """Tensors only (checkpoints load with ``weights_only=True``)."""
        return {"patches": [vars(s) for s in self.patches], "image": vars(self.image)}

    @classmethod
    def from_state(cls, state: dict) -> AuxFeatures:
        return cls([AuxSet(**s) for s in state["patches"]], AuxSet(**state["image"]))

    def dims(self) -> list[int]:
        return [int(s.weight.shape[1]) if s.columns.numel() else 0 for s in self.patches]
