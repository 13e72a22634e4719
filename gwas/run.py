"""``rnce-bag gwas``: inputs -> QC -> ancestry PCs -> association -> GWAS-SSF -> loci.

Both engines share the input handling (:mod:`gwas.inputs`), the output format
(:mod:`gwas.sumstats`) and the loci (:mod:`gwas.loci`); they differ in how QC, PCA
and the regression are computed (PLINK 2 subprocesses or Hail on Spark).
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
from gwas.filters import Filters, filter_samples, filter_variants, parse_chromosomes
from gwas.genotype_files import (
    AUTOSOMES,
    BFILE_SUFFIXES,
    PLACEHOLDER,
    expand,
    genotype_paths,
    is_template,
)
from gwas.inputs import load_covariates, load_phenotypes, match_samples, warn_fid_mismatch
from gwas.loci import annotate_genes, clump
from gwas.plink_io import open_bed, read_fam
from gwas.regions import REGION_COLUMNS, locus_region
from gwas.sumstats import summarise, unambiguous_rsids, write_ssf
from rnce_bag.core.errors import InputError
from rnce_bag.core.io import write_table, write_text
from rnce_bag.core.logging import Heartbeat
from rnce_bag.core.names import file_stem

log = logging.getLogger(__name__)
Progress = Callable[[str], None]

#: the association's covariates (with PCs), which GREML h2 and rg reuse
COVARIATES_FILE = "covariates.tsv"


@dataclass
class GenotypeInput:
    """One of ``bfile`` (prefix), ``bgen`` + ``sample``, or ``vcf``.

    Each may be a per-chromosome template (``geno/chr{chrom}``): :meth:`per_file` expands
    it to one input per chromosome file, which the engines analyse together.
    """

    bfile: str | None = None
    bgen: str | None = None
    sample: str | None = None
    vcf: str | None = None

    def check(self) -> None:
        given = [x for x in (self.bfile, self.bgen, self.vcf) if x]
        if len(given) != 1:
            raise InputError("give exactly one of --bfile, --bgen (with --sample) or --vcf")
        if self.bgen and not self.sample:
            raise InputError("--bgen needs --sample (the .sample file)")
        for f in genotype_paths(self.bfile, self.bgen, self.sample, self.vcf):
            if not f.is_file():
                raise InputError(f"genotype file '{f}' not found")
            if self.vcf and f.suffix in (".gz", ".bgz"):
                with open(f, "rb") as fh:
                    if fh.read(2) != b"\x1f\x8b":
                        raise InputError(f"--vcf '{f}' is named {f.suffix} but is not gzip "
                                         "(BGZF) compressed",
                                         hint="compress it with 'bgzip', or drop the suffix "
                                              "if it is plain text")
        if self.bfile:  # .bed size against .bim x .fam, magic bytes, .bim fields, same .fam
            open_bed(self.bfile)
            return
        if self.bgen:  # the IDs a BGEN stores must be the .sample file's, in its order
            for part in self.per_file():
                _check_bgen_samples(part.bgen, part.sample, part.samples())
        if self.split:
            parts = self.per_file()
            first = parts[0].samples()
            for part in parts[1:]:
                ids = part.samples()
                if len(ids) != len(first) or not (ids["IID"].to_numpy()
                                                  == first["IID"].to_numpy()).all():
                    raise InputError(f"{part.bgen or part.vcf}: the samples (or their order) "
                                     f"differ from {parts[0].bgen or parts[0].vcf}",
                                     hint="per-chromosome files must hold the same samples "
                                          "in the same order")

    @property
    def split(self) -> bool:
        """Whether the genotypes come as one file per chromosome."""
        return any(is_template(x) for x in (self.bfile, self.bgen, self.vcf))

    def files(self) -> list[Path]:
        """Every file of this genotype source (templates expanded)."""
        return genotype_paths(self.bfile, self.bgen, self.sample, self.vcf)

    def per_file(self, autosomes: bool = False) -> list[GenotypeInput]:
        """One input per chromosome file (the input itself if it is one file); with
        ``autosomes``, the files of chromosomes 1-22 only (what the association tests)."""
        main = self.bfile or self.bgen or self.vcf
        if not is_template(main):
            return [self]
        suffixes = BFILE_SUFFIXES if self.bfile else ("",)
        option = "--bfile" if self.bfile else "--bgen" if self.bgen else "--vcf"
        files = expand(str(main), suffixes, option)
        parts = []
        for chrom, path in files.files:
            if autosomes and chrom not in AUTOSOMES:
                continue
            sample = self.sample.replace(PLACEHOLDER, chrom) if self.sample else None
            parts.append(GenotypeInput(path if self.bfile else None,
                                       path if self.bgen else None, sample,
                                       path if self.vcf else None))
        return parts

    def missing_autosomes(self) -> list[str]:
        """Autosomes a per-chromosome template has no file for."""
        main = self.bfile or self.bgen or self.vcf
        if not is_template(main):
            return []
        suffixes = BFILE_SUFFIXES if self.bfile else ("",)
        return list(expand(str(main), suffixes).missing_autosomes)

    def samples(self) -> pd.DataFrame:
        """``FID IID`` of the genotyped samples, in file order."""
        if self.split:
            return self.per_file()[0].samples()
        if self.bfile:
            return read_fam(self.bfile)[["FID", "IID"]]
        if self.bgen:
            return read_oxford_sample(self.sample)
        import gzip
        import zlib

        opener = gzip.open if str(self.vcf).endswith((".gz", ".bgz")) else open
        try:
            with opener(self.vcf, "rt") as fh:
                for line in fh:
                    if line.startswith("#CHROM"):
                        ids = line.rstrip("\n").split("\t")[9:]
                        return pd.DataFrame({"FID": ids, "IID": ids})
                    if not line.startswith("#"):
                        break
        except (EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError) as exc:
            raise InputError(f"--vcf '{self.vcf}': its header cannot be read ({exc})",
                             hint="check that the file is a complete VCF") from None
        raise InputError(f"--vcf '{self.vcf}': no #CHROM header line before the first record",
                         hint="a VCF names its samples on the '#CHROM POS ID ...' line")


def read_oxford_sample(path: str | os.PathLike[str]) -> pd.DataFrame:
    """``FID IID`` of an Oxford ``.sample`` file (header line, type line, then ``ID_1
    [ID_2 ...]`` per sample; IID is ``ID_2`` when present), read through the guarded
    text reader (encodings, compression, empty files: exit 2 naming the line)."""
    from rnce_bag.core.textfile import read_text_file

    lines = [ln.split() for ln in read_text_file(path, "--sample file").splitlines()
             if ln.strip()]
    if len(lines) < 3 or not lines[0] or lines[0][0] != "ID_1":
        raise InputError(f"--sample file '{path}': not an Oxford .sample file (a header "
                         "'ID_1 ...', a type line '0 ...', then one line per sample)")
    two = len(lines[0]) > 1 and lines[0][1] == "ID_2"
    short = next((i for i, f in enumerate(lines[2:], start=3) if two and len(f) < 2), None)
    if short is not None:
        raise InputError(f"--sample file '{path}', line {short}: no ID_2 field")
    return pd.DataFrame({"FID": [f[0] for f in lines[2:]],
                         "IID": [f[1] if two else f[0] for f in lines[2:]]}, dtype=object)


def _check_bgen_samples(bgen: str | None, sample: str | None, listed: pd.DataFrame) -> None:
    """The IDs stored in ``bgen`` (if any) equal the ``.sample`` file's, in order."""
    from gwas.genotype_files import bgen_sample_ids

    stored = bgen_sample_ids(bgen)
    if stored is None:
        return
    if len(stored) != len(listed):
        raise InputError(f"{bgen} stores {len(stored)} samples; --sample {sample} lists "
                         f"{len(listed)}", hint="give the .sample file written with this BGEN")
    for column in ("IID", "FID"):
        if list(listed[column].astype(str)) == stored:
            return
    iid = listed["IID"].astype(str).tolist()
    i = next(k for k, (a, b) in enumerate(zip(stored, iid, strict=True)) if a != b)
    raise InputError(f"{bgen}: sample {i + 1} stored in the BGEN is {stored[i]!r}, but line "
                     f"{i + 3} of --sample {sample} names {iid[i]!r}; the genotypes would go "
                     "to the wrong people",
                     hint="give the .sample file written with this BGEN (per-chromosome "
                          "files with different sample orders need one .sample each: "
                          "--sample 'chr{chrom}.sample')")


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


def _run_gwas(geno: GenotypeInput, pheno_path: Path, pheno_names: list[str] | None,
              covar_path: Path | None, covar_names: list[str] | None, cfg: GwasConfig,
              out: Path, threads: int | None, progress: Progress | None,
              filters: Filters | None, cache_dir: Path | None,
              engine_reason: str | None = None) -> dict:
    out = Path(os.path.abspath(out))  # engines (Spark executors) never see a relative path
    timings: dict[str, float] = {}
    clock = [time.perf_counter()]

    def say(msg: str, step: str | None = None) -> None:
        """Report progress; with ``step``, book the time since the last booking to it."""
        if step is not None:
            now = time.perf_counter()
            timings[step] = round(timings.get(step, 0.0) + now - clock[0], 2)
            clock[0] = now
        if progress is not None and msg:
            progress(msg)

    geno.check()
    cfg, why = with_engine(cfg)  # the caller may have resolved it already: its reason
    say(f"engine: {cfg.engine} ({engine_reason or why})")
    flt = filters or Filters()
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
    other = None  # variants outside chromosomes 1-22 (known up front for PLINK 1 input)
    missing_chroms = geno.missing_autosomes()
    if missing_chroms:
        say(f"no genotype file for chromosome(s) {', '.join(missing_chroms)}: the scan covers "
            "the other chromosomes only", "inputs")
    shared: set[str] = set()  # variant IDs the input gives to several records
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
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    say(f"{len(samples.iids)} samples with genotypes, covariates and a phenotype", "inputs")
    variant_keep = None
    if flt.variants:
        table = _variant_table(geno, work, threads)
        mask, vcounts = filter_variants(table, flt)
        filter_counts.update(vcounts)
        say(f"--chr/--extract/--exclude: {int(mask.sum())} of {len(table)} variants kept",
            "inputs")
        variant_keep = table.loc[mask, ["chromosome", "position", "variant_id", "ref", "alt"]]
    if cfg.engine == "plink2":
        results, counts, pcs = _plink2(geno, fam, samples, cfg, work, threads, say,
                                       variant_keep, shared)
        if other is not None:  # as the Hail engine reports it
            counts["variants_not_autosomal"] = other
    else:
        cache = Path(os.path.abspath(cache_dir)) if cache_dir else work
        cache.mkdir(parents=True, exist_ok=True)
        results, counts, pcs = _hail(geno, samples, cfg, out, work, cache, say, variant_keep)
    if counts.get("variants_not_biallelic"):
        say(f"{counts['variants_not_biallelic']} multi-allelic variants left out (the "
            "association tests one ALT allele; split them first, e.g. bcftools norm -m -any, "
            "to test each)")
    if pcs is not None:
        write_table(pcs, out / "pcs.tsv")
    used = _with_pcs(samples, pcs)
    if used is not None and used.shape[1] > 1:
        # exactly the covariates of the association, for h2/rg on the same model
        write_table(used, out / COVARIATES_FILE, float_format="%.10g")
    for name in list(results):  # rsid NA where it names no single variant ('.', shared)
        results[name], no_rsid = unambiguous_rsids(results[name], shared)
        counts["variants_without_rsid"] = max(no_rsid, counts.get("variants_without_rsid", 0))
    if counts.get("variants_without_rsid"):
        say(f"{counts['variants_without_rsid']} variants have no rsid that names them alone "
            "(none, '.', or shared): NA in the summary statistics, where variant_id "
            "(chromosome_position_other_effect) names them")
    summaries, loci_all, regions_all, suggestive_all = [], [], [], []
    reader = open_bed(geno.bfile) if geno.bfile else None
    for name, ssf in results.items():
        write_ssf(ssf, out / f"{file_stem(name)}.tsv.gz", {
            "trait_description": [name], "samples": [{"sample_size": int(ssf["n"].max())}],
            "analysis_software": f"rnce-bag gwas --engine {cfg.engine}",
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
    summary = pd.DataFrame(summaries)
    write_table(summary, out / "summary.tsv")
    loci = pd.concat(loci_all, ignore_index=True) if loci_all else pd.DataFrame(
        columns=LOCI_COLUMNS)
    write_table(loci, out / "loci.tsv")
    write_table(pd.concat(suggestive_all, ignore_index=True) if suggestive_all
                else pd.DataFrame(columns=LOCI_COLUMNS), out / "loci_suggestive.tsv")
    regions = pd.concat(regions_all, ignore_index=True) if regions_all else pd.DataFrame(
        columns=REGION_COLUMNS)
    write_table(regions, out / "regions.tsv.gz", float_format="%.6g")
    report = {"engine": cfg.engine, "samples_dropped": samples.dropped, "qc": counts,
              "genotype_files": len(geno.per_file()), "chromosomes_missing": missing_chroms,
              "filters": {**flt.config(), "removed": filter_counts},
              "timings_s": timings,
              "n_pcs": 0 if pcs is None else pcs.shape[1] - 1,
              "phenotypes": summaries, "n_loci": int(len(loci)),
              **({"hail_blas": _hail_blas(out)} if cfg.engine == "hail" else {}),
              "note": "Hail mean-imputes missing genotype calls per variant; PLINK 2 drops "
                      "those samples per variant" if cfg.engine == "hail" else ""}
    write_text(out / "gwas_report.json", json.dumps(report, indent=2, default=str) + "\n")
    return report


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


def _hail_blas(out: Path) -> str:
    """``native`` or ``java`` (F2J, ~20x slower block products): what the driver's
    ``hail.log`` says. On a local master that is all of Hail; a remote cluster's executors
    log their own BLAS, so ``unused`` or ``native`` there says nothing about them."""
    from gwas.engines.hail_blas import blas_from_log

    path = out / "hail.log"
    used = blas_from_log(path.read_text(errors="replace")) if path.exists() else "unused"
    if used == "java":
        log.warning("Hail used pure-Java BLAS (no loadable libgfortran.so.3 and no C "
                    "compiler to build the shim): LD pruning and PCA run ~20x slower")
    return used


def covariate_names(gwas_dir: Path) -> list[str]:
    """The covariates a finished GWAS used (the header of its ``covariates.tsv``)."""
    path = Path(gwas_dir) / COVARIATES_FILE
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        return fh.readline().rstrip("\n").split("\t")[1:]


def _with_pcs(samples, pcs: pd.DataFrame | None) -> pd.DataFrame:
    cov = samples.covar
    if pcs is None:
        return cov
    return cov.merge(pcs, on="IID", how="inner")


def _variant_table(geno: GenotypeInput, work: Path, threads: int | None) -> pd.DataFrame:
    """``chromosome position variant_id`` of every input variant (for the filters)."""
    if geno.bfile:
        bim = open_bed(geno.bfile).bim
        return pd.DataFrame({"chromosome": bim["chromosome"].to_numpy(),
                             "position": bim["position"].astype(np.int64).to_numpy(),
                             "variant_id": bim["id"].to_numpy(),
                             # PLINK 2 reads A2 as REF, A1 as ALT
                             "ref": bim["a2"].to_numpy(), "alt": bim["a1"].to_numpy()})
    from gwas.engines import plink2

    # the variants as PLINK 2 names them (IDs assigned to '.' as in the association)
    return pd.concat([plink2.variant_table(plink2.genotype_args(None, g.bgen, g.sample, g.vcf),
                                           work / "filters" / str(i), threads)
                      for i, g in enumerate(geno.per_file())], ignore_index=True)


def _plink2(geno, fam, samples, cfg, work, threads, say, variant_keep=None, shared=None):
    from gwas.engines import plink2
    from gwas.sumstats import from_plink2_glm

    parts = geno.per_file(autosomes=True)
    args = [plink2.genotype_args(g.bfile, g.bgen, g.sample, g.vcf) for g in parts]
    if not geno.bfile:  # the IDs PLINK 2 itself assigns to BGEN/VCF samples
        fam = plink2.sample_ids(args[0], work / "qc", threads)
    plink2.check_quantitative(samples.pheno)  # before any plink2 work
    say("QC (plink2)", "inputs")
    original = None  # chrom:pos:ref:alt -> the input's ID, when keyed on alleles
    try:
        kept, extract, counts = plink2.qc(args, fam, samples, cfg, work / "qc", threads,
                                          variant_keep)
    except plink2.AmbiguousIds:
        # '.' or one ID on several records: --extract/--exclude and QC cannot key on the ID,
        # so PLINK 2 names every variant chrom:pos:ref:alt; the output keeps the input IDs
        table = _variant_table(geno, work, threads)
        shared_ids = table["variant_id"].astype(str)
        n_shared = int((shared_ids.duplicated(keep=False) | (shared_ids == ".")).sum())
        say(f"{n_shared} variants have an ID shared with another ('.' included): variants "
            "are keyed on chromosome:position:alleles")
        args = [plink2.genotype_args(g.bfile, g.bgen, g.sample, g.vcf, keyed=True)
                for g in parts]
        original = dict(zip(plink2.allele_key(table), table["variant_id"], strict=True))
        if shared is not None:  # IDs of several records: no rsid in the output
            shared.update(shared_ids.loc[shared_ids.duplicated(keep=False)])
        if variant_keep is not None:
            variant_keep = variant_keep.assign(variant_id=plink2.allele_key(variant_keep))
        kept, extract, counts = plink2.qc(args, fam, samples, cfg, work / "qc", threads,
                                          variant_keep)
        counts["variants_ids_shared"] = n_shared
    say("", "qc")
    keep = work / "qc" / "keep.tsv"
    pcs = None
    if cfg.pca.n_pcs > 0:
        say(f"{cfg.pca.n_pcs} ancestry PCs (plink2)")
        pcs = plink2.pca(args, keep, extract, cfg, len(kept), work / "qc", threads)
        say("", "pca")
    covar = _with_pcs(samples, pcs)
    covar = covar[covar["IID"].isin(kept)]
    pheno = samples.pheno[samples.pheno["IID"].isin(kept)]
    say("association (plink2 --glm)")
    paths = plink2.glm(args, keep, extract, pheno, covar, fam, work, threads)
    say("", "association")
    results = {name: pd.concat([from_plink2_glm(p) for p in ps], ignore_index=True)
               for name, ps in paths.items()}
    if original is not None:  # the input's own IDs back
        for ssf in results.values():
            ssf["rsid"] = ssf["rsid"].map(original).fillna(ssf["rsid"])
    say("", "read_results")
    return results, counts, pcs


def _hail(geno, samples, cfg, out, work, cache, say, variant_keep=None):
    from gwas.engines import hail as engine

    # every path handed to Hail is absolute (or a URI): Spark executors resolve a relative
    # one in their own working folder, which on a cluster is not ours
    tmp_dir = engine.absolute(cfg.hail.tmp_dir) if cfg.hail.tmp_dir else str(work / "hail-tmp")
    engine.check_shared_tmp(cfg.hail.spark_master, tmp_dir, explicit=bool(cfg.hail.tmp_dir))
    hl = engine.init_hail(cfg.hail.spark_master, tmp_dir=tmp_dir, log_path=out / "hail.log",
                          driver_memory_gb=cfg.hail.driver_memory_gb, quiet=cfg.hail.quiet,
                          native_lib_dir=cfg.hail.native_lib_dir)
    say("importing genotypes (Hail)", "inputs")
    parts = geno.per_file(autosomes=True)

    def files(kind: str) -> list[str] | None:  # absolute: executors resolve them
        return [engine.absolute(getattr(g, kind)) for g in parts] if getattr(geno, kind) \
            else None

    mt = engine.import_genotypes(hl, cache, files("bfile"), files("bgen"),
                                 engine.absolute(parts[0].sample) if geno.sample else None,
                                 files("vcf"))
    say("QC (Hail)", "import")
    mt, counts = engine.hail_qc(hl, mt, samples.iids, cfg.qc, work, variant_keep)
    say("", "qc")
    pcs = None
    if cfg.pca.n_pcs > 0:
        say(f"{cfg.pca.n_pcs} ancestry PCs (Hail hwe_normalized_pca)")
        key = None
        if variant_keep is None:  # a filtered variant set is not worth a cache entry
            import hashlib

            ident = json.dumps([engine.import_key(files("bfile"), files("bgen"),
                                                  parts[0].sample if geno.sample else None,
                                                  files("vcf")),
                                sorted(map(str, mt.s.collect())), cfg.qc.model_dump(),
                                cfg.pca.model_dump(exclude={"n_pcs"})])
            key = hashlib.sha1(ident.encode()).hexdigest()[:12]
        pcs = engine.hail_pca(hl, mt, cfg.pca, cache, key)
        say("", "pca")
    kept = set(mt.s.collect())
    covar = _with_pcs(samples, pcs)
    covar = covar[covar["IID"].isin(kept)]
    pheno = samples.pheno[samples.pheno["IID"].isin(kept)]
    say("association (Hail linear_regression_rows)")
    from gwas.sumstats import to_ssf

    raw = engine.hail_linear_regression(hl, mt, pheno, covar, work)
    say("", "association")
    results = {k: to_ssf(v, f"Hail results for {k}") for k, v in raw.items()}
    say("", "read_results")
    return results, counts, pcs
