"""The augmentation ranges follow from the stated scanner physics, on the project's own grid."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from rnce_bag.core.config import dump_config, load_config
from rnce_bag.core.presets import preset_path
from rnce_bag.imaging.grid import mni_grid
from rnce_bag.imaging.nifti import resample_to_grid
from rnce_bag.imaging.patches import extract_patches, load_layout
from rnce_bag.ssl import scanner_model
from rnce_bag.ssl.augment import augment, patch_bias_basis, poly_basis
from rnce_bag.ssl.config import AugmentConfig, SSLConfig
from rnce_bag.ssl.scanner_model import SCANNERS, augment_ranges

OFF = dict(rotate_deg=0, scale=0, translate_vox=0, bias_field=0, gamma=0, noise=0,
           blur_sigma=0)


def test_field_range_constant_is_the_polynomials_median_span():
    g = torch.Generator().manual_seed(0)
    axes = [torch.linspace(-1, 1, 17)] * 3
    basis = poly_basis(axes).reshape(9, -1)
    spans = []
    for _ in range(4):
        f = torch.randn(2000, 9, generator=g) @ basis
        spans.append(f.max(1).values - f.min(1).values)
    median = float(torch.cat(spans).median())
    assert median == pytest.approx(scanner_model.FIELD_RANGE_PER_UNIT_SD, rel=0.03)


@pytest.mark.parametrize("spacing", [2.0, 6.0])
def test_noise_keeps_its_native_sd_on_the_training_grid(spacing):
    """The 1 mm MNI grid and the training grid share an origin: no averaging."""
    rng = np.random.default_rng(0)
    fine = mni_grid(1.0)
    noise = rng.standard_normal(fine.shape).astype(np.float32)
    coarse = resample_to_grid(noise, fine.affine, mni_grid(spacing))
    assert coarse.std() == pytest.approx(1.0, rel=0.02)
    assert augment_ranges("typical", spacing)["noise"] == SCANNERS["typical"].noise_1mm


@pytest.mark.parametrize("scanner", sorted(SCANNERS))
def test_one_field_per_subject_spans_the_stated_share_of_the_brain(scanner):
    """The bias field of :func:`augment` at the resolved setting: its median peak-to-peak
    over the brain box is the model's ``inu_range`` (BrainWeb's 20 / 40%)."""
    layout, grid = load_layout(), mni_grid(6.0)
    cfg = AugmentConfig(**{**OFF, "bias_field": augment_ranges(scanner, 6.0)["bias_field"]})
    basis = patch_bias_basis(layout, grid)
    x = torch.ones(400, len(layout.patches), 1, *basis.shape[2:])
    field = augment(x, cfg, torch.Generator().manual_seed(3), basis)[:, :, 0]
    inside = (basis[:, :3].abs() <= 1).all(1)  # (P, D, H, W): voxels in the brain box
    flat = field[:, inside]
    span = (flat.max(1).values - flat.min(1).values) / flat.mean(1)
    assert float(span.median()) == pytest.approx(SCANNERS[scanner].inu_range, rel=0.15)


def test_the_field_is_one_field_where_patches_overlap():
    """A voxel that two patches hold gets the same field in both (one scan, one field)."""
    layout, grid = load_layout(), mni_grid(6.0)
    index = (np.arange(np.prod(grid.shape)) + 1).reshape(grid.shape).astype(np.float64)
    where = extract_patches(index, layout, grid).astype(np.int64).ravel()  # voxel id
    basis = patch_bias_basis(layout, grid)
    cfg = AugmentConfig(**{**OFF, "bias_field": 0.5})
    x = torch.ones(2, len(layout.patches), 1, *basis.shape[2:])
    field = augment(x, cfg, torch.Generator().manual_seed(0), basis).reshape(2, -1).numpy()
    held = where > 0
    ids, copies = np.unique(where[held], return_counts=True)
    assert (copies > 1).sum() > 1000  # the layout's patches overlap
    for f in field:
        hi = np.full(where.max() + 1, -np.inf)
        lo = np.full(where.max() + 1, np.inf)
        np.maximum.at(hi, where[held], f[held])
        np.minimum.at(lo, where[held], f[held])
        np.testing.assert_allclose(hi[ids], lo[ids], rtol=1e-5)
    assert not np.allclose(field[0], field[1])  # and subjects differ


def test_blur_and_geometry_follow_the_stated_physics():
    typical = augment_ranges("typical", 1.0)
    assert typical["blur_sigma"] == pytest.approx(math.sqrt(1.25**2 - 1) / 2.3548, abs=1e-3)
    assert typical["translate_vox"] == 2.0 and typical["scale"] == 0.05
    assert augment_ranges("typical", 6.0)["translate_vox"] == pytest.approx(2 / 6, abs=1e-3)
    for key, value in augment_ranges("wide", 6.0).items():
        assert value >= augment_ranges("typical", 6.0)[key]
    with pytest.raises(ValueError, match="unknown scanner"):
        augment_ranges("ge", 6.0)


@pytest.mark.parametrize("preset", ["demo", "demo-long", "paper"])
def test_presets_take_their_ranges_from_the_typical_scanner(preset):
    cfg = load_config(preset_path("ssl", preset), SSLConfig)
    assert cfg.augment.scanner == "typical"
    resolved = cfg.augment.resolved(cfg.data.spacing_mm, 80.0)
    assert dump_config(resolved) == augment_ranges("typical", cfg.data.spacing_mm)
    assert SSLConfig(**dump_config(cfg)) == cfg  # stored by name, read back the same


def test_a_scanner_model_and_explicit_ranges_do_not_mix():
    with pytest.raises(ValueError, match="remove augment.noise"):
        AugmentConfig(scanner="wide", noise=0.1)
    with pytest.raises(ValueError, match="resolved"):
        augment(torch.ones(1, 1, 1, 4, 4, 4), AugmentConfig(scanner="typical"),
                torch.Generator())
    old = dump_config(AugmentConfig())
    assert "scanner" not in old  # runs without a model dump as before (resume compares)


def test_the_scanner_model_does_not_read_the_simulator():
    tree = ast.parse(Path(scanner_model.__file__).read_text())
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m and "simulate" in m]
