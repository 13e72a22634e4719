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
    KeepOption,
    RemoveOption,
    check_greml_inputs,
    check_method_backend,
    split_names,
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
                                         "gcta64); ldsc-cli (LDSC, needs ldsc.py).")]
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
) -> None:
    """SNP heritability of each phenotype -> heritability.tsv and <pheno>.hsq (GCTA layout)."""
    from gwas.heritability.run import build_grm, estimate_h2
    from rnce_bag.core.outdir import staged_run

    check_method_backend(method, backend)
    from gwas.filters import Filters

    filters = Filters(keep, remove, extract, exclude, chr_)
    if method == "ldsc" and (filters.samples or filters.variants):
        raise typer.BadParameter("sample and variant filters apply to --method greml; LDSC "
                                 "reads summary statistics (filter them in the GWAS)",
                                 param_hint="--keep/--remove/--extract/--exclude/--chr")
    if method == "ldsc":
        from gwas.heritability.run import ldsc_heritability

        with staged_run(out, "h2", config={"method": method, "backend": backend},
                        inputs=list(sumstats or [])) as (stage, record):
            table = ldsc_heritability(list(sumstats or []), stage, bfile, ref_ld, w_ld, backend)
            record.add_output(stage / "heritability.tsv")
        for _, r in table.iterrows():
            typer.echo(f"{r['phenotype']}: LDSC h2 = {r['h2']:.3f} (SE {r['h2_se']:.3f}), "
                       f"intercept {r['intercept']:.3f} (SE {r['intercept_se']:.3f})")
        return
    check_greml_inputs(pheno, bfile, grm)
    names, cnames = split_names(pheno_name), split_names(covar_name)
    with staged_run(out, "h2", config={"method": method, "backend": backend,
                                       "grm_cutoff": grm_cutoff,
                                       "filters": filters.config()},
                    inputs=[p for p in (pheno, covar, keep, remove, extract, exclude)
                           if p]) as (stage, record):
        mat, ids, m, prefix = build_grm(bfile, grm, stage, filters=filters)
        table = estimate_h2(mat, ids, m, prefix, pheno, names, covar, cnames, stage, backend,
                            grm_cutoff if grm_cutoff > 0 else None, threads=threads)
        record.add_output(stage / "heritability.tsv")
    for _, r in table.iterrows():
        if str(r["status"]).startswith("ok"):
            typer.echo(f"{r['phenotype']}: h2 = {r['h2']:.3f} (SE {r['h2_se']:.3f}), n = "
                       f"{r['n']}, LRT p = {r['pval']:.3g}"
                       + ("" if r["status"] == "ok" else f"  [{r['status']}]"))
        else:
            typer.echo(f"{r['phenotype']}: {r['status']}")
