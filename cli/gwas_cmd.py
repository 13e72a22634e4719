"""``rnce-bag gwas``: QC, ancestry PCs, association, GWAS-SSF, lead loci with genes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app
from cli.options import (
    ChrOption,
    ExcludeOption,
    ExtractOption,
    KeepOption,
    RemoveOption,
    SetOption,
    split_names,
)


@app.command()
def gwas(
    pheno: Annotated[Path, typer.Option("--pheno", help="Phenotype file (PLINK 2 or TSV with "
                                        "IID).")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    bfile: Annotated[str | None, typer.Option("--bfile", help="PLINK 1 prefix (.bed/.bim/.fam)."
                                              )] = None,
    bgen: Annotated[str | None, typer.Option("--bgen", help="BGEN v1.2 file.")] = None,
    sample: Annotated[str | None, typer.Option("--sample", help=".sample file of --bgen.")]
    = None,
    vcf: Annotated[str | None, typer.Option("--vcf", help="VCF or VCF.gz.")] = None,
    pheno_name: Annotated[list[str] | None, typer.Option("--pheno-name", help="Phenotypes to "
                                                         "test (comma-separated or repeated; "
                                                         "default all).")] = None,
    covar: Annotated[Path | None, typer.Option("--covar", help="Covariate file.")] = None,
    covar_name: Annotated[list[str] | None, typer.Option("--covar-name", help="Covariates to "
                                                         "use (default all).")] = None,
    engine: Annotated[str | None, typer.Option("--engine", help="hail (default) or plink2.")]
    = None,
    spark_master: Annotated[str | None, typer.Option("--spark-master", help="Spark master URL "
                                                     "for Hail (default local[*]).")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="Threads for PLINK 2.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML (configs/gwas/).")]
    = None,
    set_: SetOption = None,
    keep: KeepOption = None,
    remove: RemoveOption = None,
    extract: ExtractOption = None,
    exclude: ExcludeOption = None,
    chr_: ChrOption = None,
) -> None:
    """Genome-wide association of one or more phenotypes (Hail or PLINK 2).

    --keep/--remove/--extract/--exclude/--chr filter samples and variants before QC with
    PLINK's semantics (counts of what each removed in gwas_report.json).

    Writes <pheno>.tsv.gz + -meta.yaml (GWAS-SSF), summary.tsv (samples, variants, lambda
    GC, mean chi2, genome-wide hits), loci.tsv (lead loci with genes), pcs.tsv,
    gwas_report.json (samples dropped, QC counts) and run.json.
    """
    from gwas.config import GwasConfig
    from gwas.filters import Filters
    from gwas.genotype_files import bfile_paths
    from gwas.run import GenotypeInput, run_gwas
    from rnce_bag.core.config import dump_config, load_config
    from rnce_bag.core.outdir import staged_run

    overrides = list(set_ or [])
    if engine:
        overrides.append(f"engine={engine}")
    if spark_master:
        overrides.append(f"hail.spark_master={spark_master}")
    cfg = load_config(config, GwasConfig, overrides)
    geno = GenotypeInput(bfile, bgen, sample, vcf)
    geno.check()
    filters = Filters(keep, remove, extract, exclude, chr_)
    inputs = [p for p in (pheno, covar, keep, remove, extract, exclude) if p] + (
        [p for p in bfile_paths(bfile) if p.suffix != ".bed"] if bfile else [])
    with staged_run(out, "gwas", config=dump_config(cfg), inputs=inputs) as (stage, record):
        report = run_gwas(geno, pheno, split_names(pheno_name), covar,
                          split_names(covar_name), cfg, stage,
                          threads, progress=lambda s: typer.echo(f"- {s}", err=True),
                          filters=filters)
        record.add_output(stage / "summary.tsv")
    qc = report["qc"]
    typer.echo(f"engine {cfg.engine}: {qc['samples_out']} samples, {qc['variants_out']} of "
               f"{qc['variants_in']} variants after QC (call rate "
               f"-{qc['variants_removed_call_rate']}, MAF -{qc['variants_removed_maf']}, "
               f"HWE -{qc['variants_removed_hwe']}"
               + (f", INFO -{qc['variants_removed_info']}" if "variants_removed_info" in qc
                  else "") + ")")
    for s in report["phenotypes"]:
        typer.echo(f"{s['phenotype']}: lambda GC {s['lambda_gc']:.3f}, {s['n_genome_wide']} "
                   f"variants p < {cfg.genome_wide_p:g}, min p {s['min_p']:.3g}")
    typer.echo(f"{report['n_loci']} lead loci -> {out / 'loci.tsv'}")
