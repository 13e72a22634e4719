"""``rnce-bag register``: T1 images to MNI152 with ANTs (the method's registration step)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app


@app.command()
def register(
    manifest: Annotated[Path, typer.Option("--manifest", help="Cohort manifest (TSV/CSV/"
                                           "Parquet) with IID and t1_path (NIfTI or .mgz, "
                                           "any space); freesurfer_dir, when given, "
                                           "supplies mri/brainmask.mgz for skull "
                                           "stripping.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    transform: Annotated[str, typer.Option(help="syn: rigid + affine + SyN, ANTs' "
                                           "antsRegistrationSyN recipe (default); affine: "
                                           "rigid + affine only; syn-quick, affine-quick: "
                                           "ANTs' quick recipe (about 8x and 4x faster).")]
    = "syn",
    spacing: Annotated[float, typer.Option(help="Voxel size (mm) of the MNI grid the "
                                           "images are registered to and written on.")]
    = 2.0,
    n4: Annotated[bool, typer.Option("--n4", help="N4 bias-field correction first.")]
    = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Subjects registered at once "
                                      "(one ITK thread each).")] = 1,
    seed: Annotated[int, typer.Option(help="ANTs' random seed.")] = 1,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Registration cache "
                                                   "(default OUT/.cache), reused across "
                                                   "runs.")] = None,
) -> None:
    """Register every T1 of a manifest to the MNI152 template with ANTs (ANTsPy).

    Writes images/<IID>.nii.gz (MNI grid), transforms/<IID>/, manifest.tsv (t1_path ->
    the registered images, for features and train), registration_qc.tsv (status,
    correlation with the template, brain-mask Dice), registration_qc.png and
    register_report.json. Cached by input checksum and settings: a rerun registers only
    what changed, an interrupted run resumes. A subject that fails is listed and the
    others go on.
    """
    from rnce_bag.core.stage import make_params
    from rnce_bag.stages import RegisterParams, run_register

    run_register(make_params(RegisterParams, out=out, manifest=manifest, transform=transform,
                             spacing=spacing, n4=n4, jobs=jobs, seed=seed,
                             cache_dir=cache_dir), echo=typer.echo)
