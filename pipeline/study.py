"""A study: the cohort, the genotypes and what each pipeline stage does with them.

Study YAML files (the shipped ones in ``rnce_bag/configs/study``) are validated by
:class:`StudyConfig`. Relative paths resolve against the study file's folder. With a
``simulate`` block the pipeline simulates the cohort first (into ``OUT/simulate``) and
the cohort's paths are that stage's outputs.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from gwas.config import EngineChoice, GwasConfig
from pipeline.registry import STAGE_ORDER
from rnce_bag.core.config import StrictModel
from rnce_bag.ssl import methods as ssl_methods
from rnce_bag.ssl.config import Method

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class SimulateBlock(StrictModel):
    preset: Literal["tiny", "demo", "demo-control", "large"] = "tiny"
    seed: int = 0
    set: list[str] = Field(default_factory=list, description="overrides of the preset")


class CohortBlock(StrictModel):
    """Where the data are (ignored when ``simulate`` is given)."""

    manifest: str | None = Field(None, description="TSV: IID FID age sex site diagnosis "
                                 "amyloid conversion_years t1_path freesurfer_dir")
    bfile: str | None = Field(None, description="PLINK 1 prefix")
    bgen: str | None = None
    sample: str | None = None
    vcf: str | None = None
    ld_bfile: str | None = Field(None, description="PLINK 1 LD reference for h2/enrich "
                                 "(default: bfile)")
    build: Literal["GRCh37", "GRCh38"] = "GRCh37"
    celltypes: list[str] = Field(default_factory=list, description="FUMA-format tables")
    keep: str | list[str] | None = Field(None, description="PLINK sample list(s): only these "
                                         "samples (gwas, h2, rg); several are their union")
    remove: str | list[str] | None = Field(None, description="PLINK sample list(s) to leave "
                                           "out")
    extract: str | list[str] | None = Field(None, description="variant IDs or chr:start-end "
                                            "ranges to analyse (file or files)")
    exclude: str | list[str] | None = Field(None, description="variant IDs or ranges to "
                                            "leave out (file or files)")
    chr: str | None = Field(None, description="chromosomes, e.g. 1-22")


class TrainBlock(StrictModel):
    config: str = "configs/ssl/tiny.yaml"
    methods: list[Method] = Field(default_factory=ssl_methods.names,
                                  description="registered methods (rnce_bag.ssl.methods); "
                                              "default: all of them")
    set: list[str] = Field(default_factory=list)


class RegisterBlock(StrictModel):
    """``rnce-bag register`` before the imaging stages: the cohort's T1s are native-space
    images (the stages then read the registered images' manifest)."""

    transform: Literal["syn", "syn-quick", "affine", "affine-quick"] = "syn"
    spacing: float = Field(2.0, gt=0, le=4)
    n4: bool = False
    jobs: int = Field(1, ge=1, le=64)


class StagesBlock(StrictModel):
    registration: RegisterBlock | None = Field(None, description="register the T1s to MNI152 "
                                           "with ANTs first (default: they already are)")
    features_atlases: list[str] = Field(default_factory=lambda: ["aparc"])
    # factories, not instances: the defaults (every registered method) are read when a
    # study is made, so a plug-in registered after import is among them
    train: TrainBlock = Field(default_factory=TrainBlock)
    brain_age_config: str | None = None
    brain_age_set: list[str] = Field(default_factory=list)
    gwas_engine: EngineChoice = Field(  # the GWAS config's own default (resolve_engine)
        GwasConfig.model_fields["engine"].default)
    gwas_config: str | None = None
    gwas_set: list[str] = Field(default_factory=list)
    covar_names: list[str] | None = Field(None, description="GWAS covariates (default: all "
                                          "columns of brain_age/covar.tsv)")
    grm_cutoff: float = Field(0.025, ge=0, le=1, allow_inf_nan=False,
                              description="the h2/rg stages' --grm-cutoff (0 keeps everyone)")
    combined: list[str] = Field(
        default_factory=lambda: ["FS+RNCE"],
        description="concatenated representations, each its own BAG (FS+RNCE -> BAG_FS_RNCE)")
    rg_pairs: list[tuple[str, str]] = Field(
        default_factory=lambda: [("FS", m.representation) for m in ssl_methods.methods()]
        + [("FS", "FS_RNCE")],
        description="representation pairs for genetic correlation (FS-BAG against each)")
    enrich_phenotypes: list[str] = Field(default_factory=lambda: ["FS", "RNCE"])
    enrich_ldsc_seg: bool = Field(True, description="also run LDSC-SEG (LD scores from the "
                                  "LD reference; a few minutes per phenotype)")


class StudyConfig(StrictModel):
    """One study, from images and genotypes to the report."""

    name: str = "study"
    simulate: SimulateBlock | None = None
    cohort: CohortBlock = CohortBlock()
    stages: StagesBlock = Field(default_factory=StagesBlock)
    skip: list[str] = Field(default_factory=list, description="stages not to run")

    @model_validator(mode="after")
    def _check(self) -> StudyConfig:
        names = [x for pair in self.stages.rg_pairs for x in pair]
        names += [x for combo in self.stages.combined for x in combo.split("+")]
        names += [*self.stages.enrich_phenotypes, self.name]
        odd = [x for x in names if not _NAME.fullmatch(x)]
        if odd:  # these become stage folder names
            raise ValueError(f"name {odd[0]!r}: use letters, digits, '_' and '-' only "
                             "(representation and study names become folder names)")
        bad = [s for s in self.skip if s not in STAGE_ORDER]
        if bad:
            raise ValueError(f"skip: unknown stage(s) {bad}; stages are {list(STAGE_ORDER)}")
        if self.simulate is None:
            if not self.cohort.manifest:
                raise ValueError("cohort.manifest is required without a simulate block")
            if sum(bool(x) for x in (self.cohort.bfile, self.cohort.bgen, self.cohort.vcf)) \
                    != 1:
                raise ValueError("give exactly one of cohort.bfile, cohort.bgen, cohort.vcf")
        return self
