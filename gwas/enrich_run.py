"""``rnce-bag enrich`` as a library function: gene test, cell-type enrichment, LDSC-SEG.

:func:`run_enrich` reads the summary statistics (filtered with PLINK semantics), tests
genes with LD from ``bfile`` (one fileset or one per chromosome), regresses gene
z-scores on each cell type's specificity and, with ``ldsc_seg``, runs LDSC-SEG on LD
scores that depend only on the reference and the tables (cached in ``ld_cache``). It
writes ``genes.tsv`` and ``celltypes.tsv`` into ``out`` and returns what it found.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gwas.config import CLUSTER_GAP_KB, GENE_WINDOW_DOWN_KB, GENE_WINDOW_UP_KB
from gwas.stages import ENRICH
from gwas.sumstats import CHI2_MEDIAN_1DF
from rnce_bag.core.errors import InputError
from rnce_bag.core.outputs import write_output


@dataclass
class EnrichResult:
    """What :func:`run_enrich` wrote and found."""

    genes: pd.DataFrame          # genes.tsv
    celltypes: pd.DataFrame      # celltypes.tsv
    gene_inflation: float        # median gene z^2 / median chi^2(1)
    filter_counts: dict          # what --chr/--extract/--exclude removed
    n_variants: tuple[int, int]  # (tested, in the summary statistics)
    tables: list[dict]           # per cell-type table: name, genes, id type, unmapped


def run_enrich(sumstats: Path, bfile: str, celltypes: list[Path], out: Path,
               build: str = "GRCh37", window_up_kb: int = GENE_WINDOW_UP_KB,
               window_down_kb: int = GENE_WINDOW_DOWN_KB,
               cluster_gap_kb: int = CLUSTER_GAP_KB, ldsc_seg: bool = False,
               ld_cache: Path | None = None, filters=None) -> EnrichResult:
    """Gene and cell-type enrichment of one trait into ``out`` (see the module).

    ``filters`` (:class:`gwas.filters.Filters`): ``--chr/--extract/--exclude`` choose the
    variants tested, ``--keep/--remove`` the samples of the gene test's LD reference
    (LDSC-SEG's LD scores use the whole fileset: with ``ldsc_seg`` they are refused).
    """
    from gwas.enrichment import (
        celltype_enrichment,
        gene_analysis,
        gene_windows,
        read_specificity,
    )
    from gwas.filters import Filters, filter_samples, filter_variants
    from gwas.genome_build import check_build
    from gwas.plink_io import open_bed
    from gwas.sumstats import read_sumstats

    ssf = read_sumstats(sumstats)
    check_build(ssf, build, str(sumstats))
    counts: dict = {}
    n_in = len(ssf)
    flt = filters or Filters()
    if flt.samples and ldsc_seg:
        raise InputError("--keep/--remove choose the gene test's LD samples; LDSC-SEG scores "
                         "LD on the whole --bfile",
                         hint="drop --ldsc-seg, or give an LD reference of those samples "
                              "(plink2 --bfile P --keep F --make-bed --out P_subset)")
    if flt.variants:  # the variants tested (PLINK semantics)
        table = pd.DataFrame({"chromosome": ssf["chromosome"].astype(str),
                              "position": ssf["base_pair_location"].astype("int64"),
                              "variant_id": ssf["rsid"] if "rsid" in ssf.columns
                              else ssf["variant_id"]})
        mask, counts = filter_variants(table, flt)
        ssf = ssf[mask].reset_index(drop=True)
    specs = [(path, *read_specificity(path)) for path in celltypes]  # fail fast
    reader = open_bed(bfile)
    samples = None
    if flt.samples:
        kept, scounts = filter_samples(reader.fam, flt)
        counts.update(scounts)
        samples = np.flatnonzero(kept)
    genes = gene_analysis(ssf, reader, gene_windows(build, window_up_kb, window_down_kb),
                          samples=samples)
    write_output(ENRICH, "genes", genes, out)
    tables, infos = [], []
    for path, spec, info in specs:
        name = path.name.split(".")[0]
        infos.append({"name": name, **info})
        tables.append(celltype_enrichment(genes, spec, name, cluster_gap_kb))
        if ldsc_seg:
            tables.append(_ldsc_seg(ssf, bfile, spec, name, build, out, ld_cache))
    result = pd.concat(tables, ignore_index=True)
    write_output(ENRICH, "celltypes", result, out)
    inflation = float(np.median(genes["z"] ** 2) / CHI2_MEDIAN_1DF)
    return EnrichResult(genes, result, inflation, counts, (len(ssf), n_in), infos)


def _ldsc_seg(ssf: pd.DataFrame, bfile: str, spec: pd.DataFrame, name: str, build: str,
              out: Path, ld_cache: Path | None) -> pd.DataFrame:
    """LDSC-SEG of one cell-type table, on base LD scores shared through ``ld_cache``."""
    from gwas.enrichment import ldsc_seg_enrichment
    from gwas.genotype_files import bfile_paths
    from gwas.heritability.ldsc import cohort_ld_scores, to_ldsc_sumstats
    from rnce_bag.core.io import cached_build

    base = cached_build(ld_cache, {"kind": "base LD scores", "ld_wind_cm": 1.0, "maf": 0.01},
                        bfile_paths(bfile), lambda d: cohort_ld_scores(bfile, d / "base"),
                        out / "ldsc" / "base")
    trait = out / "ldsc" / "trait.sumstats.gz"
    trait.parent.mkdir(exist_ok=True)
    if not trait.exists():
        to_ldsc_sumstats(ssf, trait)
    return ldsc_seg_enrichment(str(trait), bfile, spec, name, str(base / "base"),
                               out / "ldsc", build, cache=ld_cache)
