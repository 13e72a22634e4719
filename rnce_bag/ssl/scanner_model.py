"""Augmentation ranges from a stated physical model of T1 scanners, not from the simulator.

The contrastive losses ask the encoders to ignore what differs between two scans of
the same brain. Those differences are physical: thermal noise, the receive/transmit
intensity non-uniformity (INU, the "bias field"), the T1 contrast of the vendor's
sequence, the acquisition's voxel size and the residual misregistration after affine
registration to MNI152. Each is given here in physical units with its source, then
converted to the training grid (``spacing_mm``), where the augmentations act
(:mod:`rnce_bag.ssl.augment`). Nothing here reads :mod:`rnce_bag.simulate`; the
simulator's own scanner parameters are compared with these ranges in the README as an
independent check.

Magnitudes and sources
----------------------
noise_1mm
    Largest added Gaussian noise SD, as a fraction of white matter, at 1 mm isotropic.
    BrainWeb's T1 volumes (Collins et al. 1998, IEEE TMI 17:463; Kwan et al. 1999,
    IEEE TMI 18:1085) span 0-9% of the brightest tissue, 3% being their default.
    ``typical`` adds up to 3% (two scanners of 1% and 3.2% differ by about that),
    ``wide`` up to 9%.
inu_range
    Peak-to-peak span of the multiplicative field over the brain (0.2: 0.9 to 1.1 of
    the mean). BrainWeb's INU levels are 0, 20 and 40% (same sources); ``typical`` 20%,
    ``wide`` 40%. One smooth field (a quadratic polynomial in brain coordinates) per
    subject, evaluated where each patch lies, so a patch sees the part of the field
    over its own region, as in a real scan.
voxel_mm
    Finest and coarsest acquisition voxel. ADNI's MP-RAGE protocols across GE, Philips
    and Siemens use about 1.0-1.25 mm in-plane and 1.2 mm slices (Jack et al. 2008,
    JMRI 27:685): ``typical`` (1.0, 1.25). ``wide`` (1.0, 2.0) covers older clinical
    T1s. The point-spread difference is a Gaussian of
    ``sqrt(fwhm_max^2 - fwhm_min^2) / 2.355`` mm (FWHM ~ voxel size).
gamma_sd
    SD of log gamma (contrast). **An assumption, not a cited magnitude**: no published
    cross-vendor spread of the MP-RAGE grey/white intensity ratio was found in the
    sources available here. 0.1 moves a GM/WM ratio of 0.6 by about +/-5% at one SD;
    ``wide`` 0.2.
misregistration_mm
    Residual displacement after affine registration to MNI152, at a patch's edge.
    **A judgement**: affine registration leaves anatomical landmarks a few mm apart;
    ``typical`` 2 mm, ``wide`` 4 mm. Converted to a rotation about the patch centre
    (``atan(d / half patch)``), an isotropic scale (``d / half patch``) and a
    translation (``d / spacing`` voxels).

Conversions to the training grid
--------------------------------
Images registered to MNI152 lie on the template's 1 mm grid, and the training grid
at an integer spacing shares its origin (:func:`rnce_bag.imaging.grid.mni_grid`), so
the trilinear resampling (:func:`rnce_bag.imaging.nifti.resample_to_grid`) picks
native voxels without averaging them: noise keeps its native SD on the training grid
(tested). At a non-integer spacing it is interpolated, which lowers its SD by up to
half (0.535 on average), so the range is then an upper bound. Intensities are
normalised so that the brain's 99th percentile (white matter) is about 1, so a
fraction of white matter is a fraction of the normalised scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Scanner = Literal["typical", "wide"]

#: Median peak-to-peak of sum_k c_k b_k over [-1, 1]^3 for c_k ~ N(0, 1) and the nine
#: quadratic polynomials of :func:`rnce_bag.ssl.augment.poly_basis` (tested).
FIELD_RANGE_PER_UNIT_SD = 7.80
FWHM_TO_SIGMA = 1 / (2 * math.sqrt(2 * math.log(2)))


@dataclass(frozen=True)
class ScannerModel:
    """Physical magnitudes of scan-to-scan variation (see the module docstring)."""

    noise_1mm: float
    inu_range: float
    voxel_mm: tuple[float, float]
    gamma_sd: float
    misregistration_mm: float


SCANNERS: dict[str, ScannerModel] = {
    "typical": ScannerModel(noise_1mm=0.03, inu_range=0.20, voxel_mm=(1.0, 1.25),
                            gamma_sd=0.1, misregistration_mm=2.0),
    "wide": ScannerModel(noise_1mm=0.09, inu_range=0.40, voxel_mm=(1.0, 2.0),
                         gamma_sd=0.2, misregistration_mm=4.0),
}


def augment_ranges(scanner: str, spacing_mm: float, patch_mm: float = 80.0
                   ) -> dict[str, float]:
    """The augmentation settings of :class:`~rnce_bag.ssl.config.AugmentConfig` that
    reproduce ``scanner``'s variation on a grid of ``spacing_mm``.

    Parameters
    ----------
    scanner : {'typical', 'wide'}
    spacing_mm : float
        Training-grid spacing.
    patch_mm : float
        Patch edge (mm); rotations and scales displace a patch's edge by the
        misregistration.

    Returns
    -------
    dict
        ``rotate_deg``, ``scale``, ``translate_vox``, ``bias_field``, ``gamma``,
        ``noise``, ``blur_sigma``, rounded to 4 decimals.
    """
    if scanner not in SCANNERS:
        raise ValueError(f"unknown scanner model '{scanner}', expected one of "
                         f"{sorted(SCANNERS)}")
    if spacing_mm <= 0 or patch_mm <= 0:
        raise ValueError(f"spacing_mm and patch_mm must be > 0, found {spacing_mm}, "
                         f"{patch_mm}")
    m = SCANNERS[scanner]
    half = patch_mm / 2
    log_span = math.log((1 + m.inu_range / 2) / (1 - m.inu_range / 2))
    fine, coarsest = m.voxel_mm
    blur_mm = math.sqrt(coarsest**2 - fine**2) * FWHM_TO_SIGMA
    values = {
        "rotate_deg": math.degrees(math.atan(m.misregistration_mm / half)),
        "scale": m.misregistration_mm / half,
        "translate_vox": m.misregistration_mm / spacing_mm,
        # augment.py draws c_k ~ N(0, bias_field / 3)
        "bias_field": 3 * log_span / FIELD_RANGE_PER_UNIT_SD,
        "gamma": m.gamma_sd,
        "noise": m.noise_1mm,  # point-sampled on the MNI grid: the native SD
        "blur_sigma": blur_mm / spacing_mm,
    }
    return {k: round(v, 4) for k, v in values.items()}
