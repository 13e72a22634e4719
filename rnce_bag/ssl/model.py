"""The full model: patch encoders -> aggregator, with optional projection heads.

The same architecture serves every method (:mod:`rnce_bag.ssl.methods`); only the loss
differs. A method declared without a projection head (R-NCE: its reconstruction term
needs the representations themselves to span the FreeSurfer space) applies its loss to
the representations; the others go through the configured projection heads (one per
patch at stage 1, one for the image).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnce_bag.ssl.aggregator import Aggregator, ProjectionHead
from rnce_bag.ssl.config import SSLConfig
from rnce_bag.ssl.encoders import PatchEncoderBank
from rnce_bag.ssl.methods import get


class SSLModel(nn.Module):
    """(B, P, 1, D, H, W) -> patch vectors (B, P, d) -> image representation (B, d)."""

    def __init__(self, n_patches: int, cfg: SSLConfig) -> None:
        super().__init__()
        d = cfg.encoder.out_dim
        dims = list(cfg.loss.head_dims) if get(cfg.method).projection_head else []
        self.encoders = PatchEncoderBank(n_patches, cfg.encoder)
        self.aggregator = Aggregator(n_patches, d, cfg.aggregator)
        self.patch_heads = nn.ModuleList([ProjectionHead(d, dims) for _ in range(n_patches)])
        self.image_head = ProjectionHead(d, dims)

    def patch_vectors(self, x: Tensor) -> Tensor:
        return self.encoders(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.aggregator(self.encoders(x))


class PatchStage(nn.Module):
    """Stage 1 trainable part: views (2B, P, 1, D, H, W) -> projected (2B, P, e)."""

    def __init__(self, model: SSLModel) -> None:
        super().__init__()
        self.encoders, self.heads = model.encoders, model.patch_heads

    def forward(self, x: Tensor) -> Tensor:
        h = self.encoders(x)
        return torch.stack([head(h[:, k]) for k, head in enumerate(self.heads)], dim=1)


class ImageStage(nn.Module):
    """Stage 2 trainable part: patch vectors (2B, P, d) -> projected (2B, e)."""

    def __init__(self, model: SSLModel) -> None:
        super().__init__()
        self.aggregator, self.head = model.aggregator, model.image_head

    def forward(self, tokens: Tensor) -> Tensor:
        return self.head(self.aggregator(tokens))
