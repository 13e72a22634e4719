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
    Minus9Option,
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
    engine: Annotated[str | None, typer.Option("--engine", help="auto (default: plink2 on "
                                               "one machine when installed, else or for a "
                                               "Spark cluster hail) or a registered engine "
                                               "(gwas/engines: plink2, hail, ...).")]
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
    minus9_is_missing: Minus9Option = False,
) -> None:
    """Genome-wide association of one or more phenotypes (Hail or PLINK 2).

    --keep/--remove/--extract/--exclude/--chr filter samples and variants before QC with
    PLINK's semantics (counts of what each removed in gwas_report.json).

    Writes <pheno>.tsv.gz + -meta.yaml (GWAS-SSF), summary.tsv (samples, variants, lambda
    GC, mean chi2, genome-wide hits), loci.tsv (lead loci with genes), pcs.tsv,
    gwas_report.json (samples dropped, QC counts) and run.json.
    """
    from gwas.stages import GwasParams, run_gwas_stage
    from rnce_bag.core.stage import make_params

    overrides = list(set_ or [])
    if engine:
        overrides.append(f"engine={engine}")
    if spark_master:
        overrides.append(f"hail.spark_master={spark_master}")
    if minus9_is_missing:
        overrides.append("minus9_is_missing=true")
    run_gwas_stage(make_params(
        GwasParams, out=out, pheno=pheno, bfile=bfile, bgen=bgen, sample=sample, vcf=vcf,
        pheno_name=split_names(pheno_name), covar=covar, covar_name=split_names(covar_name),
        threads=threads, config=config, overrides=overrides, keep=keep, remove=remove,
        extract=extract, exclude=exclude, chr=chr_), echo=typer.echo)
