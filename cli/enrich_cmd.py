"""``rnce-bag enrich``: gene-level association and cell-type enrichment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app
from cli.options import ChrOption, ExcludeOption, ExtractOption


@app.command()
def enrich(
    sumstats: Annotated[Path, typer.Option("--sumstats", help="Summary statistics (GWAS-SSF or "
                                           "any format rnce-bag reads).")],
    bfile: Annotated[str, typer.Option("--bfile", help="LD reference genotypes (the cohort's "
                                       "own by default in the pipeline).")],
    celltypes: Annotated[list[Path], typer.Option("--celltypes", help="FUMA-format table "
                                                  "(GENE, cell types, Average); repeatable.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    build: Annotated[str, typer.Option(help="Genome build of the sumstats: GRCh37 or GRCh38.")]
    = "GRCh37",
    window_up_kb: Annotated[int, typer.Option(help="Gene window upstream (kb).")] = 35,
    window_down_kb: Annotated[int, typer.Option(help="Gene window downstream (kb).")] = 10,
    cluster_gap_kb: Annotated[int, typer.Option(help="Genes closer than this share a cluster "
                                                "for the robust SEs.")] = 1000,
    ldsc_seg: Annotated[bool, typer.Option("--ldsc-seg/--no-ldsc-seg", help="Also run LDSC-SEG "
                                           "(LD scores from --bfile; slower).")] = False,
    extract: ExtractOption = None,
    exclude: ExcludeOption = None,
    chr_: ChrOption = None,
    ld_cache: Annotated[Path | None, typer.Option("--ld-cache", help="Folder to keep LD "
                                                  "scores in and reuse (they depend on "
                                                  "--bfile and the cell-type tables, not on "
                                                  "the trait).")] = None,
) -> None:
    """MAGMA-style gene test (mean chi^2, LD-aware) -> genes.tsv; gene-property regression
    per cell type (and LDSC-SEG with --ldsc-seg) -> celltypes.tsv (one-sided, Bonferroni
    and FDR)."""
    from gwas.enrich_run import run_enrich
    from rnce_bag.core.io import ensure_writable_dir
    from rnce_bag.core.provenance import RunRecord

    ensure_writable_dir(out)
    with RunRecord(out, "enrich", config={"build": build, "window_up_kb": window_up_kb,
                                          "window_down_kb": window_down_kb,
                                          "cluster_gap_kb": cluster_gap_kb},
                   inputs=[sumstats, *celltypes, *[p for p in (extract, exclude) if p]],
                   tools=()) as record:
        res = run_enrich(sumstats, bfile, celltypes, out, build, window_up_kb,
                         window_down_kb, cluster_gap_kb, ldsc_seg, ld_cache, extract,
                         exclude, chr_)
        if res.filter_counts:
            record.data["config"]["filters"] = res.filter_counts
        record.add_output(out / "celltypes.tsv")
    if res.filter_counts:
        typer.echo(f"--chr/--extract/--exclude: {res.n_variants[0]} of {res.n_variants[1]} "
                   f"variants kept {res.filter_counts}")
    for info in res.tables:
        typer.echo(f"{info['name']}: {info['n_genes']} genes ({info['id_type']} ids, "
                   f"{info['n_unmapped']} unmapped)")
    typer.echo(f"{len(res.genes)} genes tested; inflation of gene z^2: "
               f"{res.gene_inflation:.3f}")
    for _, r in res.celltypes.sort_values("p_value").head(5).iterrows():
        typer.echo(f"{r['dataset']} {r['cell_type']} ({r['method']}): beta {r['beta']:+.3g} "
                   f"(SE {r['beta_se']:.3g}), p = {r['p_value']:.3g}, FDR {r['p_fdr']:.3g}")
