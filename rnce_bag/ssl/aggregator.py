"""Transformer aggregator: patch vectors (B, P, d) -> image representation (B, d).

A learned positional encoding per patch is added to each patch vector; a learned
[CLS] token (``pool: cls``, the default) or the mean of the patch tokens (``mean``)
after a pre-norm transformer encoder gives the pooled representation.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnce_bag.ssl.config import AggregatorConfig


class Aggregator(nn.Module):
    """(B, P, d) -> (B, d)."""

    def __init__(self, n_patches: int, dim: int, cfg: AggregatorConfig) -> None:
        super().__init__()
        self.pool = cfg.pool
        self.position = nn.Parameter(torch.randn(1, n_patches, dim) * 0.02)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        layer = nn.TransformerEncoderLayer(dim, cfg.n_heads, dim_feedforward=cfg.ff_mult * dim,
                                           dropout=cfg.dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, cfg.n_layers,
                                                 enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)

    def forward(self, tokens: Tensor) -> Tensor:
        x = tokens + self.position
        if self.pool == "cls":
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.norm(self.transformer(x))
        return x[:, 0] if self.pool == "cls" else x.mean(dim=1)


class ProjectionHead(nn.Module):
    """MLP ``dims`` after the representation (identity when ``dims`` is empty)."""

    def __init__(self, dim: int, dims: list[int]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for k, out in enumerate(dims):
            layers.append(nn.Linear(dim, out))
            if k < len(dims) - 1:
                layers += [nn.BatchNorm1d(out), nn.ReLU()]
            dim = out
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
