"""``rnce-bag h2``: SNP heritability by GREML (embedded AI-REML or gcta64)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app


@app.command("h2")
def h2(
    pheno: Annotated[Path, typer.Option("--pheno", help="Phenotype file (PLINK 2 or TSV).")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    bfile: Annotated[str | None, typer.Option("--bfile", help="PLINK 1 prefix: the GRM is "
                                              "computed (GCTA's estimator) and written.")]
    = None,
    grm: Annotated[str | None, typer.Option("--grm", help="Existing binary GRM prefix "
                                            "(.grm.bin/.grm.N.bin/.grm.id).")] = None,
    pheno_name: Annotated[list[str] | None, typer.Option("--pheno-name")] = None,
    covar: Annotated[Path | None, typer.Option("--covar", help="Covariates (text columns "
                                               "one-hot encoded).")] = None,
    covar_name: Annotated[list[str] | None, typer.Option("--covar-name")] = None,
    method: Annotated[str, typer.Option(help="greml.")] = "greml",
    backend: Annotated[str, typer.Option(help="embedded (default) or gcta (needs gcta64).")]
    = "embedded",
    grm_cutoff: Annotated[float, typer.Option(help="Remove one of each pair related above "
                                              "this (GCTA's --grm-cutoff); 0 keeps all.")]
    = 0.025,
    threads: Annotated[int, typer.Option(help="Threads for gcta64.")] = 1,
) -> None:
    """SNP heritability of each phenotype -> heritability.tsv and <pheno>.hsq (GCTA layout)."""
    from gwas.heritability.run import build_grm, estimate_h2
    from rnce_bag.core.errors import InputError
    from rnce_bag.core.io import ensure_writable_dir
    from rnce_bag.core.provenance import RunRecord

    if method != "greml":
        raise typer.BadParameter("only 'greml' is available so far", param_hint="--method")
    if backend not in ("embedded", "gcta"):
        raise typer.BadParameter("expected embedded or gcta", param_hint="--backend")
    if bool(bfile) == bool(grm):
        raise InputError("give exactly one of --bfile or --grm")
    ensure_writable_dir(out)
    names = [v for item in pheno_name or [] for v in item.split(",") if v] or None
    cnames = [v for item in covar_name or [] for v in item.split(",") if v] or None
    with RunRecord(out, "h2", config={"method": method, "backend": backend,
                                      "grm_cutoff": grm_cutoff},
                   inputs=[p for p in (pheno, covar) if p]) as record:
        mat, ids, m, prefix = build_grm(bfile, grm, out)
        table = estimate_h2(mat, ids, m, prefix, pheno, names, covar, cnames, out, backend,
                            grm_cutoff if grm_cutoff > 0 else None, threads=threads)
        record.add_output(out / "heritability.tsv")
    for _, r in table.iterrows():
        if str(r["status"]).startswith("ok"):
            typer.echo(f"{r['phenotype']}: h2 = {r['h2']:.3f} (SE {r['h2_se']:.3f}), n = "
                       f"{r['n']}, LRT p = {r['pval']:.3g}"
                       + ("" if r["status"] == "ok" else f"  [{r['status']}]"))
        else:
            typer.echo(f"{r['phenotype']}: {r['status']}")
