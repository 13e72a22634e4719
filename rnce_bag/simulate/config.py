"""Parameters of ``rnce-bag simulate``; its presets (tiny, demo, demo-control, large) are
``configs/simulate/*.yaml``, shipped inside the package (:mod:`rnce_bag.core.presets`),
the one copy users also copy and edit.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from rnce_bag.core.config import StrictModel
from rnce_bag.core.presets import load_preset
from rnce_bag.core.presets import preset_names as preset_names_of


class GenotypeConfig(StrictModel):
    """Coalescent simulation and placement on GRCh37."""

    n_variants: int = Field(5000, ge=100, description="variants written to the .bim")
    simulated_mb: float = Field(6.0, gt=0, description="total simulated sequence (Mb) "
                                "over 22 autosomes; positions are stretched to GRCh37 lengths")
    ne: int = Field(10_000, ge=100, description="effective population size")
    recombination_rate: float = Field(1e-8, gt=0, description="per bp per generation")
    mutation_rate: float = Field(1.25e-8, gt=0, description="per bp per generation")
    split_generations: int = Field(1000, ge=1, description="split time of the two "
                                   "sub-populations")
    migration_rate: float = Field(2e-4, ge=0, description="symmetric migration rate")
    fraction_pop_b: float = Field(0.2, gt=0, lt=1, description="share of sub-population B")
    common_fraction: float = Field(0.8, ge=0, le=1, description="share of written variants "
                                   "with MAF >= 0.01 (the rest are rarer, MAC >= 2)")
    missing_rate: float = Field(0.01, ge=0, lt=0.5, description="mean missing-call rate")
    locus_window_kb: int = Field(250, gt=0, description="flank around a planted locus "
                                 "simulated at higher variant density")
    locus_sim_fraction: float = Field(0.1, gt=0, lt=0.4, description="share of a "
                                      "chromosome's simulated sequence given to each locus")


class GeneticsConfig(StrictModel):
    """Planted genetic architecture of the latent brain-ageing factor."""

    h2: float = Field(0.4, ge=0, lt=1, description="SNP heritability of the latent factor")
    n_causal: int = Field(50, ge=2)
    mapt_variance: float = Field(0.05, ge=0, lt=0.5, description="share of the latent "
                                 "factor's variance explained by the MAPT variant")
    irag1_variance: float = Field(0.03, ge=0, lt=0.5, description="same for IRAG1")
    celltype_fraction: float = Field(0.7, ge=0, le=1, description="share of the other "
                                     "causal variants placed near oligodendrocyte/astrocyte"
                                     "-specific genes")
    causal_min_maf: float = Field(0.05, gt=0, lt=0.5)
    pop_b_shift: float = Field(0.3, description="non-genetic shift of the latent factor in "
                               "sub-population B (SD units): confounds GWAS without PCs")
    # White-matter ageing: seen in the images, not in FreeSurfer's volumes and thicknesses.
    # Defaults: SNP-h2 0.6, the upper range UK Biobank reports for white-matter
    # microstructure (diffusion FA/MD tract measures, h2 ~0.4-0.6), above the grey-matter
    # factor's 0.4; genetic correlation 0.6 with it, so an ideal image BAG (both factors)
    # has rg ~0.9 with FS-BAG, as the method reports between FS-BAG and R-NCE-BAG.
    # Tried first on the demo cohort (oracle GREML h2, FS-BAG 0.417): h2_wm 0.4 with 3 y
    # of noise gave an ideal image BAG of 0.411 (no gain: the question could not come out
    # either way); h2_wm 0.6 with 2 y gave 0.482 (+0.07, SE 0.05: not clear).
    h2_wm: float = Field(0.6, ge=0, lt=1, description="SNP heritability of the white-matter "
                         "ageing factor (0: a negative control, nothing heritable is hidden)")
    rho_wm: float = Field(0.6, ge=-1, le=1, description="genetic correlation of the "
                          "white-matter factor with the FreeSurfer-visible latent factor "
                          "(same causal variants, partly different effects)")
    wm_noise_years: float = Field(1.0, ge=0, description="SD (years) of non-genetic, "
                                  "non-ageing variation of the white-matter signal")


class CohortConfig(StrictModel):
    """Demography and clinical subset."""

    n_subjects: int = Field(200, ge=20)
    clinical_fraction: float = Field(0.3, ge=0, le=1, description="ADNI-like share with "
                                     "CN/MCI/AD; the rest is a UK Biobank-like CN cohort")
    n_sites: int = Field(4, ge=1, le=8)
    brain_age_sd_years: float = Field(5.0, gt=0, description="SD of the latent factor's "
                                      "effect on brain age (years)")


class DiseaseConfig(StrictModel):
    """The ADNI-like clinical subset's disease model, calibrated to published ADNI figures.

    Sources (each default's line in ``configs/simulate/demo.yaml`` repeats its source):
    Petersen et al. 2010 (Neurology 74:201, ADNI-1 clinical characterisation: baseline
    shares, ages, APOE e4 carriers, conversion); Jansen et al. 2015 (JAMA 313:1924,
    amyloid positivity by diagnosis, age and APOE); Shi et al. 2009 (Hippocampus 19:1055,
    meta-analysis of hippocampal atrophy: MCI -11 to -13%, AD -20 to -24% against CN);
    Dickerson et al. 2009 (Cereb Cortex 19:497, the AD cortical signature: entorhinal and
    temporal thinning); Mitchell and Shiri-Feshki 2009 (Acta Psychiatr Scand 119:252) and
    ADNI's MCI cohort (about 15% per year, 25-30% by 2 years); Okello et al. 2009
    (Neurology 73:754) and Jack et al. 2010 (Brain 133:3336): amyloid-positive MCI convert
    about 3x as often and atrophy faster; white-matter hyperintensity load predicts
    conversion with a hazard ratio of about 1.5 per SD (Prins and Scheltens 2015, Nat Rev
    Neurol 11:157).
    """

    share_mci: float = Field(0.5, ge=0, le=1, description="MCI share of the clinical subset "
                             "(ADNI-1: 398 of 819; ADNI-GO/2 added EMCI)")
    share_ad: float = Field(0.2, ge=0, le=1, description="AD share of the clinical subset "
                            "(ADNI-1: 192 of 819)")
    stage_mean: dict[str, float] = Field(
        {"CN": 0.04, "MCI": 0.40, "AD": 0.72}, description="mean latent disease stage "
        "(0 none, 1 severe AD) by diagnosis: ordered CN < MCI < AD; with the atrophy rates "
        "of measures.py and the atrophy spread it gave hippocampus -12% (MCI) and -18% (AD) "
        "against the clinical CN in benchmarks/clinical_calibration.py")
    stage_sd: dict[str, float] = Field(
        {"CN": 0.04, "MCI": 0.15, "AD": 0.14}, description="SD of the stage by diagnosis "
        "(Beta distributions; MCI and AD overlap)")
    apoe4_carriers: dict[str, float] = Field(
        {"CN": 0.27, "MCI": 0.53, "AD": 0.66}, description="APOE e4 carrier share by "
        "diagnosis (ADNI-1, Petersen 2010): the genetics-like risk of amyloid")
    amyloid_logit: dict[str, float] = Field(
        {"intercept": -1.45, "MCI": 1.25, "AD": 2.55, "per_year": 0.05, "apoe4": 1.3},
        description="logistic model of amyloid positivity: CN about 30%, MCI about 60%, AD "
        "about 88% at the clinical subset's ages; odds x1.65 per decade and x3.7 for an e4 "
        "carrier (Jansen 2015)")
    atrophy_expression_sd: float = Field(0.85, ge=0, le=2, description="SD (log scale) of "
                                         "a subject's atrophy at a given stage, shared by "
                                         "all regions (reserve, co-pathology)")
    amyloid_stage_shift: float = Field(0.06, ge=0, description="stage added in amyloid-"
                                       "positive CN and MCI (faster atrophy: Jack 2010)")
    amyloid_wm_shift: float = Field(0.3, ge=0, description="SD shift of the white-matter "
                                    "process in amyloid-positive subjects; amyloid itself is "
                                    "never rendered in the image (a T1 shows tissue)")
    wm_disease_years: float = Field(10.0, ge=0, description="years of white-matter ageing "
                                    "the image shows per SD of the white-matter process "
                                    "(clinical subset only; the normative part has none)")
    conversion_2y: float = Field(0.27, gt=0, lt=1, description="share of MCI converting to AD "
                                 "within 2 years; the baseline hazard is solved for it")
    conversion_log_hr: dict[str, float] = Field(
        {"atrophy_sd": 1.2, "wm_process": 1.0, "amyloid": 0.9}, description="log hazard "
        "ratios of conversion: per SD of the MCI atrophy (HR 3.3; hippocampal volume alone "
        "about 2-3 per SD), per SD of the image-only white-matter process (HR 2.7: above "
        "the 1.5 of white-matter hyperintensities alone, chosen towards issue 28's target "
        "that the true image signal adds 0.05 AUC to FreeSurfer; reached 0.049 / 0.031) and "
        "for amyloid positivity "
        "(HR 2.5, Okello 2009)")
    follow_up_years: float = Field(5.0, gt=0, description="planned follow-up of the clinical "
                                   "subset (ADNI-1 ran 2-3 years, ADNI-GO/2 up to 5+)")
    dropout_per_year: float = Field(0.10, ge=0, lt=1, description="annual drop-out of the "
                                    "clinical subset (censoring before the planned end)")

    @model_validator(mode="after")
    def _complete(self) -> DiseaseConfig:
        need = {"stage_mean": {"CN", "MCI", "AD"}, "stage_sd": {"CN", "MCI", "AD"},
                "apoe4_carriers": {"CN", "MCI", "AD"},
                "amyloid_logit": {"intercept", "MCI", "AD", "per_year", "apoe4"},
                "conversion_log_hr": {"atrophy_sd", "wm_process", "amyloid"}}
        for name, keys in need.items():
            got = set(getattr(self, name))
            if got != keys:
                raise ValueError(f"disease.{name} needs the keys {', '.join(sorted(keys))}; "
                                 f"found {', '.join(sorted(got)) or 'none'}")
        for dx in ("CN", "MCI", "AD"):
            m, sd = self.stage_mean[dx], self.stage_sd[dx]
            if not (0 < m < 1 and 0 < sd**2 < m * (1 - m)):
                raise ValueError(f"disease.stage_mean/stage_sd for {dx}: a Beta distribution "
                                 f"needs 0 < mean < 1 and sd^2 < mean (1 - mean); found "
                                 f"{m}, {sd}")
            if not 0 <= self.apoe4_carriers[dx] <= 1:
                raise ValueError(f"disease.apoe4_carriers.{dx} must be a share in [0, 1]")
        if self.share_mci + self.share_ad > 1:
            raise ValueError("disease.share_mci + disease.share_ad must be at most 1")
        return self


class NativeConfig(StrictModel):
    """Images in a native scanner space (``rnce-bag register`` first): each subject's head
    placed in the scanner by a random affine and a mild smooth warp, the true transform
    in ``truth/native_transforms.tsv`` and the MNI-space rendering in
    ``truth/images_mni/``. The magnitudes are a registration test range (head tilt of a
    few degrees, the brain centre some mm from the isocentre), not a calibration."""

    write: bool = Field(False, description="write native-space images (the manifest's "
                        "t1_path) instead of MNI-space ones")
    rotation_deg: float = Field(6.0, ge=0, le=20, description="SD of the rotation about "
                                "each axis (degrees)")
    translation_mm: float = Field(6.0, ge=0, le=15, description="SD of the brain centre's "
                                  "offset from the isocentre, per axis (mm)")
    scale_sd: float = Field(0.03, ge=0, le=0.1, description="SD of the per-axis scaling")
    shear_sd: float = Field(0.02, ge=0, le=0.1, description="SD of each shear term")
    warp_mm: float = Field(1.5, ge=0, le=5, description="SD of the smooth warp (mm)")


class ImageConfig(StrictModel):
    """T1 images in MNI152 space (or in a native space, ``native``)."""

    write: bool = True
    resolution_mm: Literal[1, 2, 3, 4] = 4
    deformation_mm: float = Field(2.0, ge=0, description="SD of smooth subject deformations")
    noise: float = Field(0.02, ge=0, description="noise SD relative to white matter")
    workers: int = Field(2, ge=1, le=64)
    native: NativeConfig = NativeConfig()


class FamilyConfig(StrictModel):
    """Relatives in the normative cohort (UK Biobank has many: about a third of its
    participants have a third-degree or closer relative, Bycroft et al. 2018, Nature
    562:203), made by Mendelian transmission of the coalescent's haplotypes
    (:mod:`rnce_bag.simulate.families`); their pairs and degrees go to
    ``truth/relatives.tsv``."""

    fraction: float = Field(0.0, ge=0, le=0.9, description="share of the normative "
                            "subjects placed in families (0: every subject unrelated)")
    kinds: dict[Literal["full_sibling", "parent_offspring", "half_sibling"], float] = Field(
        {"full_sibling": 0.5, "parent_offspring": 0.3, "half_sibling": 0.2},
        description="share of families of each kind: sibling pairs, parent-offspring trios "
                    "(both parents in the cohort) and half-sibling pairs")
    shared_environment: float = Field(0.0, ge=0, lt=1, description="share of the latent "
                                      "brain-ageing factor's variance from an environment "
                                      "shared within a family (c2; taken from the "
                                      "non-genetic part)")

    @model_validator(mode="after")
    def _some_kind(self) -> FamilyConfig:
        if self.fraction > 0 and not any(v > 0 for v in self.kinds.values()):
            raise ValueError("families.kinds: give at least one kind a positive share")
        if any(v < 0 for v in self.kinds.values()):
            raise ValueError("families.kinds: shares are >= 0")
        return self


class SimulateConfig(StrictModel):
    """Everything ``rnce-bag simulate`` needs."""

    preset: str = "custom"
    seed: int = Field(0, ge=0, lt=2**32, description="numpy seeds are 0 to 2**32 - 1")
    cohort: CohortConfig = CohortConfig()
    disease: DiseaseConfig = DiseaseConfig()
    genotypes: GenotypeConfig = GenotypeConfig()
    genetics: GeneticsConfig = GeneticsConfig()
    images: ImageConfig = ImageConfig()
    families: FamilyConfig = FamilyConfig()

    @model_validator(mode="after")
    def _enough_variants(self) -> SimulateConfig:
        if self.genetics.h2 + self.families.shared_environment >= 1:
            raise ValueError("genetics.h2 + families.shared_environment must be below 1")
        if self.genetics.n_causal * 4 > self.genotypes.n_variants:
            raise ValueError(f"n_causal ({self.genetics.n_causal}) needs at least 4x as many "
                             f"variants, found n_variants={self.genotypes.n_variants}")
        if self.genetics.mapt_variance + self.genetics.irag1_variance >= self.genetics.h2:
            raise ValueError("mapt_variance + irag1_variance must be below h2")
        return self


def preset_names() -> list[str]:
    """The simulator's presets (``configs/simulate/*.yaml`` shipped with the package)."""
    return preset_names_of("simulate")


def preset_config(name: str) -> SimulateConfig:
    """The named preset (``configs/simulate/<name>.yaml``) as a validated config."""
    return SimulateConfig.model_validate(load_preset("simulate", name))
