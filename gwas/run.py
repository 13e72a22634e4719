"""``rnce-bag gwas``: inputs -> QC -> ancestry PCs -> association -> GWAS-SSF -> loci.

Every engine (:mod:`gwas.engines`) shares the input handling (:mod:`gwas.inputs`), the
output format (:mod:`gwas.sumstats`) and the loci (:mod:`gwas.loci`); they differ only in
how QC, PCA and the regression are computed (PLINK 2 subprocesses, Hail on Spark, ...),
behind one interface.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gwas.config import GwasConfig, with_engine
from gwas.engines import (
    EngineRequest,
    EngineResult,
    GwasEngine,
    Relatives,
    check_result,
    covariates_with_pcs,
)
from gwas.engines import get as get_engine
from gwas.filters import Filters, filter_samples, filter_variants, parse_chromosomes
from gwas.genotype_files import AUTOSOMES
from gwas.genotype_input import GenotypeInput
from gwas.inputs import (
    SampleSet,
    load_covariates,
    load_phenotypes,
    match_samples,
    warn_fid_mismatch,
)
from gwas.loci import annotate_genes, clump
from gwas.plink_io import open_bed
from gwas.regions import REGION_COLUMNS, locus_region
from gwas.relatedness import empty_relatives, relatedness_counts
from gwas.stages import GWAS
from gwas.sumstats import summarise, unambiguous_rsids, write_ssf
from rnce_bag.core.errors import InputError
from rnce_bag.core.io import write_text
from rnce_bag.core.logging import Heartbeat
from rnce_bag.core.names import file_stem
from rnce_bag.core.outputs import output_path, write_output

log = logging.getLogger(__name__)
Progress = Callable[[str], None]

def run_gwas(geno: GenotypeInput, pheno_path: Path, pheno_names: list[str] | None,
             covar_path: Path | None, covar_names: list[str] | None, cfg: GwasConfig,
             out: Path, threads: int | None = None, progress: Progress | None = None,
             filters: Filters | None = None, cache_dir: Path | None = None,
             engine_reason: str | None = None) -> dict:
    """Run the whole GWAS into ``out``; returns the run report (also ``gwas_report.json``).

    ``cache_dir`` keeps what a rerun can reuse (Hail's imported MatrixTable and its
    LD-pruned variants); by default ``out/work``.

    ``filters`` (``--keep/--remove/--extract/--exclude/--chr``, PLINK semantics) act before
    QC in both engines; the counts each removed go to the report's ``filters``. With a
    ``progress`` callback, a step that runs over ten seconds says every 30 s how long it
    has been running (:class:`rnce_bag.core.logging.Heartbeat`).
    """
    args = (geno, pheno_path, pheno_names, covar_path, covar_names, cfg, out, threads)
    if progress is None:
        return _run_gwas(*args, None, filters, cache_dir, engine_reason)
    with Heartbeat(progress) as beat:
        return _run_gwas(*args, beat.wrap(progress), filters, cache_dir, engine_reason)


class _Clock:
    """Progress messages, and the time of each step: ``say(msg, step)`` books the time
    since the last booking to ``step`` (the report's ``timings_s``)."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress, self.timings = progress, {}
        self._last = time.perf_counter()

    def __call__(self, msg: str, step: str | None = None) -> None:
        if step is not None:
            now = time.perf_counter()
            self.timings[step] = round(self.timings.get(step, 0.0) + now - self._last, 2)
            self._last = now
        if self.progress is not None and msg:
            self.progress(msg)


@dataclass
class _Inputs:
    """The samples and variants a GWAS analyses, after the filters and sample matching."""

    fam: pd.DataFrame            # FID IID of the genotyped samples the filters keep
    samples: SampleSet
    filter_counts: dict[str, int]
    missing_chroms: list[str]    # autosomes a per-chromosome template has no file for
    shared: set[str]             # variant IDs the input gives to several records
    not_autosomal: int | None    # variants outside 1-22 (known up front for PLINK 1 input)
    variant_keep: pd.DataFrame | None


def _run_gwas(geno: GenotypeInput, pheno_path: Path, pheno_names: list[str] | None,
              covar_path: Path | None, covar_names: list[str] | None, cfg: GwasConfig,
              out: Path, threads: int | None, progress: Progress | None,
              filters: Filters | None, cache_dir: Path | None,
              engine_reason: str | None = None) -> dict:
    out = Path(os.path.abspath(out))  # engines (Spark executors) never see a relative path
    say = _Clock(progress)
    geno.check()
    cfg, why = with_engine(cfg)  # the caller may have resolved it already: its reason
    say(f"engine: {cfg.engine} ({engine_reason or why})")
    flt = filters or Filters()
    work = out / "work"
    inputs = _inputs(geno, pheno_path, pheno_names, covar_path, covar_names, cfg, flt, work,
                     threads, say)
    engine, result = _associate(geno, inputs, cfg, out, work, cache_dir, threads, say)
    _write_design(inputs.samples, result, out)
    relatives = result.relatives
    if relatives is None and cfg.qc.king_cutoff is not None:  # an engine without the QC
        relatives = Relatives(empty_relatives(), [], cfg.qc.king_cutoff,
                              f"not done: the {engine.name} engine does not check "
                              "relatedness (its samples may include relatives)")
    relatedness = _write_relatives(relatives, out, say)
    summaries, n_loci = _write_results(geno, inputs, result, engine.name, cfg, out, say)
    report = {"engine": engine.name, "samples_dropped": inputs.samples.dropped,
              "qc": result.counts, "genotype_files": len(geno.per_file()),
              "chromosomes_missing": inputs.missing_chroms,
              "filters": {**flt.config(), "removed": inputs.filter_counts},
              "timings_s": say.timings,
              "n_pcs": 0 if result.pcs is None else result.pcs.shape[1] - 1,
              "phenotypes": summaries, "n_loci": n_loci,
              **({"relatedness": relatedness} if relatedness else {}),
              **{k: v for k, v in result.report.items() if k != "note"},
              "note": result.report.get("note", "")}
    write_text(output_path(GWAS, "report", out),
               json.dumps(report, indent=2, default=str) + "\n")
    return report


def _inputs(geno: GenotypeInput, pheno_path: Path, pheno_names: list[str] | None,
            covar_path: Path | None, covar_names: list[str] | None, cfg: GwasConfig,
            flt: Filters, work: Path, threads: int | None, say: _Clock) -> _Inputs:
    """The filters (``--keep/--remove``, ``--chr/--extract/--exclude``), the phenotype and
    covariate files read, and the samples with all of them matched."""
    if flt.chr is not None and not parse_chromosomes(flt.chr) & set(AUTOSOMES):
        raise InputError(f"--chr {flt.chr}: the association tests autosomes (1-22) only, so "
                         "this selects no variant", hint="e.g. --chr 1-22 or --chr 17; X is "
                                                         "not analysed yet")
    fam = geno.samples()
    kept_samples, filter_counts = filter_samples(fam, flt)
    if flt.samples:
        unmatched = [f"{n} --{k.rsplit('_', 1)[1]} entr{'y' if n == 1 else 'ies'} named no "
                     "genotyped sample" for k, n in filter_counts.items()
                     if k.startswith("listed_unmatched_") and n]
        say(f"--keep/--remove: {int(kept_samples.sum())} of {len(fam)} genotyped samples kept"
            + (f" ({'; '.join(unmatched)})" if unmatched else ""), "inputs")
    filtered_out = fam.loc[~kept_samples, "IID"].astype(str).tolist()
    fam = fam[kept_samples].reset_index(drop=True)
    other = None
    missing_chroms = geno.missing_autosomes()
    if missing_chroms:
        say(f"no genotype file for chromosome(s) {', '.join(missing_chroms)}: the scan covers "
            "the other chromosomes only", "inputs")
    shared: set[str] = set()
    if geno.bfile:
        bim = open_bed(geno.bfile).bim
        shared = set(bim.loc[bim["id"].duplicated(keep=False), "id"])
        chroms = bim["chromosome"].str.removeprefix("chr")
        other = int((~chroms.isin([str(c) for c in range(1, 23)])).sum())
        if other:
            say(f"{other} variants on chromosomes other than 1-22 (X, Y, MT, ...) left out: "
                "the association runs on autosomes", "inputs")
    pheno = load_phenotypes(pheno_path, pheno_names, cfg.minus9_is_missing)
    covar = load_covariates(covar_path, covar_names, cfg.minus9_is_missing) if covar_path \
        else None
    for path, kind in ((pheno_path, "phenotype"), (covar_path, "covariate")):
        if path:  # matched on IID alone: say so when the file's FIDs are others
            warn_fid_mismatch(path, fam, kind)
    samples = match_samples(fam["IID"].astype(str).tolist(), pheno, covar,
                            source=" / ".join(str(p) for p in (pheno_path, covar_path) if p),
                            filtered=filtered_out)
    work.mkdir(parents=True, exist_ok=True)
    say(f"{len(samples.iids)} samples with genotypes, covariates and a phenotype", "inputs")
    variant_keep = None
    if flt.variants:
        from gwas.engines.plink2 import input_variants

        table = input_variants(geno, work, threads)
        mask, vcounts = filter_variants(table, flt)
        filter_counts.update(vcounts)
        say(f"--chr/--extract/--exclude: {int(mask.sum())} of {len(table)} variants kept",
            "inputs")
        variant_keep = table.loc[mask, ["chromosome", "position", "variant_id", "ref", "alt"]]
    return _Inputs(fam, samples, filter_counts, missing_chroms, shared, other, variant_keep)


def _associate(geno: GenotypeInput, inputs: _Inputs, cfg: GwasConfig, out: Path, work: Path,
               cache_dir: Path | None, threads: int | None, say: _Clock
               ) -> tuple[GwasEngine, EngineResult]:
    """QC, PCs and the association by the configured engine (:mod:`gwas.engines`), with
    the rsids that name no single variant cleared."""
    engine = get_engine(cfg.engine)
    cache = Path(os.path.abspath(cache_dir)) if cache_dir else work  # made by who uses it
    result = check_result(engine, engine.run(EngineRequest(
        geno, inputs.fam, inputs.samples, cfg, out, work, cache, threads, say,
        inputs.variant_keep, inputs.shared)))
    counts = result.counts
    if inputs.not_autosomal is not None:  # known up front for PLINK 1 input
        counts.setdefault("variants_not_autosomal", inputs.not_autosomal)
    if counts.get("variants_not_biallelic"):
        say(f"{counts['variants_not_biallelic']} multi-allelic variants left out (the "
            "association tests one ALT allele; split them first, e.g. bcftools norm -m -any, "
            "to test each)")
    for name in list(result.results):  # rsid NA where it names no single variant
        result.results[name], no_rsid = unambiguous_rsids(result.results[name], inputs.shared)
        counts["variants_without_rsid"] = max(no_rsid, counts.get("variants_without_rsid", 0))
    if counts.get("variants_without_rsid"):
        say(f"{counts['variants_without_rsid']} variants have no rsid that names them alone "
            "(none, '.', or shared): NA in the summary statistics, where variant_id "
            "(chromosome_position_other_effect) names them")
    return engine, result


def _write_design(samples: SampleSet, result: EngineResult, out: Path) -> None:
    """The PCs and exactly the covariates of the association, for h2/rg on the same model
    (the same samples: relatives that QC removed are not in it)."""
    pcs = result.pcs
    if pcs is not None:
        write_output(GWAS, "pcs", pcs, out)
    used = covariates_with_pcs(samples, pcs)
    if used is not None and result.relatives is not None and result.relatives.removed:
        used = used[~used["IID"].isin(set(result.relatives.removed))]
    if used is not None and used.shape[1] > 1:
        write_output(GWAS, "covariates", used, out, float_format="%.10g")


def _write_relatives(rel: Relatives | None, out: Path, say: _Clock) -> dict | None:
    """``relatives.tsv`` and the report's ``relatedness`` block (None without the QC)."""
    if rel is None:
        return None
    write_output(GWAS, "relatives", rel.pairs, out, float_format="%.5g")
    if rel.skipped:
        say(f"relatedness QC {rel.skipped}")
        return {"king_cutoff": rel.cutoff, "checked": False, "skipped": rel.skipped,
                "related_pairs": 0, "pairs_by_degree": {}, "samples_removed_related": 0,
                "removed": []}
    block = {**relatedness_counts(rel.pairs, rel.removed, rel.cutoff), "checked": True,
             "estimator": "KING-robust between-family kinship (Manichaikul et al. 2010) on "
                          "the LD-pruned common variants of the PCA",
             "rule": "remove the sample with the most relatives at or above the cutoff "
                     "(ties: the later in the genotype file) until none is left, then give "
                     "back any removed sample without a kept relative (gwas.relatedness)",
             "removed": rel.removed}
    if rel.removed:
        say(f"relatedness: {block['related_pairs']} pair(s) with KING kinship >= "
            f"{rel.cutoff:g}; {len(rel.removed)} sample(s) removed, the association, PCs, "
            "and the h2/rg that reuse its covariates analyse the unrelated set")
    return block


def _write_results(geno: GenotypeInput, inputs: _Inputs, result: EngineResult, engine: str,
                   cfg: GwasConfig, out: Path, say: _Clock) -> tuple[list[dict], int]:
    """GWAS-SSF files, the summary, lead (or suggestive) loci and their regions; returns
    the per-phenotype summaries and the number of genome-wide loci."""
    samples, pcs = inputs.samples, result.pcs
    summaries, loci_all, regions_all, suggestive_all = [], [], [], []
    reader = open_bed(geno.bfile) if geno.bfile else None
    for name, ssf in result.results.items():
        write_ssf(ssf, out / f"{file_stem(name)}.tsv.gz", {
            "trait_description": [name], "samples": [{"sample_size": int(ssf["n"].max())}],
            "analysis_software": f"rnce-bag gwas --engine {engine}",
            "adjusted_covariates": [c for c in samples.covar.columns if c != "IID"]
            + ([c for c in pcs.columns if c != "IID"] if pcs is not None else []),
            "minor_allele_freq_lower_limit": cfg.qc.maf})
        s = summarise(ssf, name, cfg.genome_wide_p)
        summaries.append(s)
        say("", "write_sumstats")
        if reader is None:
            continue
        sample_idx = np.flatnonzero(reader.fam["IID"].astype(str).isin(samples.iids).to_numpy())
        if s["n_genome_wide"]:
            say(f"clumping {name}", "write_sumstats")
            loci, regs = _loci_with_regions(ssf, name, reader, sample_idx, cfg.genome_wide_p,
                                            cfg.region_window_kb)
            loci_all.append(loci)
            regions_all += regs
            say("", "loci")
        elif s["min_p"] < cfg.suggestive_p:  # no genome-wide locus: the suggestive signals
            say(f"no locus of {name} at p < {cfg.genome_wide_p:g}: clumping its suggestive "
                f"signals (p < {cfg.suggestive_p:g}, the {MAX_SUGGESTIVE} strongest)",
                "write_sumstats")
            loci, regs = _loci_with_regions(ssf, name, reader, sample_idx, cfg.suggestive_p,
                                            cfg.region_window_kb, MAX_SUGGESTIVE, "suggestive")
            suggestive_all.append(loci)
            regions_all += regs
            say("", "loci")
    write_output(GWAS, "summary", pd.DataFrame(summaries), out)
    loci = pd.concat(loci_all, ignore_index=True) if loci_all else pd.DataFrame(
        columns=LOCI_COLUMNS)
    write_output(GWAS, "loci", loci, out)
    write_output(GWAS, "suggestive_loci", pd.concat(suggestive_all, ignore_index=True)
                 if suggestive_all else pd.DataFrame(columns=LOCI_COLUMNS), out)
    regions = pd.concat(regions_all, ignore_index=True) if regions_all else pd.DataFrame(
        columns=REGION_COLUMNS)
    write_output(GWAS, "regions", regions, out, float_format="%.6g")
    return summaries, int(len(loci))


LOCI_COLUMNS = ["phenotype", "locus_id", "lead_variant", "chromosome", "position", "p_value",
                "start", "end", "n_variants", "genes", "nearest_gene", "nearest_gene_distance"]
#: suggestive loci clumped per phenotype without a genome-wide one (the strongest first)
MAX_SUGGESTIVE = 10


def _loci_with_regions(ssf: pd.DataFrame, name: str, reader, samples: np.ndarray,
                       p_lead: float, window_kb: int, limit: int | None = None,
                       prefix: str = "locus") -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Clumped loci of ``name`` at ``p_lead`` with genes (``limit`` strongest, ids
    ``<prefix>1..``) and, per locus, the variants of its window with r2 to the lead."""
    loci = annotate_genes(clump(ssf, reader, p_lead, samples=samples, max_loci=limit))
    loci["locus_id"] = [f"{prefix}{i + 1}" for i in range(len(loci))]
    loci.insert(0, "phenotype", name)
    regions = []
    for _, lo in loci.iterrows():  # LD with each lead for the regional plots
        reg = locus_region(ssf, reader, lo["chromosome"], int(lo["position"]), window_kb,
                           samples)
        reg.insert(0, "phenotype", name)
        reg.insert(1, "locus_id", lo["locus_id"])
        reg.insert(2, "lead_variant", lo["lead_variant"])
        regions.append(reg)
    return loci, regions
