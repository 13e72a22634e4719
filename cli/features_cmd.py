"""``rnce-bag features``: FreeSurfer stats of a cohort -> features.parquet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.app import app


@app.command()
def features(
    manifest: Annotated[Path, typer.Option("--manifest", help="Cohort manifest (TSV/CSV/"
                                           "Parquet) with IID and freesurfer_dir.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    atlas: Annotated[list[str] | None, typer.Option("--atlas", help="Cortical atlas: aparc "
                                                    "(default), aparc.a2009s, aparc.DKTatlas; "
                                                    "repeatable.")] = None,
    icv_normalise: Annotated[bool, typer.Option("--icv-normalise", help="Divide volumes and "
                                                "areas by eTIV.")] = False,
    skip_missing: Annotated[bool, typer.Option("--skip-missing", help="Skip and list subjects "
                                               "without stats instead of failing.")] = False,
) -> None:
    """Read aseg and aparc stats of every subject into features.parquet.

    Writes features.parquet (IID, aseg.<s>.volume, <atlas>.<hemi>.<region>.thickness|area|
    volume, global.<measure>, eTIV), features_report.json and run.json.
    """
    from rnce_bag.core.io import atomic_path, ensure_writable_dir, write_text
    from rnce_bag.core.logging import make_progress
    from rnce_bag.core.provenance import RunRecord
    from rnce_bag.imaging.features import build_features

    atlases = tuple(atlas or ["aparc"])
    ensure_writable_dir(out)
    with RunRecord(out, "features", config={"atlases": list(atlases),
                                            "icv_normalise": icv_normalise,
                                            "skip_missing": skip_missing},
                   inputs=[manifest], tools=()) as record, make_progress() as bar:
        task = bar.add_task("reading FreeSurfer stats", total=None)
        table, report = build_features(
            manifest, atlases, skip_missing, icv_normalise,
            progress=lambda done, total: bar.update(task, completed=done, total=total))
        with atomic_path(out / "features.parquet") as tmp:
            table.to_parquet(tmp, index=False)
        write_text(out / "features_report.json", json.dumps(report, indent=2) + "\n")
        record.add_output(out / "features.parquet")
    typer.echo(f"read {report['n_subjects_read']} of {report['n_subjects_manifest']} subjects, "
               f"{report['n_features']} features -> {out / 'features.parquet'}")
    if report["skipped"]:
        typer.echo(f"skipped {len(report['skipped'])} subject(s): "
                   + ", ".join(s["IID"] for s in report["skipped"][:10]))
