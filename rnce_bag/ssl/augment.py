"""MRI-realistic 3D augmentations as batched tensor ops (seeded).

One call augments a whole batch (B, P, 1, D, H, W) on its own device: every subject
draws its own parameters (shared by its P patches, as one acquisition would be):

- small affine: rotation up to ``rotate_deg`` about each axis, isotropic scale
  ``1 +/- scale``, translation up to ``translate_vox`` voxels (trilinear resampling);
- multiplicative bias field ``exp(sum_k c_k b_k(x))`` over the nine non-constant
  polynomials of degree <= 2, ``c_k ~ N(0, bias_field / 3)``: with ``bias_basis``
  (:func:`patch_bias_basis`) one field over the brain's box, each patch getting the
  part over its own region, as one acquisition's field would be; without it the
  polynomials in each patch's own coordinates;
- gamma: ``x ** exp(g)``, ``g ~ N(0, gamma)`` (intensities are >= 0 after
  preprocessing);
- blur: a mix ``x + w (G_sigma * x - x)`` with ``w ~ U(0, 1)`` and a Gaussian of
  ``blur_sigma`` voxels (separable);
- Gaussian noise with SD ``~ U(0, noise)``.

The same generator state gives the same views (tested); the trainer seeds one
generator per step so that resumed runs see exactly the views of an uninterrupted
one. Written as batched ops rather than TorchIO/MONAI transforms, which apply one
subject at a time: on the same work (16 subjects x 18 patches of 20^3, the same kinds
of transform) 228 vs 51 subjects/s for TorchIO 1.2.1 on 2 CPU cores, 4.5x
(``benchmarks/augment_speed.py``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from rnce_bag.ssl.config import AugmentConfig


def _uniform(n: int, lo: float, hi: float, g: torch.Generator, device) -> Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g, device=device)


def _rotation(angles: Tensor) -> Tensor:
    """(N, 3) radians -> (N, 3, 3) rotation matrices Rz Ry Rx."""
    cx, cy, cz = angles.cos().unbind(1)
    sx, sy, sz = angles.sin().unbind(1)
    one, zero = torch.ones_like(cx), torch.zeros_like(cx)
    rx = torch.stack([one, zero, zero, zero, cx, -sx, zero, sx, cx], 1).view(-1, 3, 3)
    ry = torch.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], 1).view(-1, 3, 3)
    rz = torch.stack([cz, -sz, zero, sz, cz, zero, zero, zero, one], 1).view(-1, 3, 3)
    return rz @ ry @ rx


def poly_basis(axes: list[Tensor]) -> Tensor:
    """(9, D, H, W): x, y, z, x^2, y^2, z^2, xy, xz, yz at the coordinates ``axes``
    (three 1D tensors of lengths D, H, W)."""
    x, y, z = torch.meshgrid(*axes, indexing="ij")
    return torch.stack([x, y, z, x * x, y * y, z * z, x * y, x * z, y * z])


def _own_basis(shape: tuple[int, int, int], device) -> Tensor:
    """(9, D, H, W): the polynomials on [-1, 1]^3 over the patch itself."""
    return poly_basis([torch.linspace(-1, 1, s, device=device) for s in shape])


def patch_bias_basis(layout, grid) -> Tensor:
    """The bias-field polynomials of each patch's voxels in brain coordinates.

    The MNI152 brain box (``MNI_BRAIN_MIN`` .. ``MNI_BRAIN_MAX``) is [-1, 1]^3, so
    :mod:`rnce_bag.ssl.scanner_model`'s field spans (its ``inu_range``) refer to the
    brain; voxels of a patch outside the box get the polynomials' continuation.

    Parameters
    ----------
    layout : PatchLayout
    grid : Grid

    Returns
    -------
    Tensor, shape (P, 9, D, H, W), float32 on the CPU
    """
    from rnce_bag.imaging.grid import MNI_BRAIN_MAX, MNI_BRAIN_MIN
    from rnce_bag.imaging.patches import patch_starts, patch_voxel_size

    size = patch_voxel_size(layout, grid)
    lo, hi = MNI_BRAIN_MIN, MNI_BRAIN_MAX
    out = []
    for start in patch_starts(layout, grid):
        axes = []
        for a in range(3):
            mm = grid.origin[a] + grid.spacing * (start[a] + torch.arange(size[a]))
            axes.append((2 * (mm - lo[a]) / (hi[a] - lo[a]) - 1).float())
        out.append(poly_basis(axes))
    return torch.stack(out)


def _gaussian_blur(x: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur of (N, 1, D, H, W), zero padding.

    Each axis is a weighted sum of shifted copies (about 6x faster on the CPU than
    ``conv3d`` with a one-channel 1D kernel).
    """
    radius = max(1, int(math.ceil(2.5 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = (k / k.sum()).tolist()
    for dim in (2, 3, 4):
        n = x.shape[dim]
        pad = [0, 0, 0, 0, 0, 0]
        pad[2 * (4 - dim)] = pad[2 * (4 - dim) + 1] = radius
        xp = F.pad(x, pad)
        out = k[0] * xp.narrow(dim, 0, n)
        for i in range(1, len(k)):
            out = out + k[i] * xp.narrow(dim, i, n)
        x = out
    return x


def augment(x: Tensor, cfg: AugmentConfig, generator: torch.Generator,
            bias_basis: Tensor | None = None) -> Tensor:
    """One augmented view of a batch.

    Parameters
    ----------
    x : Tensor, shape (B, P, 1, D, H, W)
    cfg : AugmentConfig
        Ranges in training-grid units (a scanner model resolved first,
        :meth:`AugmentConfig.resolved`).
    generator : torch.Generator
        On ``x.device``.
    bias_basis : Tensor, shape (P, 9, D, H, W), optional
        :func:`patch_bias_basis` on ``x.device``: one bias field per subject over the
        brain. Without it each patch gets the field in its own coordinates.

    Returns
    -------
    Tensor, same shape and dtype as ``x``
    """
    if cfg.scanner is not None:
        raise ValueError(f"augment.scanner '{cfg.scanner}' must be resolved to the grid "
                         "first (AugmentConfig.resolved)")
    b, p = x.shape[:2]
    size = x.shape[3:]
    dev, g = x.device, generator
    v = x.reshape(b * p, 1, *size).float()

    def per_subject(t: Tensor) -> Tensor:  # (B, ...) -> (B * P, ...)
        return t.repeat_interleave(p, dim=0)

    if cfg.rotate_deg > 0 or cfg.scale > 0 or cfg.translate_vox > 0:
        angles = (torch.rand(b, 3, generator=g, device=dev) * 2 - 1) * math.radians(
            cfg.rotate_deg)
        scale = 1 + _uniform(b, -cfg.scale, cfg.scale, g, dev)
        shift = (torch.rand(b, 3, generator=g, device=dev) * 2 - 1) * cfg.translate_vox
        shift = shift * 2 / torch.tensor(size[::-1], device=dev, dtype=torch.float32)
        theta = torch.cat([_rotation(angles) / scale[:, None, None], shift[:, :, None]], dim=2)
        grid = F.affine_grid(per_subject(theta), list(v.shape), align_corners=False)
        v = F.grid_sample(v, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if cfg.bias_field > 0:
        coef = torch.randn(b, 9, generator=g, device=dev) * (cfg.bias_field / 3)
        if bias_basis is None:
            field = per_subject(torch.einsum("bk,kdhw->bdhw", coef,
                                             _own_basis(tuple(size), dev)))
        else:
            field = torch.einsum("bk,pkdhw->bpdhw", coef, bias_basis).reshape(b * p, *size)
        v = v * field.exp()[:, None]
    if cfg.gamma > 0:
        gam = (torch.randn(b, generator=g, device=dev) * cfg.gamma).exp()
        v = v.clamp_min(0).pow(per_subject(gam)[:, None, None, None, None])
    if cfg.blur_sigma > 0:
        w = per_subject(torch.rand(b, generator=g, device=dev))[:, None, None, None, None]
        v = v + w * (_gaussian_blur(v, cfg.blur_sigma) - v)
    if cfg.noise > 0:
        sd = per_subject(_uniform(b, 0, cfg.noise, g, dev))[:, None, None, None, None]
        v = v + sd * torch.randn(v.shape, generator=g, device=dev)
    return v.reshape(x.shape).to(x.dtype)
