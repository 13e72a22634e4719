"""``rnce-bag brain-age``: one bias-corrected Brain Age Gap per representation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app
from cli.options import SetOption


@app.command("brain-age")
def brain_age(
    manifest: Annotated[Path, typer.Option("--manifest", help="Cohort manifest (IID, FID, age, "
                                           "sex, site, diagnosis, ...).")],
    features: Annotated[list[str], typer.Option("--features", help="NAME=PATH of a "
                                                "representation: FreeSurfer features or "
                                                "embeddings (repeatable); NAME=A+B "
                                                "concatenates representations A and B.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    config: Annotated[Path | None, typer.Option("--config", help="YAML (configs/brainage/).")]
    = None,
    set_: SetOption = None,
) -> None:
    """Cross-fitted, bias-corrected brain age -> bag.tsv, GWAS phenotype files, metrics.

    Writes bag.tsv/bag.parquet (IID age pred_<rep> bag_<rep> fold), pheno.tsv and
    covar.tsv (PLINK 2), bag.phen/.qcovar/.covar (GCTA), metrics.json,
    figure_data.tsv and run.json.
    """
    from rnce_bag.brainage.config import BrainAgeConfig
    from rnce_bag.brainage.run import brain_age as run_brain_age
    from rnce_bag.brainage.run import training_mask, write_outputs
    from rnce_bag.core.config import dump_config, load_config
    from rnce_bag.core.io import ensure_writable_dir
    from rnce_bag.core.provenance import RunRecord
    from rnce_bag.core.schema import read_table
    from rnce_bag.phenotypes import write_gwas_files
    from rnce_bag.representations import parse_representation_args, source_paths

    cfg = load_config(config, BrainAgeConfig, set_ or [])
    reps = parse_representation_args(features)
    man = read_table(manifest, "cohort")
    ensure_writable_dir(out)
    with RunRecord(out, "brain-age", config=dump_config(cfg),
                   inputs=[manifest, *source_paths(reps)], seeds={"seed": cfg.seed},
                   tools=()) as record:
        bag, figure, metrics, etiv = run_brain_age(man, reps, cfg)
        paths = write_outputs(out, bag, figure, metrics)
        normative = training_mask(man, cfg.train_filter)
        keep = normative if cfg.genetics_subjects == "normative" else None
        paths += write_gwas_files(bag, man, etiv, out, keep=keep,
                                  diagnosis_covariate=cfg.genetics_subjects == "all")
        for p in paths:
            record.add_output(p)
    for name, m in metrics["representations"].items():
        u, c = m["train_uncorrected"], m["train_corrected"]
        typer.echo(f"{name}: MAE {u['mae']:.2f} y, r {u['r']:.3f}; corr(BAG, age) "
                   f"{u['corr_bag_age']:+.3f} -> {c['corr_bag_age']:+.3f} after "
                   f"{m['bias']['method']} ({metrics['n_train']} training subjects)")
    who = (f"{int(normative.sum())} normative subjects ({_describe(cfg.train_filter)}); the "
           f"other {int((~normative).sum())} have NA" if cfg.genetics_subjects == "normative"
           else f"all {len(man)} subjects, diagnosis as a covariate")
    typer.echo(f"wrote {out / 'bag.tsv'} and GWAS files pheno.tsv / covar.tsv / bag.phen: "
               f"BAGs for {who}")


def _describe(train_filter: dict[str, list[str]]) -> str:
    return ", ".join(f"{k} in {'/'.join(v)}" for k, v in train_filter.items()) or "everyone"
