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


class ImageConfig(StrictModel):
    """T1 images in MNI152 space."""

    write: bool = True
    resolution_mm: Literal[1, 2, 3, 4] = 4
    deformation_mm: float = Field(2.0, ge=0, description="SD of smooth subject deformations")
    noise: float = Field(0.02, ge=0, description="noise SD relative to white matter")
    workers: int = Field(2, ge=1, le=64)


class SimulateConfig(StrictModel):
    """Everything ``rnce-bag simulate`` needs."""

    preset: str = "custom"
    seed: int = Field(0, ge=0, lt=2**32, description="numpy seeds are 0 to 2**32 - 1")
    cohort: CohortConfig = CohortConfig()
    genotypes: GenotypeConfig = GenotypeConfig()
    genetics: GeneticsConfig = GeneticsConfig()
    images: ImageConfig = ImageConfig()

    @model_validator(mode="after")
    def _enough_variants(self) -> SimulateConfig:
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
