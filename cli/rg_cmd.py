"""``rnce-bag rg``: genetic correlation by bivariate GREML."""

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
    check_greml_inputs,
    check_method_backend,
    split_names,
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
                                         "gcta64: --reml-bivar); ldsc-cli (LDSC, needs "
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
) -> None:
    """Genetic correlation of every pair of phenotypes -> rg.tsv and <p1>__<p2>.hsq."""
    from gwas.heritability.run import build_grm, estimate_rg
    from rnce_bag.core.outdir import staged_run

    check_method_backend(method, backend)
    from gwas.filters import Filters

    filters = Filters(keep, remove, extract, exclude, chr_)
    if method == "ldsc" and (filters.samples or filters.variants):
        raise typer.BadParameter("sample and variant filters apply to --method greml; LDSC "
                                 "reads summary statistics (filter them in the GWAS)",
                                 param_hint="--keep/--remove/--extract/--exclude/--chr")
    if method == "ldsc":
        from gwas.heritability.run import ldsc_genetic_correlation

        with staged_run(out, "rg", config={"method": method, "backend": backend},
                        inputs=list(sumstats or [])) as (stage, record):
            table = ldsc_genetic_correlation(list(sumstats or []), stage, bfile, ref_ld, w_ld,
                                             backend)
            record.add_output(stage / "rg.tsv")
        for _, r in table.iterrows():
            typer.echo(f"{r['p1']} x {r['p2']}: LDSC rg = {r['rg']:.3f} (SE {r['rg_se']:.3f}), "
                       f"p = {r['p']:.3g}  [{r['status']}]")
        return
    check_greml_inputs(pheno, bfile, grm)
    names, cnames = split_names(pheno_name), split_names(covar_name)
    with staged_run(out, "rg", config={"method": method, "backend": backend,
                                       "grm_cutoff": grm_cutoff,
                                       "filters": filters.config()},
                    inputs=[p for p in (pheno, covar, keep, remove, extract, exclude)
                           if p]) as (stage, record):
        mat, ids, _, prefix = build_grm(bfile, grm, stage, filters=filters)
        table = estimate_rg(mat, ids, pheno, names, covar, cnames, stage,
                            grm_cutoff if grm_cutoff > 0 else None, backend=backend,
                            grm_prefix=prefix, threads=threads)
        record.add_output(stage / "rg.tsv")
    for _, r in table.iterrows():
        if str(r["status"]).startswith(("ok", "not converged")):
            typer.echo(f"{r['p1']} x {r['p2']}: rg = {r['rg']:.3f} (SE {r['rg_se']:.3f}), "
                       f"p = {r['p']:.3g}, n = {r['n']}"
                       + ("" if r["status"] == "ok" else f"  [{r['status']}]"))
        else:
            typer.echo(f"{r['p1']} x {r['p2']}: {r['status']}")
