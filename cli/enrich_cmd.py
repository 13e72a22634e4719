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
    import pandas as pd

    from gwas.enrichment import celltype_enrichment, gene_analysis, gene_windows, read_specificity
    from gwas.genome_build import check_build
    from gwas.genotype_files import bfile_paths
    from gwas.plink_io import open_bed
    from gwas.sumstats import read_sumstats
    from rnce_bag.core.io import atomic_open, ensure_writable_dir
    from rnce_bag.core.provenance import RunRecord

    ensure_writable_dir(out)
    with RunRecord(out, "enrich", config={"build": build, "window_up_kb": window_up_kb,
                                          "window_down_kb": window_down_kb,
                                          "cluster_gap_kb": cluster_gap_kb},
                   inputs=[sumstats, *celltypes, *[p for p in (extract, exclude) if p]],
                   tools=()) as record:
        ssf = read_sumstats(sumstats)
        check_build(ssf, build, str(sumstats))
        if extract or exclude or chr_:  # the variants tested (PLINK semantics)
            from gwas.filters import Filters, filter_variants

            table = pd.DataFrame({"chromosome": ssf["chromosome"].astype(str),
                                  "position": ssf["base_pair_location"].astype("int64"),
                                  "variant_id": ssf["rsid"] if "rsid" in ssf.columns
                                  else ssf["variant_id"]})
            mask, counts = filter_variants(table, Filters(extract=extract, exclude=exclude,
                                                          chr=chr_))
            typer.echo(f"--chr/--extract/--exclude: {int(mask.sum())} of {len(ssf)} variants "
                       f"kept {counts}")
            record.data["config"]["filters"] = counts
            ssf = ssf[mask].reset_index(drop=True)
        specs = [(path, *read_specificity(path)) for path in celltypes]  # fail fast
        genes = gene_analysis(ssf, open_bed(bfile), gene_windows(build, window_up_kb,
                                                                  window_down_kb))
        with atomic_open(out / "genes.tsv") as fh:
            genes.to_csv(fh, sep="\t", index=False, float_format="%.6g", lineterminator="\n")
        tables = []
        for path, spec, info in specs:
            name = path.name.split(".")[0]
            typer.echo(f"{name}: {info['n_genes']} genes ({info['id_type']} ids, "
                       f"{info['n_unmapped']} unmapped)")
            tables.append(celltype_enrichment(genes, spec, name, cluster_gap_kb))
            if ldsc_seg:
                from gwas.enrichment import ldsc_seg_enrichment
                from gwas.heritability.ldsc import cohort_ld_scores, to_ldsc_sumstats
                from rnce_bag.core.io import cached_build

                base = cached_build(ld_cache, {"kind": "base LD scores", "ld_wind_cm": 1.0,
                                               "maf": 0.01},
                                    bfile_paths(bfile),
                                    lambda d: cohort_ld_scores(bfile, d / "base"),
                                    out / "ldsc" / "base")
                trait = out / "ldsc" / "trait.sumstats.gz"
                trait.parent.mkdir(exist_ok=True)
                if not trait.exists():
                    to_ldsc_sumstats(ssf, trait)
                tables.append(ldsc_seg_enrichment(str(trait), bfile, spec, name,
                                                  str(base / "base"), out / "ldsc", build,
                                                  cache=ld_cache))
        result = pd.concat(tables, ignore_index=True)
        with atomic_open(out / "celltypes.tsv") as fh:
            result.to_csv(fh, sep="\t", index=False, float_format="%.6g", lineterminator="\n")
        record.add_output(out / "celltypes.tsv")
    import numpy as np

    lam = float(np.median(genes["z"] ** 2) / 0.4549364)
    typer.echo(f"{len(genes)} genes tested; inflation of gene z^2: {lam:.3f}")
    for _, r in result.sort_values("p_value").head(5).iterrows():
        typer.echo(f"{r['dataset']} {r['cell_type']} ({r['method']}): beta {r['beta']:+.3g} "
                   f"(SE {r['beta_se']:.3g}), p = {r['p_value']:.3g}, FDR {r['p_fdr']:.3g}")
