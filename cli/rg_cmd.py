"""``rnce-bag rg``: genetic correlation by bivariate GREML (embedded, GCTA or BOLT-REML)
or LD score regression."""

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


@app.command("rg")
def rg(
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    pheno: Annotated[Path | None, typer.Option("--pheno", help="Phenotypes, two or more "
                                               "(GREML).")] = None,
    sumstats: Annotated[list[Path] | None, typer.Option("--sumstats", help="Summary "
                                                        "statistics per trait (LDSC).")]
    = None,
    ref_ld: Annotated[str | None, typer.Option("--ref-ld", help="LD score fileset (LDSC).")]
    = None,
    w_ld: Annotated[str | None, typer.Option("--w-ld", help="Weight LD score fileset.")]
    = None,
    backend: Annotated[str, typer.Option(help="embedded (default); gcta (GREML, needs "
                                         "gcta64: --reml-bivar); bolt (BOLT's two-trait "
                                         "REML from --bfile, no GRM); ldsc-cli (LDSC, needs "
                                         "ldsc.py).")]
    = "embedded",
    bfile: Annotated[str | None, typer.Option("--bfile", help="PLINK 1 prefix (GRM computed).")]
    = None,
    grm: Annotated[str | None, typer.Option("--grm", help="Binary GRM prefix.")] = None,
    pheno_name: Annotated[list[str] | None, typer.Option("--pheno-name")] = None,
    covar: Annotated[Path | None, typer.Option("--covar")] = None,
    covar_name: Annotated[list[str] | None, typer.Option("--covar-name")] = None,
    method: Annotated[str, typer.Option(help="greml (GRM + REML) or ldsc (summary "
                                        "statistics).")] = "greml",
    grm_cutoff: Annotated[float, typer.Option(min=0, max=1, help="Relatedness cut-off; 0 "
                                              "keeps all.")]
    = 0.025,
    keep: KeepOption = None,
    remove: RemoveOption = None,
    extract: ExtractOption = None,
    exclude: ExcludeOption = None,
    chr_: ChrOption = None,
    threads: Annotated[int, typer.Option(min=1, help="Threads for gcta64.")] = 1,
    minus9_is_missing: Minus9Option = False,
    gwas: GwasDirOption = None,
) -> None:
    """Genetic correlation of every pair of phenotypes -> rg.tsv and <p1>__<p2>.hsq."""
    from gwas.stages import RgParams, run_rg

    run_rg(genetic_params(RgParams, locals()), echo=typer.echo)
