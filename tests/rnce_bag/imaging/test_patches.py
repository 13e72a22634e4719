import numpy as np
import pytest

from rnce_bag.core.config import dump_config, load_config
from rnce_bag.core.errors import ConfigError
from rnce_bag.imaging.grid import mni_grid
from rnce_bag.imaging.nifti import brain_mask
from rnce_bag.imaging.patches import (
    PatchLayout,
    coverage,
    extract_patches,
    feature_region,
    load_layout,
    patch_feature_columns,
    patch_voxel_size,
    region_centroids,
    region_patches,
)


def test_default_layout_is_the_config(repo_root):
    layout = load_layout()
    assert len(layout.patches) == 18
    assert dump_config(layout) == dump_config(
        load_config(repo_root / "configs/patches/default18.yaml", PatchLayout))


@pytest.mark.parametrize("spacing", [2.0, 4.0])
def test_patches_cover_the_brain(spacing):
    counts = coverage(load_layout(), mni_grid(spacing), brain_mask(spacing))
    assert counts.min() >= 1  # every brain voxel is in at least one patch
    assert counts.mean() > 1.5  # and they overlap


@pytest.mark.parametrize(("spacing", "size"), [(1.0, 80), (2.0, 40), (4.0, 20)])
def test_patch_size(spacing, size):
    assert patch_voxel_size(load_layout(), mni_grid(spacing)) == (size, size, size)


def test_extract_patches_places_voxels():
    layout = load_layout()
    grid = mni_grid(4)
    vol = np.zeros(grid.shape, dtype=np.float32)
    centre = np.round(grid.to_voxel(np.array(layout.patches[7].centre_mm))).astype(int)
    vol[tuple(centre)] = 5.0
    patches = extract_patches(vol, layout, grid)
    assert patches.shape == (18, 20, 20, 20)
    assert patches[7, 10, 10, 10] == 5.0
    with pytest.raises(ValueError, match="expected shape"):
        extract_patches(vol[1:], layout, grid)


def test_every_region_has_a_patch_and_hippocampus_is_medial_temporal():
    layout = load_layout()
    mapping = region_patches(layout)
    c = region_centroids()
    assert len(mapping) == len(c) and all(mapping.values())
    names = layout.names
    assert "L_medial_temporal" in [names[k] for k in mapping[("Left-Hippocampus", "lh")]]
    assert "R_medial_temporal" in [names[k] for k in mapping[("Right-Hippocampus", "rh")]]
    assert "L_occipital" in [names[k] for k in mapping[("lateraloccipital", "lh")]]
    assert all(names[k].startswith("R_") or names[k].startswith("L_")
               for k in mapping[("precentral", "rh")])


def test_feature_region_names():
    assert feature_region("aseg.Left-Hippocampus.volume") == ("Left-Hippocampus", "lh")
    assert feature_region("aseg.3rd-Ventricle.volume") == ("3rd-Ventricle", "both")
    assert feature_region("aparc.rh.insula.thickness") == ("insula", "rh")
    assert feature_region("aparc.DKTatlas.lh.insula.area") == ("insula", "lh")
    assert feature_region("aparc.a2009s.lh.G_cuneus.area") is None
    assert feature_region("global.lh.MeanThickness") is None and feature_region("eTIV") is None


def test_every_simulated_regional_feature_reaches_a_patch(tiny_sim):
    import pandas as pd

    from rnce_bag.imaging.features import build_features

    f, _ = build_features(tiny_sim / "cohort.tsv")
    cols = patch_feature_columns(list(f.columns), load_layout())
    used = {c for group in cols for c in group}
    regional = [c for c in f.columns if feature_region(c) is not None]
    assert set(regional) == used and all(cols)
    assert isinstance(f, pd.DataFrame)


def test_bad_layout(tmp_path):
    p = tmp_path / "l.yaml"
    p.write_text("patches:\n  - {name: a, centre_mm: [0, 0, 0]}\n  - {name: a, centre_mm: "
                 "[1, 1, 1]}\n")
    with pytest.raises(ConfigError, match="unique"):
        load_layout(p)
