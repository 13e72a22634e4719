"""R-NCE, NT-Xent and Barlow Twins against hand-computed and reference values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnce_bag.ssl.losses import (
    SSLLoss,
    barlow_twins,
    centre,
    nt_xent,
    reconstruction_loss,
    residual,
    ridge_project,
    rnce_loss,
)


def _randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_residual_is_orthogonal_to_aux():
    a, h = _randn(32, 5, seed=1), _randn(32, 64, seed=2)
    r = residual(h, a, ridge=1e-9)
    ac = centre(a)
    rel = torch.linalg.norm(ac.T @ r) / (torch.linalg.norm(ac) * torch.linalg.norm(r))
    assert rel < 1e-5


def test_reconstruction_is_zero_when_h_spans_a():
    a = _randn(64, 4, seed=3)
    h = torch.cat([a @ _randn(4, 4, seed=4), _randn(64, 12, seed=5)], dim=1)
    assert reconstruction_loss(h, a, ridge=1e-10) < 1e-6
    # and clearly positive when H is unrelated to A
    assert reconstruction_loss(_randn(64, 3, seed=6), a, ridge=1e-10) > 0.5


def test_ridge_projection_paths_agree():
    x, y = _randn(10, 4, seed=7), _randn(10, 3, seed=8)
    lam = 0.1 * x.pow(2).sum() / 4
    explicit = x @ torch.linalg.solve(x.T @ x + lam * torch.eye(4), x.T @ y)
    assert torch.allclose(ridge_project(x, y, 0.1), explicit, atol=1e-10)
    wide = _randn(10, 30, seed=9)  # more columns than rows: kernel path
    lam = 0.1 * wide.pow(2).sum() / 30
    explicit = wide @ torch.linalg.solve(wide.T @ wide + lam * torch.eye(30), wide.T @ y)
    assert torch.allclose(ridge_project(wide, y, 0.1), explicit, atol=1e-8)


def test_rnce_without_aux_equals_nt_xent():
    h1, h2 = _randn(16, 8, seed=10).float(), _randn(16, 8, seed=11).float()
    ref = nt_xent(h1, h2, 0.2)
    for a in (None, torch.zeros(16, 0)):
        out = rnce_loss(h1, h2, a, tau=0.2, alpha=1.0, ridge=1e-3)
        assert abs(float(out["loss"]) - float(ref)) < 1e-6


def test_finite_gradients_when_batch_smaller_than_features():
    h1 = _randn(8, 64, seed=12).float().requires_grad_()
    h2 = _randn(8, 64, seed=13).float().requires_grad_()
    a = _randn(8, 20, seed=14).float()
    out = rnce_loss(h1, h2, a, tau=0.1, alpha=1.0, ridge=1e-3)
    out["loss"].backward()
    assert torch.isfinite(out["loss"]) and torch.isfinite(h1.grad).all()
    assert torch.isfinite(h2.grad).all() and h1.grad.abs().sum() > 0


def _nt_xent_reference(z1: np.ndarray, z2: np.ndarray, tau: float) -> float:
    z = np.concatenate([z1, z2])
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    n, b = len(z), len(z1)
    total = 0.0
    for i in range(n):
        pos = (i + b) % n
        denom = sum(math.exp(z[i] @ z[k] / tau) for k in range(n) if k != i)
        total += -math.log(math.exp(z[i] @ z[pos] / tau) / denom)
    return total / n


def test_nt_xent_matches_hand_computation():
    z1, z2 = _randn(6, 5, seed=15), _randn(6, 5, seed=16)
    got = float(nt_xent(z1, z2, 0.5))
    assert got == pytest.approx(_nt_xent_reference(z1.numpy(), z2.numpy(), 0.5), rel=1e-5)


def test_barlow_twins_matches_reference_implementation():
    """The reference (facebookresearch/barlowtwins): BatchNorm1d(affine=False) on each view."""
    z1, z2 = _randn(32, 6, seed=17).float(), _randn(32, 6, seed=18).float()
    bn = torch.nn.BatchNorm1d(6, affine=False, eps=1e-5)
    c = bn(z1).T @ bn(z2) / 32
    on = (torch.diagonal(c) - 1).pow(2).sum()
    off = (c - torch.diag(torch.diagonal(c))).pow(2).sum()
    assert float(barlow_twins(z1, z2, 5e-3)) == pytest.approx(float(on + 5e-3 * off), rel=1e-5)
    # perfectly correlated, decorrelated views give ~0
    x = torch.linalg.qr(_randn(32, 6, seed=19))[0].float() * math.sqrt(32)
    assert float(barlow_twins(x - x.mean(0), x - x.mean(0), 5e-3)) < 1e-3


@pytest.mark.parametrize("method", ["rnce", "simclr", "barlow"])
def test_twenty_steps_lower_each_loss(method):
    torch.manual_seed(0)
    x = torch.randn(64, 20)
    a = x[:, :4] + 0.1 * torch.randn(64, 4)
    net = torch.nn.Sequential(torch.nn.Linear(20, 32), torch.nn.ELU(), torch.nn.Linear(32, 16))
    loss_fn = SSLLoss(method, tau=0.2, alpha=1.0, ridge=1e-2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(1)
    v1, v2 = (x + 0.3 * torch.randn(x.shape, generator=gen) for _ in range(2))
    losses = []
    for _ in range(21):
        out = loss_fn(net(v1), net(v2), a)
        losses.append(float(out["loss"].detach()))
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
    assert losses[-1] < losses[0] * 0.95
    if method == "rnce":
        assert float(out["rec"].detach()) < 0.5  # the representation learnt to span A
