"""``rnce-bag run`` (a study YAML, end to end) and ``rnce-bag demo`` (simulate + run)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app

#: the study presets ``rnce-bag demo --preset`` runs (configs/study/<name>.yaml, shipped)
DEMO_PRESETS = ("tiny", "demo")


def _run_study(study, study_dir: Path, out: Path, from_: str | None, only: str | None):
    from pydantic import ValidationError

    from pipeline.plan import plan
    from pipeline.runner import run_stages
    from rnce_bag.core.config import dump_config, format_validation_error
    from rnce_bag.core.errors import ConfigError

    try:  # every stage's own params model checks what the study gives it, before any runs
        stages = plan(study, study_dir, out.resolve())
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, f"(a stage of the study in "
                                                       f"{study_dir})")) from None
    return run_stages(stages, out, from_=from_, only=only, echo=typer.echo,
                      study=dump_config(study))


@app.command("run")
def run(
    config: Annotated[Path, typer.Argument(help="Study YAML (configs/study/).")],
    out: Annotated[Path, typer.Option("--out", help="Run directory (one folder per stage).")],
    from_: Annotated[str | None, typer.Option("--from", help="Rerun this stage (name or kind,"
                                              " e.g. train) and every later one.")] = None,
    only: Annotated[str | None, typer.Option("--only", help="Run only this stage (its inputs "
                                             "must exist).")] = None,
) -> None:
    """Run a study: features -> train -> embed -> brain-age -> probe -> gwas -> h2/rg ->
    enrich -> report, reusing every stage whose inputs, config and code are unchanged.

    Safe to interrupt: rerun the same command and it continues (training resumes from
    its last checkpoint). OUT/run.json records every stage's provenance.
    """
    from pipeline.study import StudyConfig
    from rnce_bag.core.config import load_config

    study = load_config(config, StudyConfig)
    _run_study(study, config.resolve().parent, out, from_, only)
    from report.headline import run_summary

    typer.echo(run_summary(out))


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Run directory.")] = Path(
        "reports/output/demo"),
    preset: Annotated[str, typer.Option("--preset", help="tiny (~5 min) or demo (~30 min on 2 "
                                        "cores).")] = "demo",
    from_: Annotated[str | None, typer.Option("--from", help="Rerun from this stage.")] = None,
) -> None:
    """Simulate a cohort with planted truth, run the whole study on it, print a summary."""
    from pipeline.study import StudyConfig
    from rnce_bag.core.config import load_config
    from rnce_bag.core.errors import InputError
    from rnce_bag.core.presets import preset_path

    if preset not in DEMO_PRESETS:
        raise InputError(f"--preset {preset!r}: expected {' or '.join(DEMO_PRESETS)}")
    study = load_config(preset_path("study", preset), StudyConfig)
    _run_study(study, Path.cwd(), out, from_, None)
    from report.headline import run_summary

    typer.echo(run_summary(out))
