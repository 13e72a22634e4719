"""The 18-patch anatomical layout and the map from FreeSurfer regions to patches.

A layout is a list of named boxes in MNI152 millimetres (``configs/patches/``). On a
voxel grid each patch becomes a [D, H, W] block (``patch_size_mm / spacing``); blocks
reaching outside the grid are zero-padded. Each FreeSurfer region (aseg structure or
cortical region of the Desikan-Killiany / DKT atlases) belongs to the patches whose box
holds its MNI centroid (``resources/atlas/dk_centroids_mni.tsv``); a region whose
centroid lies in no box goes to the nearest patch. That gives every patch its regional
auxiliary features for the patch-level R-NCE loss.

Shape convention: ``extract_patches`` returns (n_patches, D, H, W).
"""

from __future__ import annotations

import os
from importlib import resources

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from rnce_bag.core.config import StrictModel, load_config
from rnce_bag.imaging.grid import Grid


class PatchSpec(StrictModel):
    """One patch: a name and its centre (mm, MNI152)."""

    name: str = Field(min_length=1)
    centre_mm: tuple[float, float, float]


class PatchLayout(StrictModel):
    """Named boxes of one common size in MNI152 millimetres."""

    patch_size_mm: tuple[float, float, float] = (80.0, 80.0, 80.0)
    patches: list[PatchSpec]

    @field_validator("patches")
    @classmethod
    def _unique(cls, v: list[PatchSpec]) -> list[PatchSpec]:
        names = [p.name for p in v]
        if len(set(names)) != len(names):
            raise ValueError(f"patch names must be unique, found {names}")
        if not v:
            raise ValueError("at least one patch is needed")
        return v

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.patches]

    @property
    def centres(self) -> np.ndarray:
        """Patch centres (mm), shape (n_patches, 3)."""
        return np.array([p.centre_mm for p in self.patches], dtype=float)


def load_layout(path: str | os.PathLike[str] | None = None) -> PatchLayout:
    """A layout YAML, or the default 18-patch layout shipped with the package."""
    if path is None:
        from rnce_bag.core.presets import preset_path

        path = preset_path("patches", "default18")
    return load_config(path, PatchLayout)


def patch_voxel_size(layout: PatchLayout, grid: Grid) -> tuple[int, int, int]:
    """[D, H, W] of every patch on ``grid``."""
    return tuple(int(round(s / grid.spacing)) for s in layout.patch_size_mm)  # type: ignore


def patch_starts(layout: PatchLayout, grid: Grid) -> np.ndarray:
    """First voxel index of each patch box, shape (n_patches, 3) (may be < 0)."""
    size = np.array(patch_voxel_size(layout, grid))
    centre_vox = grid.to_voxel(layout.centres)
    return np.round(centre_vox - size / 2).astype(int)


def extract_patches(volume: np.ndarray, layout: PatchLayout, grid: Grid) -> np.ndarray:
    """Cut every patch from ``volume`` (X, Y, Z on ``grid``) into (n_patches, D, H, W).

    Parts of a box outside the volume are zero.
    """
    if volume.shape != grid.shape:
        raise ValueError(f"'extract_patches': parameter 'volume': expected shape {grid.shape},"
                         f" found {volume.shape}")
    size = np.array(patch_voxel_size(layout, grid))
    starts = patch_starts(layout, grid)
    out = np.zeros((len(starts), *size), dtype=volume.dtype)
    shape = np.array(volume.shape)
    for k, s in enumerate(starts):
        lo = np.maximum(s, 0)
        hi = np.minimum(s + size, shape)
        if np.any(hi <= lo):
            continue
        dst = tuple(slice(a - b, c - b) for a, b, c in zip(lo, s, hi, strict=True))
        src = tuple(slice(a, c) for a, c in zip(lo, hi, strict=True))
        out[(k, *dst)] = volume[src]
    return out


def coverage(layout: PatchLayout, grid: Grid, mask: np.ndarray) -> np.ndarray:
    """How many patches hold each voxel of ``mask`` (X, Y, Z) -> counts (n_mask_voxels,)."""
    size = np.array(patch_voxel_size(layout, grid))
    idx = np.argwhere(mask)
    counts = np.zeros(len(idx), dtype=int)
    for s in patch_starts(layout, grid):
        counts += np.all((idx >= s) & (idx < s + size), axis=1)
    return counts


def region_centroids() -> pd.DataFrame:
    """MNI centroids of FreeSurfer regions: ``region hemi kind x y z volume_mm3 source``."""
    with resources.files("rnce_bag.resources").joinpath("atlas", "dk_centroids_mni.tsv").open(
            "r") as fh:
        return pd.read_csv(fh, sep="\t")


def region_patches(layout: PatchLayout, centroids: pd.DataFrame | None = None
                   ) -> dict[tuple[str, str], list[int]]:
    """Patches holding each region's centroid: ``{(region, hemi): [patch indices]}``.

    ``hemi`` is ``lh``, ``rh`` or ``both`` (midline aseg structures). A region whose
    centroid lies in no box goes to the nearest patch centre.
    """
    c = region_centroids() if centroids is None else centroids
    half = np.asarray(layout.patch_size_mm) / 2
    centres = layout.centres
    out: dict[tuple[str, str], list[int]] = {}
    for region, hemi, x, y, z in zip(c["region"], c["hemi"], c["x"], c["y"], c["z"],
                                     strict=True):
        p = np.array([x, y, z])
        inside = np.flatnonzero(np.all(np.abs(centres - p) <= half, axis=1))
        if inside.size == 0:
            inside = np.array([int(np.argmin(np.linalg.norm(centres - p, axis=1)))])
        out[(region, hemi)] = inside.tolist()
    return out


def feature_region(column: str) -> tuple[str, str] | None:
    """``(region, hemi)`` of a FreeSurfer feature column, or ``None`` for global ones.

    ``aseg.Left-Hippocampus.volume`` -> (Left-Hippocampus, lh);
    ``aseg.3rd-Ventricle.volume`` -> (3rd-Ventricle, both);
    ``aparc.lh.insula.thickness`` and ``aparc.DKTatlas.lh.insula.area`` -> (insula, lh).
    ``aparc.a2009s`` regions have no DK centroid and return ``None`` (image level only).
    """
    parts = column.split(".")
    if parts[0] == "aseg" and len(parts) >= 3:
        region = ".".join(parts[1:-1])
        hemi = "lh" if region.startswith("Left-") else "rh" if region.startswith("Right-") \
            else "both"
        return region, hemi
    if parts[0] == "aparc" and len(parts) == 4 and parts[1] in ("lh", "rh"):
        return parts[2], parts[1]
    if parts[:2] == ["aparc", "DKTatlas"] and len(parts) == 5:
        return parts[3], parts[2]
    return None


def patch_feature_columns(columns: list[str], layout: PatchLayout) -> list[list[str]]:
    """For each patch, the feature columns of the regions it holds (its auxiliary A)."""
    mapping = region_patches(layout)
    out: list[list[str]] = [[] for _ in layout.patches]
    for col in columns:
        key = feature_region(col)
        if key is None or key not in mapping:
            continue
        for k in mapping[key]:
            out[k].append(col)
    return out
