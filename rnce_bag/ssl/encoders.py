"""Per-patch 3D CNN encoders.

:class:`PatchEncoder` maps one patch (N, 1, D, H, W) to (N, out_dim): ``n_layers``
3x3x3 convolutions (the first ``n_stages`` after the stem with stride 2), each followed
by normalisation and ELU, global average pooling and a linear layer.
:class:`PatchEncoderBank` holds one encoder per patch (their own weights) and runs them
on (B, P, 1, D, H, W) -> (B, P, out_dim) either as a Python loop (fastest on CPU:
PyTorch's grouped 3D convolution is ~25% slower there) or as one grouped convolution
per layer built from the same weights (one kernel launch per layer on a GPU). Both
paths compute the same function (tested).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnce_bag.ssl.config import EncoderConfig


def _n_groups(channels: int, kind: str) -> int:
    if kind == "instance":
        return channels
    return 4 if channels % 4 == 0 else 1


def stride_layers(n_layers: int, n_stages: int) -> list[int]:
    """Indices of the stride-2 convolutions: evenly spaced after the stem."""
    step = max(1, (n_layers - 1) // n_stages)
    return [1 + k * step for k in range(n_stages)]


class PatchEncoder(nn.Module):
    """3D CNN for one patch: (N, 1, D, H, W) -> (N, out_dim)."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.norm_kind = cfg.norm
        down = set(stride_layers(cfg.n_layers, cfg.n_stages))
        self.strides: list[int] = []
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        c_in, stage = 1, 0
        for k in range(cfg.n_layers):
            if k in down:
                stage += 1
            c_out = min(cfg.width * 2 ** stage, cfg.max_width)
            self.strides.append(2 if k in down else 1)
            self.convs.append(nn.Conv3d(c_in, c_out, 3, stride=self.strides[-1], padding=1))
            self.norms.append(nn.Identity() if cfg.norm == "none" else
                              nn.GroupNorm(_n_groups(c_out, cfg.norm), c_out))
            c_in = c_out
        self.head = nn.Linear(c_in, cfg.out_dim)

    def forward(self, x: Tensor) -> Tensor:
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = F.elu(norm(conv(x)))
        return self.head(x.mean(dim=(2, 3, 4)))


class PatchEncoderBank(nn.Module):
    """One :class:`PatchEncoder` per patch: (B, P, 1, D, H, W) -> (B, P, out_dim).

    Parameters
    ----------
    n_patches : int
    cfg : EncoderConfig
    """

    def __init__(self, n_patches: int, cfg: EncoderConfig) -> None:
        super().__init__()
        self.encoders = nn.ModuleList([PatchEncoder(cfg) for _ in range(n_patches)])
        self.stack = cfg.stack

    @property
    def n_patches(self) -> int:
        return len(self.encoders)

    def mode(self, device: torch.device) -> str:
        if self.stack != "auto":
            return self.stack
        return "grouped" if device.type == "cuda" else "loop"

    def forward(self, x: Tensor, patches: list[int] | None = None) -> Tensor:
        if x.dim() != 6 or x.shape[2] != 1:
            raise ValueError(f"'PatchEncoderBank': expected (B, P, 1, D, H, W), found "
                             f"{tuple(x.shape)}")
        if x.shape[1] != self.n_patches:
            raise ValueError(f"'PatchEncoderBank': expected {self.n_patches} patches, found "
                             f"{x.shape[1]}")
        if self.mode(x.device) == "grouped":
            return self._grouped(x)
        return torch.stack([enc(x[:, k]) for k, enc in enumerate(self.encoders)], dim=1)

    def _grouped(self, x: Tensor) -> Tensor:
        b, p = x.shape[:2]
        h = x.reshape(b, p, *x.shape[3:])  # channels = patches (1 input channel each)
        first = self.encoders[0]
        for k, stride in enumerate(first.strides):
            convs = [e.convs[k] for e in self.encoders]
            w = torch.cat([c.weight for c in convs])
            bias = torch.cat([c.bias for c in convs])
            h = F.conv3d(h, w, bias, stride=stride, padding=1, groups=p)
            if not isinstance(first.norms[k], nn.Identity):
                norms = [e.norms[k] for e in self.encoders]
                h = F.group_norm(h, p * norms[0].num_groups, torch.cat([n.weight for n in norms]),
                                 torch.cat([n.bias for n in norms]), norms[0].eps)
            h = F.elu(h)
        pooled = h.mean(dim=(2, 3, 4)).reshape(b, p, -1)
        w = torch.stack([e.head.weight for e in self.encoders])  # (P, out, c)
        bias = torch.stack([e.head.bias for e in self.encoders])  # (P, out)
        return torch.einsum("bpc,poc->bpo", pooled, w) + bias
