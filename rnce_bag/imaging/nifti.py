"""T1 NIfTI -> a validated, normalised volume on the MNI grid, cached on disk.

Steps: load (nibabel) and validate (readable, 3D, finite, sane affine, MNI field of
view), reorient to canonical RAS, resample to the target :class:`Grid` (trilinear;
skipped when the image is already on it), normalise intensities robustly inside the
MNI152 brain mask (1st-99th percentile -> 0-1, clipped to [0, 1.5], zero outside the
mask). Results are cached as ``.npy`` files read back memory-mapped, keyed by the
file's SHA-256 and the preprocessing parameters; a stat key (path, size, mtime) avoids
re-hashing, so a second epoch opens no NIfTI at all.

Shape convention: volumes are float32 (X, Y, Z) on the grid, RAS.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rnce_bag.core.errors import InputError
from rnce_bag.core.io import atomic_path, sha256_file, write_text
from rnce_bag.imaging.grid import MNI_BRAIN_MAX, MNI_BRAIN_MIN, Grid, mni_grid

PREPROCESS_VERSION = 1


@dataclass(frozen=True)
class PreprocessParams:
    """What determines a preprocessed volume (part of the cache key)."""

    spacing: float = 2.0
    low_percentile: float = 1.0
    high_percentile: float = 99.0
    clip: float = 1.5
    mask_background: bool = True
    version: int = PREPROCESS_VERSION

    @property
    def grid(self) -> Grid:
        return mni_grid(self.spacing)

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


def load_nifti(path: str | os.PathLike[str]):
    """Load and validate a T1 image; return it reoriented to canonical RAS.

    Raises
    ------
    InputError
        Not a (readable) NIfTI, not 3D, non-finite voxels, singular affine, or a field
        of view that does not cover the MNI152 brain (image not registered to MNI).
    """
    import nibabel as nib

    img = read_volume(path)
    p = Path(path)
    corners = np.array([[i, j, k] for i in (0, img.shape[0] - 1) for j in (0, img.shape[1] - 1)
                        for k in (0, img.shape[2] - 1)])
    world = nib.affines.apply_affine(img.affine, corners)
    lo, hi = world.min(axis=0), world.max(axis=0)
    if np.any(lo > MNI_BRAIN_MIN + 8) or np.any(hi < MNI_BRAIN_MAX - 8):
        raise InputError(
            f"T1 image '{p}': field of view {np.round(lo).tolist()} to {np.round(hi).tolist()} "
            f"mm does not cover the MNI152 brain ({MNI_BRAIN_MIN.tolist()} to "
            f"{MNI_BRAIN_MAX.tolist()} mm)",
            hint="register the image to MNI152 first: 'rnce-bag register' (ANTs)")
    return img


def read_volume(path: str | os.PathLike[str]):
    """Load a 3D image nibabel reads (NIfTI, FreeSurfer ``.mgz``) and validate it:
    readable, 3D (or 4D with one volume), finite voxels, invertible affine. Returned
    reoriented to canonical RAS; no check of where it lies (native space is fine).

    Raises
    ------
    InputError
        Naming the file and what is wrong with it.
    """
    import nibabel as nib

    p = Path(path)
    if not p.is_file():
        raise InputError(f"T1 image '{p}' not found", hint="check t1_path in the manifest")
    try:
        img = nib.load(p)
        data = np.asanyarray(img.dataobj)
    except Exception as exc:  # nibabel raises many types for damaged files
        raise InputError(f"T1 image '{p}' cannot be read as NIfTI: "
                         f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                         hint="the file is truncated or not a NIfTI (.nii/.nii.gz) or "
                              "FreeSurfer .mgz") from None
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
        img = nib.Nifti1Image(data, img.affine, img.header)
    if data.ndim != 3:
        raise InputError(f"T1 image '{p}': expected a 3D volume, found shape {data.shape}",
                         hint="extract one volume (e.g. fslroi) before use")
    bad = ~np.isfinite(data)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputError(f"T1 image '{p}': {int(bad.sum())} non-finite voxel(s) (NaN/inf), "
                         f"first at voxel {first}", hint="fix or re-export the image")
    aff = img.affine
    if not np.all(np.isfinite(aff)) or abs(np.linalg.det(aff[:3, :3])) < 1e-6:
        raise InputError(f"T1 image '{p}': invalid affine (singular or non-finite)")
    if isinstance(img, nib.MGHImage):  # .mgz: the same voxels and affine as NIfTI
        img = nib.Nifti1Image(np.asanyarray(img.dataobj), img.affine)
    return nib.as_closest_canonical(img)


@lru_cache(maxsize=4)
def brain_mask(spacing: float) -> np.ndarray:
    """nilearn's MNI152 brain mask on :func:`mni_grid` (bool, X, Y, Z)."""
    from nilearn.datasets import load_mni152_brain_mask

    grid = mni_grid(spacing)
    if float(spacing).is_integer() and int(spacing) in (1, 2, 3, 4):
        m = load_mni152_brain_mask(resolution=int(spacing))
        arr = np.asarray(m.dataobj) > 0.5
        if arr.shape == grid.shape:
            return arr
    m = load_mni152_brain_mask(resolution=1)
    return resample_to_grid(np.asarray(m.dataobj, dtype=np.float32), m.affine, grid) > 0.5


def resample_to_grid(data: np.ndarray, affine: np.ndarray, grid: Grid, order: int = 1
                     ) -> np.ndarray:
    """Resample ``data`` (with ``affine``) onto ``grid`` (trilinear by default)."""
    return resample(data, affine, grid.shape, grid.affine, order)


def resample(data: np.ndarray, affine: np.ndarray, shape: tuple[int, int, int],
             target_affine: np.ndarray, order: int = 1) -> np.ndarray:
    """Resample ``data`` (voxel -> mm ``affine``) into a volume of ``shape`` whose voxels
    sit at ``target_affine`` (any orientation), float32; 0 outside the data."""
    from scipy.ndimage import map_coordinates

    if data.shape == tuple(shape) and np.allclose(affine, target_affine, atol=1e-4):
        return np.asarray(data, dtype=np.float32)
    vox2vox = np.linalg.inv(affine) @ target_affine
    ijk = np.indices(shape, dtype=np.float32).reshape(3, -1)
    src = vox2vox[:3, :3].astype(np.float32) @ ijk + vox2vox[:3, 3:4].astype(np.float32)
    out = map_coordinates(np.asarray(data, dtype=np.float32), src, order=order,
                          mode="constant", cval=0.0, prefilter=order > 1)
    return out.reshape(shape)


def normalise(volume: np.ndarray, mask: np.ndarray, params: PreprocessParams) -> np.ndarray:
    """Robust intensity scaling inside ``mask``: percentiles -> [0, 1], clipped."""
    inside = volume[mask]
    lo, hi = np.percentile(inside, [params.low_percentile, params.high_percentile])
    if hi - lo <= 0:
        raise InputError("image is constant inside the brain mask",
                         hint="check that the image is a T1 registered to MNI152")
    out = np.clip((volume - lo) / (hi - lo), 0, params.clip).astype(np.float32)
    if params.mask_background:
        out[~mask] = 0
    return out


def preprocess(path: str | os.PathLike[str], params: PreprocessParams) -> np.ndarray:
    """Load, validate, resample and normalise one T1 image (no caching)."""
    img = load_nifti(path)
    grid = params.grid
    vol = resample_to_grid(np.asarray(img.dataobj, dtype=np.float32), img.affine, grid)
    return normalise(vol, brain_mask(params.spacing), params)


class PreprocessCache:
    """Disk cache of preprocessed volumes (``.npy``, memory-mapped on read).

    Layout: ``<root>/<params key>/<sha256 of the NIfTI>.npy`` plus ``stat/`` files that
    map (path, size, mtime) to the SHA-256, so cached lookups never read the NIfTI.
    Safe with several DataLoader workers: every write is atomic.
    """

    def __init__(self, root: str | os.PathLike[str], params: PreprocessParams) -> None:
        self.params = params
        self.dir = Path(root) / params.key()
        (self.dir / "stat").mkdir(parents=True, exist_ok=True)
        write_text(self.dir / "params.json", json.dumps(asdict(params), indent=2) + "\n")
        self.hits = 0
        self.misses = 0

    def _stat_key(self, path: Path) -> Path:
        st = path.stat()
        ident = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
        return self.dir / "stat" / (hashlib.sha1(ident.encode()).hexdigest() + ".txt")

    def get(self, path: str | os.PathLike[str]) -> np.ndarray:
        """The preprocessed volume of ``path`` (memory-mapped, read-only)."""
        p = Path(path)
        if not p.is_file():
            raise InputError(f"T1 image '{p}' not found", hint="check t1_path in the manifest")
        stat_file = self._stat_key(p)
        if stat_file.exists():
            arr_file = self.dir / (stat_file.read_text().strip() + ".npy")
            if arr_file.exists():
                self.hits += 1
                return np.load(arr_file, mmap_mode="r")
        digest = sha256_file(p)
        arr_file = self.dir / f"{digest}.npy"
        if not arr_file.exists():
            vol = preprocess(p, self.params)
            with atomic_path(arr_file) as tmp:
                with open(tmp, "wb") as fh:
                    np.save(fh, vol)
        write_text(stat_file, digest + "\n")
        self.misses += 1
        return np.load(arr_file, mmap_mode="r")
