"""Configuration of ``rnce-bag brain-age``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rnce_bag.core.config import StrictModel


class BrainAgeConfig(StrictModel):
    """Regressor, cross-fitting, bias correction and the normative training filter."""

    regressor: Literal["ridge", "kernel_ridge", "gbm"] = "ridge"
    n_splits: int = Field(5, ge=2, le=20)
    n_repeats: int = Field(2, ge=1, le=20)
    bias_correction: Literal["beheshti", "cole", "smith", "smith_quadratic", "none"] = \
        "beheshti"
    train_filter: dict[str, list[str]] = Field(
        default_factory=lambda: {"diagnosis": ["CN"]},
        description="manifest column -> allowed values for the normative training subjects")
    genetics_subjects: Literal["normative", "all"] = Field(
        "normative", description="who gets a BAG in the genetic phenotype files "
        "(pheno.tsv, bag.phen): 'normative' = the subjects passing train_filter (patients' "
        "disease severity is not genetic signal), 'all' = everyone, with diagnosis as a "
        "covariate in covar.tsv")
    min_train_subjects: int = Field(50, ge=10)
    seed: int = 0
