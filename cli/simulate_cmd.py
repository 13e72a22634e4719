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

    Writes cohort.tsv, genotypes/cohort.{bed,bim,fam}, images/, freesurfer/ and truth/
    (h2, causal variants with MAPT and IRAG1, cell-type specificity, latent factors).
    """
    from rnce_bag.core.config import apply_overrides, load_yaml, validate_config
    from rnce_bag.core.logging import make_progress
    from rnce_bag.core.presets import load_preset
    from rnce_bag.simulate.config import SimulateConfig, preset_names
    from rnce_bag.simulate.run import simulate as run_simulation

    overrides = list(set_ or [])
    if config is not None:
        data, source = load_yaml(config), f"'{config}'"
    else:
        if preset not in preset_names():
            raise typer.BadParameter(f"unknown preset {preset!r}; choose one of "
                                     f"{', '.join(preset_names())}", param_hint="--preset")
        data, source = load_preset("simulate", preset), f"preset '{preset}'"
    if n_subjects is not None:
        overrides.append(f"cohort.n_subjects={n_subjects}")
    if n_variants is not None:
        overrides.append(f"genotypes.n_variants={n_variants}")
    if no_images:
        overrides.append("images.write=false")
    if seed is not None:
        overrides.append(f"seed={seed}")
    cfg = validate_config(apply_overrides(data, overrides), SimulateConfig, source)

    with make_progress() as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        path = run_simulation(cfg, out, progress=progress, overwrite=overwrite)
    typer.echo(f"simulated {cfg.cohort.n_subjects} subjects x {cfg.genotypes.n_variants} "
               f"variants into {path}")
    typer.echo(f"  manifest: {path / 'cohort.tsv'}   truth: {path / 'truth'}")
