"""Self-supervised losses as pure functions (plus thin modules).

Shapes: representations ``h1``, ``h2`` are (B, d), the two augmented views of the same
B subjects in the same order; auxiliary features ``a`` are (B, p).

R-NCE (docs/method.md, "R-NCE"):

- reconstruction ``L_rec(H) = ||A - P_H[A]||_F^2 / ||A||_F^2`` with the ridge projection
  ``P_X[Y] = X (X'X + lambda I)^-1 X'Y`` and ``H``, ``A`` centred over the batch, so the
  representation spans the auxiliary (FreeSurfer) space;
- residual ``R = H - P_A[H]`` (``H`` and ``A`` centred, ``A``'s columns scaled to unit
  variance over the batch: the same span, so only the ridge sees the scaling, and it
  then shrinks no FreeSurfer direction more than another), orthogonal to ``A`` up to
  the ridge;
- ``L = NT-Xent(R_1, R_2; tau) + alpha (L_rec(H_1) + L_rec(H_2))``.

Projections are computed in float64 whatever the input precision, through the
smaller of the two Gram matrices (``X'X`` when ``X`` has fewer columns than rows,
``XX'`` otherwise: the same matrix by the push-through identity), so they stay finite
and differentiable when the batch is smaller than the number of features. The ridge
``lambda`` is ``ridge * ||X||_F^2 / q`` (``ridge`` times the mean eigenvalue of ``X'X``
for ``X`` with q columns), which makes it scale-free. Without auxiliary features the
residual is ``H`` itself and R-NCE is exactly NT-Xent (SimCLR).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def centre(x: Tensor) -> Tensor:
    """Subtract the batch mean: (B, q) -> (B, q)."""
    return x - x.mean(dim=0, keepdim=True)


def ridge_project(x: Tensor, y: Tensor, ridge: float) -> Tensor:
    """``P_X[Y] = X (X'X + lambda I)^-1 X'Y`` in float64.

    Parameters
    ----------
    x : Tensor, shape (B, q)
    y : Tensor, shape (B, r)
    ridge : float
        Relative ridge (``lambda = ridge * ||X||_F^2 / q``), > 0.

    Returns
    -------
    Tensor, shape (B, r), float64
    """
    x64, y64 = x.double(), y.double()
    b, q = x64.shape
    lam = ridge * (x64.pow(2).sum() / q).clamp_min(1e-12)
    if q <= b:
        gram = x64.T @ x64 + lam * torch.eye(q, dtype=x64.dtype, device=x64.device)
        return x64 @ torch.linalg.solve(gram, x64.T @ y64)
    kernel = x64 @ x64.T
    gram = kernel + lam * torch.eye(b, dtype=x64.dtype, device=x64.device)
    return kernel @ torch.linalg.solve(gram, y64)


def reconstruction_loss(h: Tensor, a: Tensor, ridge: float) -> Tensor:
    """``||A - P_H[A]||_F^2 / ||A||_F^2`` with ``H`` (B, d) and ``A`` (B, p) centred."""
    hc, ac = centre(h.double()), centre(a.double())
    resid = ac - ridge_project(hc, ac, ridge)
    return resid.pow(2).sum() / ac.pow(2).sum().clamp_min(1e-12)


def residual(h: Tensor, a: Tensor | None, ridge: float) -> Tensor:
    """``R = H - P_A[H]`` with ``H`` and ``A`` centred: (B, d); ``H`` when there is no ``A``.

    ``H`` is centred first, as the method specifies: a common offset of the batch would
    otherwise survive the projection and inflate every cosine similarity of the NT-Xent.
    """
    if a is None or a.shape[1] == 0:
        return h
    hc, ac = centre(h.double()), centre(a.double())
    ac = ac / ac.pow(2).mean(dim=0, keepdim=True).sqrt().clamp_min(1e-12)
    r = hc - ridge_project(ac, hc, ridge)
    return r.to(h.dtype)


def nt_xent(z1: Tensor, z2: Tensor, tau: float) -> Tensor:
    """NT-Xent (SimCLR) over 2B views: each view's positive is the other view.

    Rows are L2-normalised; similarities divided by ``tau``; the mean over the 2B
    anchors of the cross-entropy against the 2B - 1 other views.
    """
    b = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]).float(), dim=1)
    sim = z @ z.T / tau
    sim = sim.masked_fill(torch.eye(2 * b, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(b, 2 * b), torch.arange(0, b)]).to(z.device)
    return F.cross_entropy(sim, target)


def barlow_twins(z1: Tensor, z2: Tensor, lambd: float, eps: float = 1e-5) -> Tensor:
    """Barlow Twins: ``sum_i (1 - C_ii)^2 + lambd sum_{i != j} C_ij^2``.

    ``C`` (d, d) is the cross-correlation of the batch-standardised views (biased
    variance, as BatchNorm1d without affine in the reference implementation).
    """
    b = z1.shape[0]
    n1 = (z1.float() - z1.float().mean(0)) / (z1.float().var(0, unbiased=False) + eps).sqrt()
    n2 = (z2.float() - z2.float().mean(0)) / (z2.float().var(0, unbiased=False) + eps).sqrt()
    c = n1.T @ n2 / b
    on = (torch.diagonal(c) - 1).pow(2).sum()
    off = c.pow(2).sum() - torch.diagonal(c).pow(2).sum()
    return on + lambd * off


def rnce_loss(h1: Tensor, h2: Tensor, a: Tensor | None, tau: float, alpha: float,
              ridge: float) -> dict[str, Tensor]:
    """R-NCE of two views with auxiliary features.

    Parameters
    ----------
    h1, h2 : Tensor, shape (B, d)
    a : Tensor, shape (B, p), or None
        Auxiliary features of the B subjects (standardised).
    tau, alpha, ridge : float

    Returns
    -------
    dict
        ``loss`` (scalar), ``nce``, ``rec`` (mean of the two views' reconstruction terms).
    """
    if a is None or a.shape[1] == 0:
        nce = nt_xent(h1, h2, tau)
        zero = torch.zeros((), dtype=nce.dtype, device=nce.device)
        return {"loss": nce, "nce": nce, "rec": zero}
    nce = nt_xent(residual(h1, a, ridge), residual(h2, a, ridge), tau)
    rec = (reconstruction_loss(h1, a, ridge) + reconstruction_loss(h2, a, ridge)).float()
    return {"loss": nce + alpha * rec, "nce": nce, "rec": rec / 2}


class SSLLoss(nn.Module):
    """The configured method's loss: ``forward(z1, z2, a) -> {"loss", terms...}``.

    The loss itself is the method's declaration (:mod:`rnce_bag.ssl.methods`); this
    module only binds it to the run's loss settings.
    """

    def __init__(self, method: str, tau: float = 0.1, alpha: float = 1.0, ridge: float = 1e-3,
                 barlow_lambda: float = 5e-3) -> None:
        from rnce_bag.ssl.config import LossConfig
        from rnce_bag.ssl.methods import get

        super().__init__()
        self.method = get(method)
        self.settings = LossConfig(tau=tau, alpha=alpha, ridge=ridge,
                                   barlow_lambda=barlow_lambda)

    def forward(self, z1: Tensor, z2: Tensor, a: Tensor | None = None) -> dict[str, Tensor]:
        return self.method.loss(z1, z2, a, self.settings)
