"""Auxiliary (FreeSurfer) sets of the R-NCE loss: PCA scores that keep their variance."""

from __future__ import annotations

import numpy as np
import torch

from rnce_bag.ssl.auxiliary import AuxFeatures, fit_aux_set
from rnce_bag.ssl.losses import reconstruction_loss, residual


def _features(n: int = 400, p: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)) @ rng.normal(size=(3, p)) + 0.3 * rng.normal(size=(n, p))
    return (x - x.mean(0)) / x.std(0)


def test_scores_are_not_whitened_and_keep_the_leading_variance():
    x = _features()
    aux = fit_aux_set(x, list(range(12)), max_dim=4)
    a = aux.apply(torch.tensor(x, dtype=torch.float32)).double().numpy()
    sv = np.linalg.svd(x - x.mean(0), compute_uv=False)
    np.testing.assert_allclose(a.var(axis=0, ddof=1), sv[:4] ** 2 / (len(x) - 1), rtol=1e-4)
    cov = np.cov(a.T)
    assert abs(cov - np.diag(np.diag(cov))).max() < 1e-3 * cov.max()  # uncorrelated


def test_reconstruction_over_scores_equals_the_method_over_features():
    """||A - P_H A||_F / ||A||_F is rotation-invariant: with every component kept, the loss on
    the PCA scores equals the loss on the standardised features themselves (up to the
    ridge, whose scale is relative to H only)."""
    x = _features(n=96)
    h = torch.randn(96, 16, dtype=torch.float64)
    aux = fit_aux_set(x, list(range(12)), max_dim=11)  # > max_dim: PCA path
    full = fit_aux_set(x, list(range(12)), max_dim=12)  # identity path
    xt = torch.tensor(x, dtype=torch.float32)
    on_features = reconstruction_loss(h, full.apply(xt), ridge=0.05)
    on_scores = reconstruction_loss(h, aux.apply(xt), ridge=0.05)
    # the 12th component is left out: the two differ by at most its share of the variance
    sv = np.linalg.svd(x - x.mean(0), compute_uv=False)
    assert abs(float(on_features - on_scores)) <= (sv[11] ** 2 / (sv ** 2).sum()) + 1e-6


def test_residual_does_not_depend_on_the_scale_of_the_auxiliary_columns():
    rng = np.random.default_rng(2)
    h = torch.tensor(rng.normal(size=(64, 8)))
    a = torch.tensor(rng.normal(size=(64, 3)))
    r1 = residual(h, a, ridge=0.05)
    r2 = residual(h, a * torch.tensor([100.0, 1.0, 0.01]), ridge=0.05)
    torch.testing.assert_close(r1, r2)
    # and it is (nearly) orthogonal to every auxiliary column, the small one included
    ac = (a - a.mean(0)).double()
    assert (ac.T @ r1.double()).abs().max() < 0.1 * (ac.norm(dim=0)[:, None]
                                                       * r1.double().norm(dim=0)).max()


def test_aux_features_round_trip_through_the_checkpoint_state():
    x = _features()
    aux = AuxFeatures.fit(x, [[0, 1, 2], list(range(3, 12)), []], max_dim=4)
    back = AuxFeatures.from_state(aux.state())
    xt = torch.tensor(x, dtype=torch.float32)
    for a, b in zip(aux.patches, back.patches, strict=True):
        torch.testing.assert_close(a.apply(xt), b.apply(xt))
    assert back.dims() == [3, 4, 0]
