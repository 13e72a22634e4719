"""``rnce-bag simulate``: a synthetic cohort with planted truth in real file formats."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app
from cli.options import SetOption


@app.command()
def simulate(
    out: Annotated[Path, typer.Option("--out", help="Output directory (new or empty).")],
    preset: Annotated[str, typer.Option(help="tiny (CI, ~200 subjects), demo (~2,000), "
                                        "large (10,000 x 500k variants).")] = "tiny",
    config: Annotated[Path | None, typer.Option("--config", help="A simulate YAML (see "
                                                "configs/simulate/); replaces --preset.",
                                                exists=False)] = None,
    n_subjects: Annotated[int | None, typer.Option("--n-subjects", help="Override the "
                                                   "number of subjects (>= 20).")] = None,
    n_variants: Annotated[int | None, typer.Option("--n-variants", help="Override the "
                                                   "number of variants.")] = None,
    no_images: Annotated[bool, typer.Option("--no-images", help="Skip the T1 images.")]
    = False,
    seed: Annotated[int | None, typer.Option(help="Random seed (same seed, same bytes).")]
    = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a non-empty --out.")] = False,
    set_: SetOption = None,
) -> None:
    """Simulate genotypes, FreeSurfer stats, T1 images and clinical labels with planted truth.

    Writes cohort.tsv, genotypes/cohort.{bed,bim,fam}, images/, freesurfer/,
    expression/celltype_specificity.tsv (the cell-type expression reference) and truth/
    (h2, causal variants with MAPT and IRAG1, the planted cell-type enrichment, latent
    factors).
    """
    from rnce_bag.core.stage import make_params
    from rnce_bag.stages import SimulateParams, run_simulate

    overrides = list(set_ or [])
    if n_subjects is not None:
        overrides.append(f"cohort.n_subjects={n_subjects}")
    if n_variants is not None:
        overrides.append(f"genotypes.n_variants={n_variants}")
    if no_images:
        overrides.append("images.write=false")
    if seed is not None:
        overrides.append(f"seed={seed}")
    run_simulate(make_params(SimulateParams, out=out, preset=preset, config=config,
                             overrides=overrides, overwrite=overwrite), echo=typer.echo)
