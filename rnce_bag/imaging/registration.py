"""One T1 image to the MNI152 template with ANTs (ANTsPy), and the QC of the result.

The method's preprocessing registers each T1 to MNI152 with ANTs before the patches are
cut; this module is that step for one subject:

1. read the T1 (NIfTI or FreeSurfer ``.mgz``, any orientation: :func:`read_volume`);
2. skull-strip it with the subject's FreeSurfer ``brainmask.mgz`` when there is one
   (its voxels > 0, resampled into the T1's grid through both images' affines);
3. optionally correct the bias field (N4, ``ants.n4_bias_field_correction``);
4. register it to nilearn's MNI152 2009a template (skull-stripped, the template the
   simulator and the imaging stages use) on :func:`~rnce_bag.imaging.grid.mni_grid` at
   the chosen spacing: ``antsRegistrationSyNRepro[s]`` (rigid + affine + SyN, the
   ``antsRegistrationSyN.sh`` recipe with a fixed seed) or ``[a]`` (rigid + affine);
5. without a FreeSurfer mask, zero the registered image outside the template's brain
   mask;
6. QC: the Pearson correlation with the template inside its brain mask, and the Dice
   overlap of the subject's brain mask (FreeSurfer's, else ANTs' foreground mask of the
   input) carried through the transforms with the template's brain mask.

ANTs works in LPS world coordinates, nibabel in RAS: :func:`to_ants` converts an array
and its RAS affine into an ANTs image with the same world positions (no temporary file).
Shape convention: volumes are float32 (X, Y, Z) arrays in the image's own voxel order.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

from rnce_bag.imaging.grid import Grid, mni_grid

REGISTER_VERSION = 1
#: ANTsPy's transform recipe for each ``--transform``: the antsRegistrationSyN.sh recipe
#: (rigid, affine, SyN: the method's ANTs step) or its first two stages, and ANTs' quick
#: variants of both (antsRegistrationSyNQuick.sh: fewer iterations, about 8x and 4x
#: faster at 2 mm); all in ANTsPy's reproducible mode
RECIPES = {"syn": "antsRegistrationSyNRepro[s]", "syn-quick": "antsRegistrationSyNQuickRepro[s]",
           "affine": "antsRegistrationSyNRepro[a]",
           "affine-quick": "antsRegistrationSyNQuickRepro[a]"}
Transform = Literal["syn", "syn-quick", "affine", "affine-quick"]
#: the transform files of a registration, by the name they are kept under
TRANSFORM_FILES = ("affine.mat", "warp.nii.gz", "inverse_warp.nii.gz")
#: LPS <-> RAS: ANTs' world axes x and y point the other way
LPS = np.diag([-1.0, -1.0, 1.0])


@dataclass(frozen=True)
class RegisterSettings:
    """What a registered image depends on besides its inputs (the cache key).

    Attributes
    ----------
    transform : {"syn", "syn-quick", "affine", "affine-quick"}
        Rigid + affine + SyN, or rigid + affine only (:data:`RECIPES`).
    spacing : float
        Voxel size (mm) of the MNI grid the image is registered to and written on.
    n4 : bool
        N4 bias-field correction before registration.
    seed : int
        ANTs' random seed (with one thread per registration, results repeat exactly).
    """

    transform: Transform = "syn"
    spacing: float = 2.0
    n4: bool = False
    seed: int = 1
    version: int = REGISTER_VERSION

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


def to_ants(data: np.ndarray, affine: np.ndarray):
    """An ANTs image of ``data`` (X, Y, Z) whose voxels sit where ``affine`` (4 x 4, voxel
    -> RAS mm) puts them: ITK's ``origin + direction @ diag(spacing) @ ijk`` in LPS."""
    import ants

    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    direction = LPS @ affine[:3, :3] @ np.diag(1 / spacing)
    origin = LPS @ affine[:3, 3]
    return ants.from_numpy(np.ascontiguousarray(data, dtype=np.float32),
                           origin=tuple(float(v) for v in origin),
                           spacing=tuple(float(v) for v in spacing),
                           direction=direction)


@lru_cache(maxsize=4)
def template(spacing: float) -> tuple[np.ndarray, np.ndarray, Grid]:
    """nilearn's MNI152 template and its brain mask on :func:`mni_grid` at ``spacing`` mm:
    ``(t1 float32 (X, Y, Z), mask bool (X, Y, Z), grid)``."""
    from nilearn.datasets import load_mni152_template

    from rnce_bag.imaging.nifti import brain_mask, resample_to_grid

    grid = mni_grid(spacing)
    img = load_mni152_template(resolution=1)
    t1 = resample_to_grid(np.asarray(img.get_fdata(), np.float32), img.affine, grid)
    return t1, brain_mask(spacing), grid


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice overlap 2|A and B| / (|A| + |B|) of two boolean masks of one shape."""
    total = int(a.sum()) + int(b.sum())
    return 2.0 * int(np.logical_and(a, b).sum()) / total if total else float("nan")


def masked_correlation(x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> float:
    """Pearson correlation of ``x`` and ``y`` (same shape) over the voxels of ``mask``."""
    a, b = x[mask].astype(np.float64), y[mask].astype(np.float64)
    a -= a.mean()
    b -= b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


def freesurfer_mask(brainmask: str | os.PathLike[str], affine: np.ndarray,
                    shape: tuple[int, int, int]) -> np.ndarray:
    """FreeSurfer's ``brainmask.mgz`` (voxels > 0) in the grid of an image with ``affine``
    and ``shape`` (bool (X, Y, Z)): both live in the scanner's world coordinates."""
    from rnce_bag.imaging.nifti import read_volume, resample

    mask_img = read_volume(brainmask)
    inside = (np.asarray(mask_img.dataobj) > 0).astype(np.float32)
    return resample(inside, mask_img.affine, shape, affine, order=0) > 0.5


@dataclass
class Registered:
    """One subject's registration.

    Attributes
    ----------
    image : ndarray, shape (X, Y, Z)
        The T1 on the template grid (float32).
    qc : dict
        ``similarity`` (correlation with the template in its brain mask), ``mask_dice``,
        ``skull_strip`` (``freesurfer`` or ``template``), ``seconds``.
    transforms : dict of str to str
        ANTs' transform files (``affine.mat``, ``warp.nii.gz``, ``inverse_warp.nii.gz``;
        no warps for the affine recipe), in ANTs' temporary folder.
    """

    image: np.ndarray
    qc: dict
    transforms: dict[str, str]


def register_t1(t1_path: str | os.PathLike[str], settings: RegisterSettings,
                brainmask: str | os.PathLike[str] | None = None,
                workdir: str | os.PathLike[str] | None = None) -> Registered:
    """Register one T1 to the MNI152 template (see the module's steps).

    Parameters
    ----------
    t1_path
        The subject's T1 (NIfTI or ``.mgz``), any space.
    settings
        The recipe, spacing, N4 and seed.
    brainmask
        The subject's FreeSurfer ``mri/brainmask.mgz``, or None (template mask after).
    workdir
        Where ANTs writes its transform files (a temporary folder when None).

    Raises
    ------
    InputError
        For an unreadable image (:func:`~rnce_bag.imaging.nifti.read_volume`).
    """
    import ants

    from rnce_bag.imaging.nifti import read_volume

    start = time.perf_counter()
    ants.config.set_ants_deterministic(True, settings.seed)  # one thread, fixed seed
    img = read_volume(t1_path)
    data = np.asarray(img.dataobj, dtype=np.float32)
    if brainmask is not None:
        subject_mask = freesurfer_mask(brainmask, img.affine, data.shape)
        data = data * subject_mask
    moving = to_ants(data, img.affine)
    if brainmask is None:
        subject_mask = ants.get_mask(moving).numpy() > 0
    if settings.n4:
        moving = ants.n4_bias_field_correction(moving, mask=to_ants(
            subject_mask.astype(np.float32), img.affine))
    t1, mask, grid = template(settings.spacing)
    fixed = to_ants(t1, grid.affine)
    prefix = str(Path(workdir) / "reg_") if workdir is not None else ""
    reg = ants.registration(fixed, moving, type_of_transform=RECIPES[settings.transform],
                            outprefix=prefix)
    warped = reg["warpedmovout"].numpy().astype(np.float32)
    moved_mask = ants.apply_transforms(fixed, to_ants(subject_mask.astype(np.float32),
                                                      img.affine),
                                       reg["fwdtransforms"], interpolator="nearestNeighbor")
    moved_mask = moved_mask.numpy() > 0.5
    if brainmask is None:
        warped *= mask
    files = {"affine.mat": next(f for f in reg["fwdtransforms"] if f.endswith(".mat"))}
    warps = [f for f in reg["fwdtransforms"] if f.endswith("Warp.nii.gz")]
    inverse = [f for f in reg["invtransforms"] if f.endswith("InverseWarp.nii.gz")]
    if warps:
        files["warp.nii.gz"], files["inverse_warp.nii.gz"] = warps[0], inverse[0]
    qc = {"similarity": masked_correlation(warped, t1, mask),
          "mask_dice": dice(moved_mask, mask),
          "skull_strip": "freesurfer" if brainmask is not None else "template",
          "seconds": time.perf_counter() - start}
    return Registered(warped, qc, files)


def write_registered(result: Registered, settings: RegisterSettings,
                     folder: str | os.PathLike[str]) -> None:
    """Write ``t1_mni.nii.gz`` (on the template grid, MNI152 qform/sform), the transform
    files and ``qc.json`` into ``folder``."""
    import nibabel as nib

    folder = Path(folder)
    grid = mni_grid(settings.spacing)
    out = nib.Nifti1Image(result.image, grid.affine)
    out.set_qform(grid.affine, code=4)
    out.set_sform(grid.affine, code=4)
    out.header.set_xyzt_units("mm", "sec")
    out.header["descrip"] = b"rnce-bag register: T1 in MNI152 (ANTs)"
    nib.save(out, folder / "t1_mni.nii.gz")
    for name, src in result.transforms.items():
        shutil.copyfile(src, folder / name)
    (folder / "qc.json").write_text(json.dumps(result.qc, indent=2) + "\n")
