"""``rnce-bag rg``: genetic correlation by bivariate GREML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app


@app.command("rg")
def rg(
    pheno: Annotated[Path, typer.Option("--pheno", help="Phenotype file with two or more "
                                        "traits.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    bfile: Annotated[str | None, typer.Option("--bfile", help="PLINK 1 prefix (GRM computed).")]
    = None,
    grm: Annotated[str | None, typer.Option("--grm", help="Binary GRM prefix.")] = None,
    pheno_name: Annotated[list[str] | None, typer.Option("--pheno-name")] = None,
    covar: Annotated[Path | None, typer.Option("--covar")] = None,
    covar_name: Annotated[list[str] | None, typer.Option("--covar-name")] = None,
    method: Annotated[str, typer.Option(help="greml.")] = "greml",
    grm_cutoff: Annotated[float, typer.Option(help="Relatedness cut-off; 0 keeps all.")]
    = 0.025,
) -> None:
    """Genetic correlation of every pair of phenotypes -> rg.tsv and <p1>__<p2>.hsq."""
    from gwas.heritability.run import build_grm, estimate_rg
    from rnce_bag.core.errors import InputError
    from rnce_bag.core.io import ensure_writable_dir
    from rnce_bag.core.provenance import RunRecord

    if method != "greml":
        raise typer.BadParameter("only 'greml' is available so far", param_hint="--method")
    if bool(bfile) == bool(grm):
        raise InputError("give exactly one of --bfile or --grm")
    ensure_writable_dir(out)
    names = [v for item in pheno_name or [] for v in item.split(",") if v] or None
    cnames = [v for item in covar_name or [] for v in item.split(",") if v] or None
    with RunRecord(out, "rg", config={"method": method, "grm_cutoff": grm_cutoff},
                   inputs=[p for p in (pheno, covar) if p]) as record:
        mat, ids, _, _ = build_grm(bfile, grm, out)
        table = estimate_rg(mat, ids, pheno, names, covar, cnames, out,
                            grm_cutoff if grm_cutoff > 0 else None)
        record.add_output(out / "rg.tsv")
    for _, r in table.iterrows():
        if r["status"] == "ok" or str(r["status"]).startswith("not converged"):
            typer.echo(f"{r['p1']} x {r['p2']}: rg = {r['rg']:.3f} (SE {r['rg_se']:.3f}), "
                       f"p = {r['p']:.3g}, n = {r['n']}"
                       + ("" if r["status"] == "ok" else f"  [{r['status']}]"))
        else:
            typer.echo(f"{r['p1']} x {r['p2']}: {r['status']}")
