"""The voxel grid images are resampled to: MNI152 space at a chosen spacing.

The default grid at spacing ``s`` mm is nilearn's MNI152 2009a template grid
(origin (-98, -134, -72) mm, RAS, axis-aligned) with shape ceil(bounds / s).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: World extent (mm) of the MNI152 template grid that nilearn ships (1 mm: 197x233x189).
MNI_ORIGIN = np.array([-98.0, -134.0, -72.0])
MNI_EXTENT = np.array([197.0, 233.0, 189.0])
#: Box (mm) the brain occupies in MNI152 space; an image must cover it.
MNI_BRAIN_MIN = np.array([-72.0, -108.0, -56.0])
MNI_BRAIN_MAX = np.array([72.0, 74.0, 84.0])


@dataclass(frozen=True)
class Grid:
    """An axis-aligned RAS voxel grid.

    Attributes
    ----------
    shape : tuple of 3 ints
    spacing : float
        Isotropic voxel size (mm).
    origin : ndarray, shape (3,)
        World coordinate (mm) of voxel (0, 0, 0).
    """

    shape: tuple[int, int, int]
    spacing: float
    origin: tuple[float, float, float]

    @property
    def affine(self) -> np.ndarray:
        a = np.eye(4)
        a[:3, :3] *= self.spacing
        a[:3, 3] = self.origin
        return a

    def to_voxel(self, mm: np.ndarray) -> np.ndarray:
        """World coordinates (..., 3) -> fractional voxel indices (..., 3)."""
        return (np.asarray(mm, dtype=float) - np.asarray(self.origin)) / self.spacing


def mni_grid(spacing: float) -> Grid:
    """The MNI152 template grid at ``spacing`` mm (nilearn's grid for 1, 2, 4 mm)."""
    if spacing <= 0:
        raise ValueError(f"'mni_grid': parameter 'spacing': expected > 0, found {spacing}")
    shape = tuple(int(np.ceil(e / spacing)) for e in MNI_EXTENT)
    return Grid(shape, float(spacing), tuple(float(o) for o in MNI_ORIGIN))  # type: ignore[arg-type]
