"""``rnce-bag enrich``: gene-level association and cell-type enrichment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app
from cli.options import ChrOption, ExcludeOption, ExtractOption, KeepOption, RemoveOption
from gwas.config import CLUSTER_GAP_KB, GENE_WINDOW_DOWN_KB, GENE_WINDOW_UP_KB


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
    window_up_kb: Annotated[int, typer.Option(help="Gene window upstream (kb).")]
    = GENE_WINDOW_UP_KB,
    window_down_kb: Annotated[int, typer.Option(help="Gene window downstream (kb).")]
    = GENE_WINDOW_DOWN_KB,
    cluster_gap_kb: Annotated[int, typer.Option(help="Genes closer than this share a cluster "
                                                "for the robust SEs.")] = CLUSTER_GAP_KB,
    ldsc_seg: Annotated[bool, typer.Option("--ldsc-seg/--no-ldsc-seg", help="Also run LDSC-SEG "
                                           "(LD scores from --bfile; slower).")] = False,
    extract: ExtractOption = None,
    exclude: ExcludeOption = None,
    chr_: ChrOption = None,
    keep: KeepOption = None,
    remove: RemoveOption = None,
    ld_cache: Annotated[Path | None, typer.Option("--ld-cache", help="Folder to keep LD "
                                                  "scores in and reuse (they depend on "
                                                  "--bfile and the cell-type tables, not on "
                                                  "the trait).")] = None,
) -> None:
    """MAGMA-style gene test (mean chi^2, LD-aware) -> genes.tsv; gene-property regression
    per cell type (and LDSC-SEG with --ldsc-seg) -> celltypes.tsv (one-sided, Bonferroni
    and FDR)."""
    from gwas.stages import EnrichParams, run_enrich_stage
    from rnce_bag.core.stage import make_params

    run_enrich_stage(make_params(
        EnrichParams, out=out, sumstats=sumstats, bfile=bfile, celltypes=celltypes,
        build=build, window_up_kb=window_up_kb, window_down_kb=window_down_kb,
        cluster_gap_kb=cluster_gap_kb, ldsc_seg=ldsc_seg, ld_cache=ld_cache, extract=extract,
        exclude=exclude, chr=chr_, keep=keep, remove=remove), echo=typer.echo)
