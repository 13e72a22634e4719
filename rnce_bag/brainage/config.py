"""Configuration of ``rnce-bag brain-age``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rnce_bag.core.config import StrictModel

#: the regressors, bias corrections and cross-fitting defaults, defined here once (the
#: estimator and the bias functions import them; this module stays free of sklearn)
Regressor = Literal["ridge", "kernel_ridge", "gbm"]
BiasMethod = Literal["beheshti", "cole", "smith", "smith_quadratic", "none"]
N_SPLITS = 5
N_REPEATS = 2


class BrainAgeConfig(StrictModel):
    """Regressor, cross-fitting, bias correction and the normative training filter."""

    regressor: Regressor = "ridge"
    n_splits: int = Field(N_SPLITS, ge=2, le=20)
    n_repeats: int = Field(N_REPEATS, ge=1, le=20)
    bias_correction: BiasMethod = "beheshti"
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
