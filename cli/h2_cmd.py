"""``rnce-bag h2``: SNP heritability by GREML (embedded AI-REML or gcta64)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app
from cli.options import (
    ChrOption,
    ExcludeOption,
    ExtractOption,
    GwasDirOption,
    KeepOption,
    Minus9Option,
    RemoveOption,
    genetic_params,
)


@app.command("h2")
def h2(
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    pheno: Annotated[Path | None, typer.Option("--pheno", help="Phenotype file (GREML).")]
    = None,
    sumstats: Annotated[list[Path] | None, typer.Option("--sumstats", help="Summary "
                                                        "statistics per trait (LDSC; "
                                                        "repeatable).")] = None,
    ref_ld: Annotated[str | None, typer.Option("--ref-ld", help="LD score fileset (LDSC); "
                                               "default: computed from --bfile.")] = None,
    w_ld: Annotated[str | None, typer.Option("--w-ld", help="Weight LD score fileset "
                                             "(LDSC).")] = None,
    bfile: Annotated[str | None, typer.Option("--bfile", help="PLINK 1 prefix: the GRM is "
                                              "computed (GCTA's estimator) and written.")]
    = None,
    grm: Annotated[str | None, typer.Option("--grm", help="Existing binary GRM prefix "
                                            "(.grm.bin/.grm.N.bin/.grm.id).")] = None,
    pheno_name: Annotated[list[str] | None, typer.Option("--pheno-name")] = None,
    covar: Annotated[Path | None, typer.Option("--covar", help="Covariates (text columns "
                                               "one-hot encoded).")] = None,
    covar_name: Annotated[list[str] | None, typer.Option("--covar-name")] = None,
    method: Annotated[str, typer.Option(help="greml (GRM + REML) or ldsc (summary "
                                        "statistics).")] = "greml",
    backend: Annotated[str, typer.Option(help="embedded (default); gcta (GREML, needs "
                                         "gcta64); bolt (BOLT-REML from --bfile, no "
                                         "dense GRM: large n); ldsc-cli (LDSC, needs "
                                         "ldsc.py).")]
    = "embedded",
    grm_cutoff: Annotated[float, typer.Option(min=0, max=1, help="Remove one of each pair "
                                              "related above this (GCTA's --grm-cutoff); 0 "
                                              "keeps all.")]
    = 0.025,
    threads: Annotated[int, typer.Option(min=1, help="Threads for gcta64.")] = 1,
    keep: KeepOption = None,
    remove: RemoveOption = None,
    extract: ExtractOption = None,
    exclude: ExcludeOption = None,
    chr_: ChrOption = None,
    minus9_is_missing: Minus9Option = False,
    gwas: GwasDirOption = None,
) -> None:
    """SNP heritability of each phenotype -> heritability.tsv and <pheno>.hsq (GCTA layout)."""
    from gwas.stages import H2Params, run_h2

    run_h2(genetic_params(H2Params, locals()), echo=typer.echo)
