"""Configuration of ``rnce-bag gwas``: engine, QC thresholds, ancestry PCs.

Defaults are the ones a statistical geneticist expects for a biobank GWAS of a
quantitative trait.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from gwas.engines import check_choice
from gwas.relatedness import KING_CUTOFF, KING_MIN_VARIANTS
from rnce_bag.core.config import StrictModel

#: ``auto`` or a registered engine's name (:mod:`gwas.engines`)
EngineChoice = Annotated[str, AfterValidator(check_choice)]

#: the GWAS's thresholds and windows, defined here once: the defaults of the configs, the
#: CLI and every function that classes variants, clumps, draws lines or builds windows; a
#: run's own settings (``run_thresholds``, ``region_window_kb``) are passed down where
#: they differ
GENOME_WIDE_P = 5e-8
SUGGESTIVE_P = 1e-5
#: lead loci: variants within CLUMP_WINDOW_KB of a lead with r2 above CLUMP_R2 join its clump
CLUMP_R2 = 0.1
CLUMP_WINDOW_KB = 500
#: regional plots: variants within this distance of each lead
REGION_WINDOW_KB = 500
#: gene windows of the enrichment (MAGMA's convention: 35 kb upstream, 10 kb downstream)
#: and the distance below which genes share a cluster for its robust standard errors
GENE_WINDOW_UP_KB = 35
GENE_WINDOW_DOWN_KB = 10
CLUSTER_GAP_KB = 1000


class QCConfig(StrictModel):
    """Variant and sample quality control thresholds."""

    variant_call_rate: float = Field(0.98, ge=0, le=1, description="min variant call rate")
    maf: float = Field(0.01, ge=0, le=0.5, description="min minor allele frequency")
    hwe_p: float = Field(1e-6, ge=0, le=1, description="min Hardy-Weinberg exact p")
    info: float = Field(0.8, ge=0, le=1, description="min imputation INFO (BGEN only)")
    sample_call_rate: float = Field(0.98, ge=0, le=1, description="min sample call rate")
    king_cutoff: float | None = Field(
        KING_CUTOFF, gt=0, le=0.5, description="relatedness QC: remove samples until no pair "
        "has a KING-robust kinship at or above this (0.0884: second degree and closer; "
        "0.177: first degree; null: keep relatives); gwas.relatedness states the rule")
    king_min_variants: int = Field(
        KING_MIN_VARIANTS, ge=0, description="relatedness QC needs at least this many QC'd "
        "variants (else it is skipped, with a warning): KING on fewer is noise")


class PCAConfig(StrictModel):
    """Ancestry principal components on LD-pruned common variants."""

    n_pcs: int = Field(10, ge=0, le=50)
    prune_r2: float = Field(0.1, gt=0, le=1, description="LD pruning r2 threshold")
    prune_window_kb: int = Field(1000, gt=0, description="LD pruning window (kb)")
    min_maf: float = Field(0.05, ge=0, le=0.5, description="min MAF of PCA variants")
    seed: int = Field(1, ge=0, description="seed of PLINK 2's randomized PCA (--pca approx, "
                                           "n >= 5,000), else seeded from the clock")


class BoltConfig(StrictModel):
    """BOLT-LMM's reference tables (``--engine bolt``), as BOLT documents them; without
    them it estimates LD scores from the data (``--LDscoresUseChip``) and reads genetic
    positions from the ``.bim``."""

    ld_scores: str | None = Field(None, description="BOLT's LD-score table (e.g. its "
                                  "LDSCORE.1000G_EUR.tab.gz) -> --LDscoresFile")
    genetic_map: str | None = Field(None, description="BOLT's genetic map (e.g. "
                                    "genetic_map_hg19_withX.txt.gz) -> --geneticMapFile")


class HailConfig(StrictModel):
    """Where Hail runs: a local Spark session by default, a cluster URL at scale."""

    spark_master: str = "local[*]"
    driver_memory_gb: int = Field(8, ge=1)
    tmp_dir: str | None = None
    quiet: bool = True
    native_lib_dir: str | None = Field(
        None, description="folder holding libgfortran.so.3 on every node of a remote "
                          "cluster, for native BLAS in its executors")


class GwasConfig(StrictModel):
    """Everything ``rnce-bag gwas`` reads from YAML."""

    engine: EngineChoice = Field(
        "auto", description="a registered engine (gwas.engines) or auto: PLINK 2 on one "
                            "machine when plink2 is installed (the same numbers as Hail, "
                            "tested; many times faster), Hail for a Spark cluster or "
                            "without plink2 (resolve_engine)")
    qc: QCConfig = QCConfig()
    pca: PCAConfig = PCAConfig()
    hail: HailConfig = HailConfig()
    bolt: BoltConfig = BoltConfig()
    minus9_is_missing: bool = Field(
        False, description="read -9 in phenotype and covariate files as missing (PLINK 1's "
                           "code; --minus9-is-missing); else a value, warned about"
    )
    genome_wide_p: float = Field(GENOME_WIDE_P, gt=0, lt=1)
    suggestive_p: float = Field(SUGGESTIVE_P, gt=0, lt=1)
    region_window_kb: int = Field(REGION_WINDOW_KB, ge=10, le=5000, description="regional plots: "
                                  "variants within this distance of each lead (kb)")


def run_thresholds(gwas_dir) -> tuple[float, float]:
    """The (genome-wide, suggestive) p thresholds a finished GWAS ran with (its run.json
    config; the defaults for a folder without one): its loci, plot lines and comparison
    classes all use these."""
    from pathlib import Path

    from rnce_bag.core.outdir import read_run_record

    default = (GENOME_WIDE_P, SUGGESTIVE_P)
    try:
        cfg = read_run_record(Path(gwas_dir))["config"]
        return float(cfg.get("genome_wide_p", default[0])), \
            float(cfg.get("suggestive_p", default[1]))
    except (KeyError, TypeError, ValueError, AttributeError, OSError):
        return default


def resolve_engine(cfg: GwasConfig, which=None) -> tuple[str, str]:
    """The engine a run uses and why, for ``engine: auto`` and an explicit choice alike.

    ``auto``: Hail when ``hail.spark_master`` names a cluster (not ``local[...]``) or when
    ``plink2`` is not on PATH; otherwise PLINK 2 (one machine: the same statistics as
    Hail, tested to 1e-6, without a Spark start and its JVM).
    """
    import shutil

    which = which or shutil.which
    if cfg.engine != "auto":
        return cfg.engine, "chosen (--engine / engine:)"
    if not cfg.hail.spark_master.startswith("local"):
        return "hail", f"auto: a Spark cluster is named ({cfg.hail.spark_master})"
    if which("plink2") is None:
        return "hail", "auto: plink2 is not on PATH (make setup installs it)"
    return "plink2", ("auto: one machine and plink2 on PATH; the same numbers as Hail, "
                      "faster (--engine hail to run Hail)")


def with_engine(cfg: GwasConfig) -> tuple[GwasConfig, str]:
    """``cfg`` with its engine resolved (never ``auto``) and the reason."""
    engine, why = resolve_engine(cfg)
    return cfg.model_copy(update={"engine": engine}), why
