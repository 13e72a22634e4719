"""Encoders, aggregator and augmentations."""

from __future__ import annotations

import pytest
import torch

from rnce_bag.ssl.aggregator import Aggregator
from rnce_bag.ssl.augment import augment
from rnce_bag.ssl.config import AggregatorConfig, AugmentConfig, EncoderConfig, SSLConfig
from rnce_bag.ssl.encoders import PatchEncoder, PatchEncoderBank
from rnce_bag.ssl.model import SSLModel


def test_patch_encoder_has_thirteen_convolutions_and_64d_output():
    enc = PatchEncoder(EncoderConfig(width=2, max_width=8))
    assert sum(isinstance(m, torch.nn.Conv3d) for m in enc.modules()) == 13
    assert enc(torch.randn(3, 1, 16, 16, 16)).shape == (3, 64)


@pytest.mark.parametrize("norm", ["group", "instance", "none"])
def test_grouped_and_loop_paths_compute_the_same_function(norm):
    torch.manual_seed(0)
    cfg = EncoderConfig(width=4, max_width=8, norm=norm, stack="loop")
    bank = PatchEncoderBank(5, cfg)
    x = torch.randn(2, 5, 1, 12, 12, 12)
    loop = bank(x)
    bank.stack = "grouped"
    grouped = bank(x)
    assert loop.shape == (2, 5, 64)
    assert torch.allclose(loop, grouped, atol=1e-5)


def test_bank_rejects_wrong_shapes():
    bank = PatchEncoderBank(3, EncoderConfig(width=2, max_width=4))
    with pytest.raises(ValueError, match="expected 3 patches"):
        bank(torch.randn(2, 4, 1, 8, 8, 8))
    with pytest.raises(ValueError, match=r"\(B, P, 1, D, H, W\)"):
        bank(torch.randn(2, 3, 8, 8, 8))


def test_aggregator_pools_to_one_vector_and_uses_positions():
    torch.manual_seed(0)
    agg = Aggregator(18, 64, AggregatorConfig())
    tokens = torch.randn(4, 18, 64)
    out = agg(tokens)
    assert out.shape == (4, 64)
    assert len(agg.transformer.layers) == 3
    assert agg.transformer.layers[0].self_attn.num_heads == 2
    # learned positions make the representation depend on which patch says what
    assert not torch.allclose(out, agg(tokens[:, torch.randperm(18)]), atol=1e-4)


def test_full_model_shapes():
    cfg = SSLConfig.model_validate({"encoder": {"width": 2, "max_width": 4}})
    model = SSLModel(18, cfg)
    x = torch.randn(2, 18, 1, 10, 10, 10)
    assert model.patch_vectors(x).shape == (2, 18, 64)
    assert model(x).shape == (2, 64)


def _volume_batch():
    g = torch.Generator().manual_seed(0)
    return torch.rand(3, 2, 1, 12, 12, 12, generator=g)


def test_augment_is_seeded_and_changes_the_image():
    x = _volume_batch()
    cfg = AugmentConfig()
    a = augment(x, cfg, torch.Generator().manual_seed(5))
    b = augment(x, cfg, torch.Generator().manual_seed(5))
    c = augment(x, cfg, torch.Generator().manual_seed(6))
    assert a.shape == x.shape and a.dtype == x.dtype
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)
    assert (a - x).abs().mean() > 0.01


def test_augment_with_zero_magnitudes_is_identity():
    x = _volume_batch()
    cfg = AugmentConfig(rotate_deg=0, scale=0, translate_vox=0, bias_field=0, gamma=0, noise=0,
                        blur_sigma=0)
    assert torch.allclose(augment(x, cfg, torch.Generator().manual_seed(0)), x)


def test_augment_shares_parameters_across_a_subjects_patches():
    x = _volume_batch()
    x[:, 1] = x[:, 0]  # two identical patches per subject
    cfg = AugmentConfig(noise=0)  # noise is drawn per voxel
    out = augment(x, cfg, torch.Generator().manual_seed(1))
    assert torch.allclose(out[:, 0], out[:, 1], atol=1e-6)
    assert not torch.allclose(out[0, 0], out[1, 0])


def test_blur_matches_scipy_gaussian_filter():
    import numpy as np
    from scipy.ndimage import gaussian_filter

    from rnce_bag.ssl.augment import _gaussian_blur

    x = _volume_batch()[:1, :1].reshape(1, 1, 12, 12, 12)
    ours = _gaussian_blur(x, 1.0)[0, 0].numpy()
    ref = gaussian_filter(x[0, 0].numpy().astype(np.float64), 1.0, mode="constant",
                          truncate=3.0)
    assert np.abs(ours - ref).max() < 1e-6
