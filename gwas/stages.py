"""The genetic stages as library functions: gwas, h2, rg, enrich, report
(see :mod:`rnce_bag.core.stage` for the contract).

The models hold exactly what the commands' flags hold; the functions check what the
flags cannot (one genotype source, a method with a backend that runs it), run the
stage into ``params.out`` (staged: nothing half-written is published) and return the
paths of its outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from gwas.config import (
    CLUSTER_GAP_KB,
    GENE_WINDOW_DOWN_KB,
    GENE_WINDOW_UP_KB,
    GwasConfig,
    with_engine,
)
from rnce_bag.core.errors import InputError
from rnce_bag.core.outputs import Output, StageSpec, output_path
from rnce_bag.core.stage import Echo, Outputs, StageParams, silent

#: a gwas --out's folder of what reruns reuse (Hail's MatrixTable and pruned variants)
CACHE_DIR = ".cache"
#: the backends each method runs on (h2 and rg alike)
BACKENDS = {"greml": ("embedded", "gcta", "bolt"), "ldsc": ("embedded", "ldsc-cli")}


def _listed(value):
    """One list file or several (the flag repeated) -> a list, ``None`` when absent."""
    if value is None or isinstance(value, list):
        return value or None
    return [value]


class FilterParams(StageParams):
    """PLINK-semantics sample and variant filters (``--keep`` ... ``--chr``); each list
    option takes one file or several, read as their union."""

    keep: list[Path] | None = None
    remove: list[Path] | None = None
    extract: list[Path] | None = None
    exclude: list[Path] | None = None
    chr: str | None = None

    _lists = field_validator("keep", "remove", "extract", "exclude", mode="before")(
        lambda cls, v: _listed(v))

    def filters(self):
        from gwas.filters import Filters

        return Filters(self.keep, self.remove, self.extract, self.exclude, self.chr)

    def filter_files(self) -> list[Path]:
        return [p for v in (self.keep, self.remove, self.extract, self.exclude) for p in v or ()]


class GwasParams(FilterParams):
    """Genome-wide association of one or more phenotypes."""

    pheno: Path
    bfile: str | None = None
    bgen: str | None = None
    sample: str | None = None
    vcf: str | None = None
    pheno_name: list[str] | None = None
    covar: Path | None = None
    covar_name: list[str] | None = None
    threads: int | None = Field(None, ge=1)
    config: Path | None = None
    overrides: list[str] = Field(default_factory=list, description="--set, --engine, ...")


def run_gwas_stage(params: GwasParams, echo: Echo = silent) -> Outputs:
    """QC, PCs, association, GWAS-SSF per phenotype, summary and lead loci."""
    from gwas.genotype_files import bfile_paths
    from gwas.run import GenotypeInput, run_gwas
    from rnce_bag.core.config import dump_config, load_config
    from rnce_bag.core.outdir import expected_writes, staged_run

    cfg, why = with_engine(load_config(params.config, GwasConfig, params.overrides))
    geno = GenotypeInput(params.bfile, params.bgen, params.sample, params.vcf)
    geno.check()
    inputs = [p for p in (params.pheno, params.covar) if p] + params.filter_files() + (
        [p for p in bfile_paths(params.bfile) if p.suffix != ".bed"] if params.bfile else [])
    with staged_run(params.out, "gwas", writes=expected_writes(GWAS),
                    protect=geno.files(), config=dump_config(cfg),
                    inputs=inputs) as (stage, record):
        report = run_gwas(geno, params.pheno, params.pheno_name, params.covar,
                          params.covar_name, cfg, stage, params.threads,
                          progress=lambda s: echo(f"- {s}"), filters=params.filters(),
                          # outside the staged folder: a rerun into this --out reuses it
                          cache_dir=Path(params.out) / CACHE_DIR, engine_reason=why)
        record.add_output(output_path(GWAS, "summary", stage))
    qc = report["qc"]
    echo(f"engine {cfg.engine}: {qc['samples_out']} samples, {qc['variants_out']} of "
         f"{qc['variants_in']} variants after QC (call rate "
         f"-{qc['variants_removed_call_rate']}, MAF -{qc['variants_removed_maf']}, "
         f"HWE -{qc['variants_removed_hwe']}"
         + (f", INFO -{qc['variants_removed_info']}" if "variants_removed_info" in qc
            else "") + ")")
    rel = report.get("relatedness")
    if rel and not rel["checked"]:
        echo(f"relatedness QC {rel['skipped']}")
    elif rel:
        echo(f"relatedness (KING-robust, cutoff {rel['king_cutoff']:g}): "
             f"{rel['related_pairs']} related pair(s), {rel['samples_removed_related']} "
             "sample(s) removed" + ("; pairs by degree " + ", ".join(
                 f"{d}: {n}" for d, n in rel["pairs_by_degree"].items())
                 if rel["pairs_by_degree"] else ""))
    for s in report["phenotypes"]:
        echo(f"{s['phenotype']}: lambda GC {s['lambda_gc']:.3f}, {s['n_genome_wide']} "
             f"variants p < {cfg.genome_wide_p:g}, min p {s['min_p']:.3g}")
    out = Path(params.out)
    echo(f"{report['n_loci']} lead loci -> {output_path(GWAS, 'loci', out)}")
    paths = {k: output_path(GWAS, k, out)
             for k in ("summary", "loci", "pcs", "covariates", "report")}
    for s in report["phenotypes"]:
        paths[f"sumstats:{s['phenotype']}"] = output_path(GWAS, "sumstats", out,
                                                          phenotype=s["phenotype"])
    return paths


GWAS = StageSpec("gwas", {
    "sumstats": Output("{phenotype}.tsv.gz", "sumstats"),
    "sumstats_index": Output("{phenotype}.tsv.gz.tbi", None, "tabix index of the "
                             "BGZF summary statistics"),
    "sumstats_meta": Output("{phenotype}-meta.yaml", None, "GWAS-SSF metadata"),
    "summary": Output("summary.tsv", "gwas_summary"),
    "loci": Output("loci.tsv", "loci"),
    "suggestive_loci": Output("loci_suggestive.tsv", "loci", "loci at the suggestive "
                              "threshold of phenotypes with no genome-wide one"),
    "regions": Output("regions.tsv.gz", "regions", "variants around each lead with "
                      "r2 to the lead (regional plots)"),
    "pcs": Output("pcs.tsv", None),
    "covariates": Output("covariates.tsv", "gwas_covar",
                         "the association's covariates with PCs (h2 and rg reuse them)"),
    "relatives": Output("relatives.tsv", "relatives", "relatedness QC: the pairs of third "
                        "degree or closer and the samples removed (qc.king_cutoff)"),
    "report": Output("gwas_report.json"),
}, GwasParams, run_gwas_stage)


class GeneticParams(FilterParams):
    """What ``h2`` and ``rg`` share: GREML on a GRM or LDSC on summary statistics."""

    pheno: Path | None = None
    sumstats: list[Path] = Field(default_factory=list)
    ref_ld: str | None = None
    w_ld: str | None = None
    bfile: str | None = None
    grm: str | None = None
    pheno_name: list[str] | None = None
    covar: Path | None = None
    covar_name: list[str] | None = None
    method: Literal["greml", "ldsc"] = "greml"
    backend: Literal["embedded", "gcta", "ldsc-cli", "bolt"] = "embedded"
    grm_cutoff: float = Field(0.025, ge=0, le=1)
    threads: int = Field(1, ge=1)
    minus9_is_missing: bool = Field(False, description="-9 in phenotype and covariate files "
                                    "is missing (gwas.inputs.missing_cells)")
    gwas: Path | None = Field(None, description="a finished gwas --out: its samples and "
                              "covariates (PCs included) are this run's (--gwas)")

    def with_gwas_design(self, echo: Echo = silent):
        """A copy whose ``covar`` is the finished GWAS's ``covariates.tsv`` (its analysed
        samples, its covariates with the PCs): h2/rg then fit the association's model."""
        if self.gwas is None:
            return self
        if self.method != "greml":
            raise InputError("--gwas applies to --method greml (LDSC reads the summary "
                             "statistics, which already carry the GWAS's design)")
        if self.covar is not None:
            raise InputError("give --gwas or --covar, not both: --gwas takes the GWAS run's "
                             "covariates (PCs included)")
        path = output_path(GWAS, "covariates", self.gwas)
        if not path.is_file():
            raise InputError(f"--gwas {self.gwas}: no {path.name} there (a finished "
                             "'rnce-bag gwas --out' holds one when it used covariates or PCs)",
                             hint="point --gwas at a finished gwas --out, or give --covar")
        with open(path, encoding="utf-8") as fh:
            names = fh.readline().rstrip("\n").split("\t")[1:]
        echo(f"--gwas {self.gwas}: the association's samples and covariates "
             f"({', '.join(names)})")
        return self.model_copy(update={"covar": path, "covar_name": None})

    def check(self) -> None:
        """The checks a flag parser cannot make (exit 2 with the flag named)."""
        if self.backend not in BACKENDS[self.method]:
            raise InputError(f"--backend {self.backend!r} does not run --method {self.method}"
                             f"; expected one of {', '.join(BACKENDS[self.method])}")
        f = self.filters()
        if self.method == "ldsc" and (f.samples or f.variants):
            raise InputError("--keep/--remove/--extract/--exclude/--chr apply to --method "
                             "greml; LDSC reads summary statistics (filter them in the GWAS)")
        if self.method == "greml":
            if self.pheno is None:
                raise InputError("--method greml needs --pheno")
            if bool(self.bfile) == bool(self.grm):
                raise InputError("give exactly one of --bfile or --grm")
        if self.backend == "bolt":  # BOLT-REML reads genotypes, never a GRM
            if not self.bfile:
                raise InputError("--backend bolt (BOLT-REML) needs --bfile: it fits the "
                                 "genotypes without a GRM")
            if f.samples or f.variants:
                raise InputError("--backend bolt does not take --keep/--remove/--extract/"
                                 "--exclude/--chr yet", hint="filter the fileset with "
                                 "plink2 --make-bed first, or use --backend embedded")

    def greml_config(self) -> dict:
        return {"method": self.method, "backend": self.backend,
                "grm_cutoff": self.grm_cutoff, "filters": self.filters().config(),
                "minus9_is_missing": self.minus9_is_missing,
                # what the fit adjusted for, read back by the report (it used to assume the
                # GWAS's covariates)
                "covariates": self.covariate_names()}

    def covariate_names(self) -> list[str]:
        """The covariate columns this run adjusts for (the file's, or --covar-name)."""
        if self.covar is None:
            return []
        if self.covar_name:
            return list(self.covar_name)
        from gwas.inputs import read_named_table

        return [c for c in read_named_table(self.covar, "covariate").columns
                if c not in ("FID", "IID")]


class H2Params(GeneticParams):
    """SNP heritability of each phenotype."""


class RgParams(GeneticParams):
    """Genetic correlation of every pair of phenotypes."""


def _genetic_stage(params: GeneticParams, spec: StageSpec, table: str, ldsc, greml, bolt):
    """Run ``ldsc(stage)``, ``bolt(stage)`` (BOLT-REML: no GRM) or ``greml(stage, grm, ids,
    m, prefix)`` in a staged ``out`` (the GRM built or read first); returns the table the
    function wrote."""
    from gwas.heritability.run import build_grm
    from rnce_bag.core.outdir import staged_run

    params.check()
    writes = [output_path(spec, table, ".").name]
    if params.method == "ldsc":
        config, inputs = {"method": params.method, "backend": params.backend}, params.sumstats
    else:
        config = params.greml_config()
        inputs = [p for p in (params.pheno, params.covar) if p] + params.filter_files()
        if params.bfile and spec.kind == "h2" and params.backend != "bolt":
            writes += [f"grm{ext}" for ext in (".grm.bin", ".grm.id", ".grm.N.bin")]
    protect = [f"{prefix}{ext}" for prefix in (params.bfile, params.grm) if prefix
               for ext in (".bed", ".bim", ".fam", ".grm.bin", ".grm.id", ".grm.N.bin")]
    with staged_run(params.out, spec.kind, writes=writes, protect=protect, config=config,
                    inputs=inputs) as (stage, record):
        if params.method == "ldsc":
            result = ldsc(stage)
        elif params.backend == "bolt":
            result = bolt(stage)
        else:
            result = greml(stage, *build_grm(params.bfile, params.grm, stage,
                                             filters=params.filters()))
        record.add_output(output_path(spec, table, stage))
    return result


def _note_bolt_samples(params: GeneticParams, echo: Echo) -> None:
    """Say that BOLT-REML applies no relatedness cut-off (it has no GRM to apply one to)."""
    if params.method == "greml" and params.backend == "bolt" and params.gwas is None:
        echo("--backend bolt: no --grm-cutoff is applied (BOLT-REML has no GRM); close "
             "relatives in the fileset stay in the fit: use --gwas DIR (the GWAS's KING "
             "QC) or a fileset of unrelated samples")


def _cutoff(params: GeneticParams) -> float | None:
    return params.grm_cutoff if params.grm_cutoff > 0 else None


def run_h2(params: H2Params, echo: Echo = silent) -> Outputs:
    """``heritability.tsv``, ``<pheno>.hsq`` (GCTA layout) and, from ``bfile``, ``grm.*``."""
    import pandas as pd

    from gwas.heritability.run import bolt_h2, estimate_h2, ldsc_heritability

    p = params.with_gwas_design(echo)
    _note_bolt_samples(p, echo)
    table = _genetic_stage(
        p, H2, "heritability",
        lambda stage: ldsc_heritability(p.sumstats, stage, p.bfile, p.ref_ld, p.w_ld,
                                        p.backend),
        lambda stage, mat, ids, m, prefix: estimate_h2(
            mat, ids, m, prefix, p.pheno, p.pheno_name, p.covar, p.covar_name, stage,
            p.backend, _cutoff(p), threads=p.threads, minus9=p.minus9_is_missing),
        lambda stage: bolt_h2(p.bfile, p.pheno, p.pheno_name, p.covar, p.covar_name, stage,
                              p.threads, p.minus9_is_missing))
    for _, r in table.iterrows():
        if p.method == "ldsc":
            echo(f"{r['phenotype']}: LDSC h2 = {r['h2']:.3f} (SE {r['h2_se']:.3f}), intercept "
                 f"{r['intercept']:.3f} (SE {r['intercept_se']:.3f})")
        elif str(r["status"]).startswith("ok"):
            echo(f"{r['phenotype']}: h2 = {r['h2']:.3f} (SE {r['h2_se']:.3f}), n = {r['n']}"
                 + ("" if pd.isna(r["pval"]) else f", LRT p = {r['pval']:.3g}")
                 + ("" if r["status"] == "ok" else f"  [{r['status']}]"))
        else:
            echo(f"{r['phenotype']}: {r['status']}")
    paths = {"heritability": output_path(H2, "heritability", p.out)}
    if p.method == "greml" and p.bfile and p.backend != "bolt":
        paths["grm"] = output_path(H2, "grm", p.out)
    return paths


H2 = StageSpec("h2", {
    "heritability": Output("heritability.tsv", "heritability"),
    "grm": Output("grm", None, "binary GRM prefix (GREML from --bfile)"),
}, H2Params, run_h2)


def run_rg(params: RgParams, echo: Echo = silent) -> Outputs:
    """``rg.tsv`` and ``<p1>__<p2>.hsq`` for every pair of phenotypes."""
    from gwas.heritability.run import bolt_rg, estimate_rg, ldsc_genetic_correlation

    p = params.with_gwas_design(echo)
    _note_bolt_samples(p, echo)
    table = _genetic_stage(
        p, RG, "rg",
        lambda stage: ldsc_genetic_correlation(p.sumstats, stage, p.bfile, p.ref_ld, p.w_ld,
                                               p.backend),
        lambda stage, mat, ids, _m, prefix: estimate_rg(
            mat, ids, p.pheno, p.pheno_name, p.covar, p.covar_name, stage, _cutoff(p),
            backend=p.backend, grm_prefix=prefix, threads=p.threads,
            minus9=p.minus9_is_missing),
        lambda stage: bolt_rg(p.bfile, p.pheno, p.pheno_name, p.covar, p.covar_name, stage,
                              p.threads, p.minus9_is_missing))
    for _, r in table.iterrows():
        if p.method == "ldsc":
            echo(f"{r['p1']} x {r['p2']}: LDSC rg = {r['rg']:.3f} (SE {r['rg_se']:.3f}), "
                 f"p = {r['p']:.3g}  [{r['status']}]")
        elif str(r["status"]).startswith(("ok", "not converged")):
            echo(f"{r['p1']} x {r['p2']}: rg = {r['rg']:.3f} (SE {r['rg_se']:.3f}), "
                 f"p = {r['p']:.3g}, n = {r['n']}"
                 + ("" if r["status"] == "ok" else f"  [{r['status']}]"))
        else:
            echo(f"{r['p1']} x {r['p2']}: {r['status']}")
    return {"rg": output_path(RG, "rg", p.out)}


RG = StageSpec("rg", {
    "rg": Output("rg.tsv", "genetic_correlation"),
}, RgParams, run_rg)


class EnrichParams(FilterParams):
    """Gene-level association and cell-type enrichment of one trait: the variant filters
    choose the variants tested; ``keep``/``remove`` choose the LD reference's samples of
    the gene test (the summary statistics' samples were the GWAS's)."""

    sumstats: Path
    bfile: str
    celltypes: list[Path] = Field(min_length=1)
    build: Literal["GRCh37", "GRCh38"] = "GRCh37"
    window_up_kb: int = Field(GENE_WINDOW_UP_KB, ge=0)
    window_down_kb: int = Field(GENE_WINDOW_DOWN_KB, ge=0)
    cluster_gap_kb: int = Field(CLUSTER_GAP_KB, ge=0)
    ldsc_seg: bool = False
    ld_cache: Path | None = None


def trait_of(sumstats: Path) -> str:
    """The trait a summary-statistics file holds, by its name (``BAG_FS.tsv.gz``)."""
    import re

    return re.sub(r"(\.tsv|\.txt|\.glm\.linear|\.regenie)?(\.gz|\.bgz)?$", "",
                  Path(sumstats).name)


def run_enrich_stage(params: EnrichParams, echo: Echo = silent) -> Outputs:
    """``genes.tsv`` and ``celltypes.tsv`` (one-sided p, Bonferroni and FDR)."""
    from gwas.enrich_run import run_enrich
    from rnce_bag.core.outdir import expected_writes, staged_run
    out = Path(params.out)
    with staged_run(out, "enrich", writes=expected_writes(ENRICH),
                    protect=[f"{params.bfile}{e}" for e in (".bed", ".bim", ".fam")],
                    config={"trait": trait_of(params.sumstats), "build": params.build,
                            "window_up_kb": params.window_up_kb,
                            "window_down_kb": params.window_down_kb,
                            "cluster_gap_kb": params.cluster_gap_kb},
                    inputs=[params.sumstats, *params.celltypes, *params.filter_files()],
                    tools=()) as (stage, record):
        res = run_enrich(params.sumstats, params.bfile, params.celltypes, stage, params.build,
                         params.window_up_kb, params.window_down_kb, params.cluster_gap_kb,
                         params.ldsc_seg, params.ld_cache, filters=params.filters())
        if res.filter_counts:
            record.data["config"]["filters"] = res.filter_counts
        record.add_output(output_path(ENRICH, "celltypes", stage))
    if res.filter_counts:
        echo(f"filters: {res.n_variants[0]} of {res.n_variants[1]} variants kept; "
             f"{res.filter_counts}")
    for info in res.tables:
        echo(f"{info['name']}: {info['n_genes']} genes ({info['id_type']} ids, "
             f"{info['n_unmapped']} unmapped)")
    echo(f"{len(res.genes)} genes tested; inflation of gene z^2: {res.gene_inflation:.3f}")
    for _, r in res.celltypes.sort_values("p_value").head(5).iterrows():
        echo(f"{r['dataset']} {r['cell_type']} ({r['method']}): beta {r['beta']:+.3g} "
             f"(SE {r['beta_se']:.3g}), p = {r['p_value']:.3g}, FDR {r['p_fdr']:.3g}")
    return {k: output_path(ENRICH, k, out) for k in ("genes", "celltypes")}


ENRICH = StageSpec("enrich", {
    "genes": Output("genes.tsv", "genes"),
    "celltypes": Output("celltypes.tsv", "celltypes"),
}, EnrichParams, run_enrich_stage)


__all__ = ["BACKENDS", "EnrichParams", "GwasParams", "H2Params", "RgParams",
           "run_enrich_stage", "run_gwas_stage", "run_h2", "run_rg"]
