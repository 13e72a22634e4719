"""Auxiliary (FreeSurfer) sets of the R-NCE loss: PCA scores that keep their variance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnce_bag.ssl.auxiliary import AuxFeatures, components_for, fit_aux_set
from rnce_bag.ssl.losses import reconstruction_loss, residual


def _features(n: int = 400, p: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)) @ rng.normal(size=(3, p)) + 0.3 * rng.normal(size=(n, p))
    return (x - x.mean(0)) / x.std(0)


def test_scores_are_not_whitened_and_keep_the_leading_variance():
    x = _features()
    aux = fit_aux_set(x, list(range(12)), variance=1.0, max_dim=4)
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
    aux = fit_aux_set(x, list(range(12)), variance=1.0, max_dim=11)
    full = fit_aux_set(x, list(range(12)), variance=1.0)  # the whole span
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
    aux = AuxFeatures.fit(x, [[0, 1, 2], list(range(3, 12)), []], variance=1.0, max_dim=4)
    back = AuxFeatures.from_state(aux.state())
    xt = torch.tensor(x, dtype=torch.float32)
    for a, b in zip(aux.patches, back.patches, strict=True):
        torch.testing.assert_close(a.apply(xt), b.apply(xt))
    assert back.dims() == [3, 4, 0]


def test_the_variance_rule_keeps_the_fewest_components_that_reach_it():
    eig = np.array([5.0, 3.0, 1.0, 0.5, 0.5])  # shares 0.5, 0.8, 0.9, 0.95, 1.0
    assert [components_for(eig, f) for f in (0.5, 0.51, 0.8, 0.9, 0.95, 0.99, 1.0)] == \
        [1, 2, 2, 3, 4, 5, 5]
    x = _features()  # 3 factors + noise in 12 columns
    sv2 = np.linalg.svd(x - x.mean(0), compute_uv=False) ** 2
    share = np.cumsum(sv2) / sv2.sum()
    aux = fit_aux_set(x, list(range(12)), variance=0.95)
    k = aux.dim
    assert share[k - 1] >= 0.95 > share[k - 2]
    assert float(aux.held) == pytest.approx(share[k - 1], rel=1e-6)
    assert fit_aux_set(x, list(range(12)), variance=0.95, max_dim=2).dim == 2
    assert fit_aux_set(x, list(range(12)), variance=1.0).dim == 12


def test_more_auxiliary_dimensions_than_the_representation_ask_for_its_leading_span():
    """With p > d, the unwhitened reconstruction term is smallest when H spans A's d leading
    principal directions (the paper's Frobenius objective): a representation on the leading
    components beats one on the trailing ones by their share of the variance."""
    rng = np.random.default_rng(3)
    n, p, d = 400, 40, 8
    x = rng.normal(size=(n, p)) * np.linspace(3, 0.2, p)
    x = x - x.mean(0)
    aux = fit_aux_set(x, list(range(p)), variance=1.0)
    a = aux.apply(torch.tensor(x, dtype=torch.float32)).double()
    lead, trail = a[:, :d], a[:, -d:]
    on_lead = float(reconstruction_loss(lead, a, ridge=1e-6))
    on_trail = float(reconstruction_loss(trail, a, ridge=1e-6))
    sv2 = np.linalg.svd(x, compute_uv=False) ** 2
    assert on_lead == pytest.approx(sv2[d:].sum() / sv2.sum(), abs=1e-3)
    assert on_trail == pytest.approx(sv2[:-d].sum() / sv2.sum(), abs=1e-3)
    assert on_lead < on_trail


def test_checkpoints_without_the_variance_held_still_load():
    x = _features()
    state = AuxFeatures.fit(x, [[0, 1, 2]], variance=1.0).state()
    for s in [*state["patches"], state["image"]]:
        s.pop("held")
    back = AuxFeatures.from_state(state)
    assert back.dims() == [3] and back.summary()["image_variance_held"] is None
