"""Synthetic T1 volumes in MNI152 space built from nilearn's bundled MNI152 template.

Each subject's image is the template (2009a symmetric, skull-stripped, resampled to the
preset's resolution) with, in order:

1. in template space: cortical thinning (grey matter partially replaced by CSF
   signal, more in the temporal lobes with disease) and the *hidden* signal that
   FreeSurfer's stats do not capture: lower white-matter T1 signal and a fine white-
   matter texture whose amplitude follows the subject's hidden factor;
2. a warp: head size (eTIV^(1/3)), ventricular enlargement and hippocampal shrinkage
   matching the subject's true volumes, and a smooth random deformation;
3. scanner effects of the subject's site: gain, contrast (gamma), a smooth
   multiplicative bias field, and Rician noise.

Shape convention: volumes are (X, Y, Z) arrays in RAS voxel order with the
template's affine; coordinates are in mm unless named ``*_vox``.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass

import numpy as np

from rnce_bag.core.workers import worker_signals

#: MNI coordinates (mm) of the structures the warp acts on.
VENTRICLE_CENTRE = np.array([0.0, -8.0, 14.0])
VENTRICLE_SIGMA = np.array([12.0, 22.0, 10.0])
HIPPOCAMPUS_CENTRES = (np.array([-26.0, -22.0, -14.0]), np.array([27.0, -21.0, -14.0]))
HIPPOCAMPUS_SIGMA = np.array([6.0, 12.0, 6.0])
BRAIN_CENTRE = np.array([0.0, -18.0, 18.0])
INTENSITY_SCALE = 1000.0
N_TEXTURES = 8


@dataclass
class TemplateSpace:
    """The MNI152 template and maps derived from it at one resolution."""

    t1: np.ndarray
    gm: np.ndarray
    wm: np.ndarray
    mask: np.ndarray
    affine: np.ndarray
    mm: np.ndarray  # (3, X, Y, Z) world coordinates
    temporal: np.ndarray  # weight of the temporal lobes, (X, Y, Z)
    textures: np.ndarray  # (N_TEXTURES, X, Y, Z), unit-SD smooth noise
    w_ventricles: np.ndarray  # warp weight around the ventricles, (X, Y, Z)
    w_hippocampi: tuple[np.ndarray, np.ndarray]  # left, right warp weights

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.t1.shape  # type: ignore[return-value]

    @property
    def resolution(self) -> float:
        return float(self.affine[0, 0])


def _gauss(mm: np.ndarray, centre: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    d = (mm - centre[:, None, None, None]) / sigma[:, None, None, None]
    return np.exp(-0.5 * (d**2).sum(axis=0))


def load_template(resolution_mm: int, seed: int = 0) -> TemplateSpace:
    """nilearn's MNI152 template, tissue maps and brain mask at ``resolution_mm``."""
    from nilearn.datasets import (
        load_mni152_brain_mask,
        load_mni152_gm_template,
        load_mni152_template,
        load_mni152_wm_template,
    )
    from scipy.ndimage import gaussian_filter

    img = load_mni152_template(resolution=resolution_mm)
    t1 = np.asarray(img.get_fdata(), dtype=np.float32)
    gm = np.asarray(load_mni152_gm_template(resolution=resolution_mm).get_fdata(), np.float32)
    wm = np.asarray(load_mni152_wm_template(resolution=resolution_mm).get_fdata(), np.float32)
    mask = np.asarray(load_mni152_brain_mask(resolution=resolution_mm).get_fdata()) > 0.5
    affine = np.asarray(img.affine, dtype=np.float64)
    ijk = np.indices(t1.shape, dtype=np.float64).reshape(3, -1)
    mm = (affine[:3, :3] @ ijk + affine[:3, 3:4]).reshape((3, *t1.shape)).astype(np.float32)
    temporal = np.clip(_gauss(mm, np.array([-45.0, -20.0, -15.0]), np.array([15.0, 30.0, 15.0]))
                       + _gauss(mm, np.array([45.0, -20.0, -15.0]),
                                np.array([15.0, 30.0, 15.0])), 0, 1).astype(np.float32)
    rng = np.random.default_rng(seed + 7919)
    sigma = 2.0 / resolution_mm
    tex = np.stack([gaussian_filter(rng.standard_normal(t1.shape), sigma) for _ in
                    range(N_TEXTURES)]).astype(np.float32)
    tex /= tex.reshape(N_TEXTURES, -1).std(axis=1)[:, None, None, None]
    w_v = _gauss(mm, VENTRICLE_CENTRE, VENTRICLE_SIGMA).astype(np.float32)
    w_h = tuple(_gauss(mm, c, HIPPOCAMPUS_SIGMA).astype(np.float32)
                for c in HIPPOCAMPUS_CENTRES)
    return TemplateSpace(t1, gm, wm, mask, affine, mm, temporal, tex, w_v, w_h)


@dataclass(frozen=True)
class SubjectImage:
    """What one subject's image is built from (all dimensionless unless stated)."""

    seed: int
    head_scale: float  # (eTIV / reference)^(1/3)
    ventricle_scale: float  # (ventricle volume / reference)^(1/3)
    hippocampus_scale: tuple[float, float]  # left, right: (volume / reference)^(1/3)
    thinning: float  # relative cortical thickness loss vs the reference
    temporal_thinning: float  # extra loss in the temporal lobes (disease)
    hidden: float  # the hidden factor, SD units
    site_gain: float
    site_gamma: float
    site_bias: tuple[float, ...]  # 9 coefficients of the bias-field polynomial
    noise: float  # noise SD relative to white matter
    deformation_mm: float
    native: NativeSpace | None = None  # also write the image in a native scanner space


@dataclass(frozen=True)
class NativeSpace:
    """Where a subject's head sits in a native (scanner) image.

    ``matrix`` (4 x 4) maps native world mm to MNI mm; ``warp_mm`` is the SD of a smooth
    displacement (mm, cosine basis, from ``seed``) added on the MNI side; the native grid
    is axis-aligned, ``pad_mm`` wider than the template's on every side, centred on the
    scanner's isocentre (0, 0, 0).
    """

    matrix: tuple[tuple[float, ...], ...]
    warp_mm: float
    seed: int
    pad_mm: float = 16.0


def native_space(seed: int, rotation_deg: float, translation_mm: float, scale_sd: float,
                 shear_sd: float, warp_mm: float) -> NativeSpace:
    """A random head placement: rotations (SD ``rotation_deg``, each axis, clipped at
    3 SD), translation of the brain centre from the isocentre (SD ``translation_mm``),
    per-axis scaling (SD ``scale_sd``) and shear (SD ``shear_sd``); from ``seed`` only."""
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng([seed, 1])
    angles = np.clip(rng.normal(0, rotation_deg, 3), -3 * rotation_deg, 3 * rotation_deg)
    rot = Rotation.from_euler("xyz", angles, degrees=True).as_matrix()
    scale = np.diag(1 + np.clip(rng.normal(0, scale_sd, 3), -3 * scale_sd, 3 * scale_sd))
    shear = np.eye(3)
    shear[np.triu_indices(3, 1)] = rng.normal(0, shear_sd, 3)
    a = rot @ scale @ shear  # native -> MNI, about the brain centre
    centre_native = rng.normal(0, translation_mm, 3)
    m = np.eye(4)
    m[:3, :3] = a
    m[:3, 3] = BRAIN_CENTRE - a @ centre_native
    return NativeSpace(tuple(tuple(float(v) for v in r) for r in m), float(warp_mm),
                       int(rng.integers(0, 2**31 - 1)))


def native_grid(space: TemplateSpace, native: NativeSpace) -> tuple[tuple[int, int, int],
                                                                    np.ndarray]:
    """Shape and affine (axis-aligned RAS, centred on (0, 0, 0)) of the native image."""
    res = space.resolution
    pad = int(np.ceil(native.pad_mm / res))
    shape = tuple(int(n + 2 * pad) for n in space.shape)
    affine = np.diag([res, res, res, 1.0])
    affine[:3, 3] = -(np.array(shape) - 1) / 2 * res
    return shape, affine  # type: ignore[return-value]


def to_native(space: TemplateSpace, volume: np.ndarray, native: NativeSpace) -> tuple[
        np.ndarray, np.ndarray]:
    """The MNI-space ``volume`` (X, Y, Z) seen in the native grid: each native voxel's
    world position x samples the volume at MNI ``matrix @ x + warp(x)`` (trilinear).
    Returns the native volume (same dtype) and its affine."""
    from scipy.ndimage import map_coordinates

    shape, affine = native_grid(space, native)
    ijk = np.indices(shape, dtype=np.float32).reshape(3, -1)
    world = affine[:3, :3].astype(np.float32) @ ijk + affine[:3, 3:4].astype(np.float32)
    m = np.asarray(native.matrix, dtype=np.float32)
    mni = (m[:3, :3] @ world + m[:3, 3:4]).reshape((3, *shape))
    if native.warp_mm > 0:
        rng = np.random.default_rng(native.seed)
        for axis in range(3):
            coef = rng.normal(0, native.warp_mm / 3, (3, 3, 3))
            coef[0, 0, 0] = 0
            mni[axis] += _cosine_field(shape, coef).astype(np.float32)
    vox = (mni - space.affine[:3, 3].astype(np.float32)[:, None, None, None]) \
        / np.float32(space.resolution)
    out = map_coordinates(volume.astype(np.float32), vox, order=1, mode="constant", cval=0.0,
                          prefilter=False)
    return np.round(out).astype(volume.dtype), affine


def _cosine_field(shape: tuple[int, int, int], coef: np.ndarray) -> np.ndarray:
    """Smooth field sum_ijk coef[i,j,k] cos(pi i x) cos(pi j y) cos(pi k z), x in [0, 1]."""
    k = coef.shape[0]
    basis = [np.cos(np.pi * np.arange(k)[None, :] * np.linspace(0, 1, n)[:, None])
             for n in shape]
    return np.einsum("ijk,xi,yj,zk->xyz", coef, *basis, optimize=True)


def render(space: TemplateSpace, s: SubjectImage) -> np.ndarray:
    """The subject's T1 volume (X, Y, Z), int16, ~1000 in white matter."""
    from scipy.ndimage import map_coordinates

    rng = np.random.default_rng(s.seed)
    # 1. intensity changes in template space
    img = space.t1.copy()
    csf_level = np.float32(0.15)
    cortical_loss = np.clip(np.float32(2.5 * s.thinning)
                            + np.float32(3.0 * s.temporal_thinning) * space.temporal, 0, 0.9)
    img -= space.gm * cortical_loss * np.clip(img - csf_level, 0, None)
    pick = rng.choice(N_TEXTURES, 2, replace=False)
    texture = (space.textures[pick[0]] + space.textures[pick[1]]) / np.sqrt(2)
    amp = np.float32(0.035 * np.log1p(np.exp(1.5 * s.hidden)))
    img *= 1 - space.wm * (np.float32(0.04 * s.hidden) - amp * texture)

    # 2. warp: world coordinates of the source point of each output voxel
    f32 = np.float32
    c0 = BRAIN_CENTRE.astype(f32)[:, None, None, None]
    src = c0 + (space.mm - c0) * f32(1 / s.head_scale)
    cv = VENTRICLE_CENTRE.astype(f32)[:, None, None, None]
    src -= (src - cv) * (space.w_ventricles * f32(1 - 1 / s.ventricle_scale))
    for centre, scale, w_h in zip(HIPPOCAMPUS_CENTRES, s.hippocampus_scale, space.w_hippocampi,
                                  strict=True):
        ch = centre.astype(f32)[:, None, None, None]
        src -= (src - ch) * (w_h * f32(1 - 1 / scale))
    if s.deformation_mm > 0:
        for axis in range(3):
            coef = rng.normal(0, s.deformation_mm / 3, (3, 3, 3))
            coef[0, 0, 0] = 0
            src[axis] += _cosine_field(space.shape, coef).astype(f32)
    # the template's affine is diagonal (axis-aligned MNI grid): voxel = (mm - origin) / step
    step = np.diag(space.affine)[:3].astype(f32)[:, None, None, None]
    origin = space.affine[:3, 3].astype(f32)[:, None, None, None]
    vox = (src - origin) / step
    img = map_coordinates(img, vox, order=1, mode="constant", cval=0.0, prefilter=False)

    # 3. scanner: contrast, gain, bias field, Rician noise
    img = np.power(np.clip(img, 0, None), f32(s.site_gamma))
    u = [np.linspace(-1, 1, n, dtype=f32) for n in space.shape]
    x, y, z = np.meshgrid(*u, indexing="ij", sparse=True)
    b = [f32(v) for v in s.site_bias]
    log_bias = (b[0] * x + b[1] * y + b[2] * z + b[3] * x * y + b[4] * y * z + b[5] * x * z
                + b[6] * x**2 + b[7] * y**2 + b[8] * z**2)
    img *= np.exp(log_bias) * f32(s.site_gain)
    sd = f32(s.noise * s.site_gain)
    img += rng.standard_normal(img.shape, dtype=f32) * sd
    n2 = rng.standard_normal(img.shape, dtype=f32) * sd
    img = np.sqrt(img * img + n2 * n2)
    return np.clip(np.round(img * f32(INTENSITY_SCALE)), 0, 32767).astype(np.int16)


def nifti_bytes(volume: np.ndarray, affine: np.ndarray, compresslevel: int = 1,
                code: int = 4,
                descrip: bytes = b"rnce-bag simulate: synthetic T1 in MNI152 space") -> bytes:
    """A gzipped NIfTI-1 file (qform and sform = ``affine``, mm; ``code`` 4: MNI152, 1:
    scanner) with a fixed gzip mtime, so the same volume always gives the same bytes."""
    import nibabel as nib

    img = nib.Nifti1Image(volume, affine)
    img.header.set_xyzt_units("mm", "sec")
    img.set_qform(affine, code=code)
    img.set_sform(affine, code=code)
    img.header["descrip"] = descrip
    return gzip.compress(img.to_bytes(), compresslevel=compresslevel, mtime=0)


_SPACE: TemplateSpace | None = None


def _render_one(args: tuple[SubjectImage, str, str | None]) -> str:
    """Write the subject's image to ``path``; with ``s.native``, ``path`` gets the
    native-space image and ``mni_path`` the MNI-space rendering (the truth)."""
    from rnce_bag.core.io import write_bytes

    s, path, mni_path = args
    assert _SPACE is not None
    volume = render(_SPACE, s)
    if s.native is None:
        write_bytes(path, nifti_bytes(volume, _SPACE.affine))
        return path
    assert mni_path is not None
    write_bytes(mni_path, nifti_bytes(volume, _SPACE.affine))
    native, affine = to_native(_SPACE, volume, s.native)
    write_bytes(path, nifti_bytes(native, affine, code=1,
                                  descrip=b"rnce-bag simulate: synthetic T1, native space"))
    return path


def render_all(space: TemplateSpace, subjects: list[SubjectImage], paths: list[str],
               workers: int = 1, progress=None, mni_paths: list[str] | None = None) -> None:
    """Render and write every subject's image, in ``workers`` forked processes
    (``mni_paths``: where native-space subjects' MNI renderings go)."""
    global _SPACE
    _SPACE = space
    jobs = list(zip(subjects, paths, mni_paths or [None] * len(paths), strict=True))
    try:
        if workers > 1 and len(jobs) > 1 and os.name == "posix":
            import multiprocessing as mp

            with mp.get_context("fork").Pool(workers, initializer=worker_signals) as pool:
                for _ in pool.imap_unordered(_render_one, jobs, chunksize=4):
                    if progress is not None:
                        progress()
        else:
            for job in jobs:
                _render_one(job)
                if progress is not None:
                    progress()
    finally:
        _SPACE = None
