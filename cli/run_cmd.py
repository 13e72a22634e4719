"""``rnce-bag run`` (a study YAML, end to end) and ``rnce-bag demo`` (simulate + run)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app

#: the study presets ``rnce-bag demo --preset`` runs (configs/study/<name>.yaml, shipped)
DEMO_PRESETS = ("tiny", "demo")


def _run_study(study, study_dir: Path, out: Path, from_: str | None, only: str | None):
    from cli.pipeline import plan, run_stages
    from rnce_bag.core.config import dump_config

    stages = plan(study, study_dir, out.resolve())
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
    from cli.study import StudyConfig
    from rnce_bag.core.config import load_config

    study = load_config(config, StudyConfig)
    _run_study(study, config.resolve().parent, out, from_, only)
    typer.echo(summarise(out))


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Run directory.")] = Path(
        "reports/output/demo"),
    preset: Annotated[str, typer.Option("--preset", help="tiny (~5 min) or demo (~30 min on 2 "
                                        "cores).")] = "demo",
    from_: Annotated[str | None, typer.Option("--from", help="Rerun from this stage.")] = None,
) -> None:
    """Simulate a cohort with planted truth, run the whole study on it, print a summary."""
    from cli.study import StudyConfig
    from rnce_bag.core.config import load_config
    from rnce_bag.core.errors import InputError
    from rnce_bag.core.presets import preset_path

    if preset not in DEMO_PRESETS:
        raise InputError(f"--preset {preset!r}: expected {' or '.join(DEMO_PRESETS)}")
    study = load_config(preset_path("study", preset), StudyConfig)
    _run_study(study, Path.cwd(), out, from_, None)
    typer.echo(summarise(out))


def summarise(out: Path) -> str:
    """A short text summary of a finished run (what the demo prints)."""
    import json

    import pandas as pd

    from gwas.headline import format_headline, headline_table

    lines = [f"report: {out / 'report' / 'index.html'}"]
    head = format_headline(headline_table(out))
    if head:
        lines += ["per BAG (loci: p < 5e-8; AUC p: DeLong against FS; rows marked oracle use "
                  "the simulator's true hidden signal: ceilings, not methods):", head]
    m = out / "brain_age" / "metrics.json"
    if m.exists():
        reps = json.loads(m.read_text())["representations"]
        lines.append("brain age (normative subjects, before bias correction): " + "; ".join(
            f"{k} MAE {v['train_uncorrected']['mae']:.2f} y, r {v['train_uncorrected']['r']:.2f}"
            for k, v in reps.items()))
    h = out / "h2" / "heritability.tsv"
    if h.exists():
        t = pd.read_csv(h, sep="\t")
        lines.append(_genetics_design(out, int(t["n"].max())))
        lines.append("h2 (GREML): " + "; ".join(f"{r.phenotype} {r.h2:.2f} ({r.h2_se:.2f})"
                                                  for r in t.itertuples()))
    for rg in sorted(out.glob("rg_*/rg.tsv")):
        t = pd.read_csv(rg, sep="\t")
        lines += [f"rg({r.p1}, {r.p2}) = {r.rg:.2f} (SE {r.rg_se:.2f})"
                  + ("" if str(r.status) == "ok" else f" [{r.status}]")
                  for r in t.itertuples()]
    s = out / "gwas" / "summary.tsv"
    if s.exists():
        t = pd.read_csv(s, sep="\t")
        lines.append("GWAS: " + "; ".join(f"{r.phenotype} lambda {r.lambda_gc:.3f}, "
                                          f"{r.n_genome_wide} genome-wide"
                                          for r in t.itertuples()))
    loci = out / "gwas" / "loci.tsv"
    if loci.exists():
        t = pd.read_csv(loci, sep="\t")
        for ph, g in t.groupby("phenotype"):
            lines.append(f"lead loci {ph}: " + ", ".join(
                f"{r.nearest_gene} (p {r.p_value:.1e})" for r in g.head(5).itertuples()))
    for e in sorted(out.glob("enrich_*/celltypes.tsv")):
        t = pd.read_csv(e, sep="\t").sort_values("p_value")
        lines.append(f"cell types {e.parent.name.removeprefix('enrich_').upper()}: " + "; ".join(
            f"{method} " + ", ".join(f"{r.cell_type} (p {r.p_value:.2g})"
                                     for r in g.head(2).itertuples())
            for method, g in t.groupby("method", sort=False)))
    return "\n".join(lines)


def _genetics_design(out: Path, n: int) -> str:
    """Who and which covariates the genetic analyses used (the same for every BAG)."""
    import json

    cfg = json.loads((out / "brain_age" / "run.json").read_text()).get("config", {}) \
        if (out / "brain_age" / "run.json").exists() else {}
    who = cfg.get("genetics_subjects", "normative")
    if who == "normative" and cfg.get("train_filter"):
        rule = ", ".join(f"{k} in {'/'.join(v)}" for k, v in cfg["train_filter"].items())
        who = f"normative subjects ({rule})"
    else:
        who = f"{who} subjects" + (", diagnosis as a covariate" if who == "all" else "")
    from gwas.run import covariate_names

    names = covariate_names(out / "gwas")
    return (f"genetics: {n} {who}; GWAS, GREML and rg covariates: "
            f"{', '.join(names) if names else 'none'}")
