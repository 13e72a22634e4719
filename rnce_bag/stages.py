"""The imaging stages as library functions: simulate, features, train, embed, brain-age,
probe (see :mod:`rnce_bag.core.stage` for the contract).

Each ``run_<stage>(params, echo)`` validates nothing the model has not validated, does
the work, writes its outputs (atomically, with a ``run.json``) into ``params.out`` and
returns their paths. Heavy imports (torch, sklearn) stay inside the functions so that
importing the models is cheap (the CLI and the pipeline import them to build params).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Literal

from pydantic import Field

from rnce_bag.core.errors import InputError
from rnce_bag.core.outputs import Output, StageSpec, output_path, write_output
from rnce_bag.core.stage import Echo, Outputs, StageParams, silent
from rnce_bag.ssl.config import Method


class SimulateParams(StageParams):
    """A synthetic cohort: a shipped preset (or a YAML) plus ``--set`` overrides."""

    preset: str = "tiny"
    config: Path | None = Field(None, description="simulate YAML; replaces preset")
    overrides: list[str] = Field(default_factory=list, description="dotted KEY=VALUE")
    overwrite: bool = False


def run_simulate(params: SimulateParams, echo: Echo = silent) -> Outputs:
    """Genotypes, FreeSurfer stats, T1 images, clinical labels and truth/ into ``out``."""
    from rnce_bag.core.config import apply_overrides, load_yaml, validate_config
    from rnce_bag.core.logging import make_progress
    from rnce_bag.core.presets import load_preset
    from rnce_bag.simulate.config import SimulateConfig, preset_names
    from rnce_bag.simulate.run import simulate

    if params.config is not None:
        data, source = load_yaml(params.config), f"'{params.config}'"
    else:
        if params.preset not in preset_names():
            raise InputError(f"--preset: unknown preset {params.preset!r}; choose one of "
                             f"{', '.join(preset_names())}")
        data, source = load_preset("simulate", params.preset), f"preset '{params.preset}'"
    cfg = validate_config(apply_overrides(data, params.overrides), SimulateConfig, source)
    with make_progress() as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        path = simulate(cfg, params.out, progress=progress, overwrite=params.overwrite)
    echo(f"simulated {cfg.cohort.n_subjects} subjects x {cfg.genotypes.n_variants} variants "
         f"into {path}")
    echo(f"  manifest: {path / 'cohort.tsv'}   truth: {path / 'truth'}")
    return {k: output_path(SIMULATE, k, path) for k in ("manifest", "bfile", "celltypes")}


SIMULATE = StageSpec("simulate", {
    "manifest": Output("cohort.tsv", "cohort", "cohort manifest"),
    "bfile": Output("genotypes/cohort", None, "PLINK 1 fileset prefix"),
    "celltypes": Output("expression/celltype_specificity.tsv", None,
                        "FUMA-format expression reference (not truth: the planted "
                        "enrichment is in truth/truth.json)"),
    "truth_latent": Output("truth/latent.tsv", None, "ORACLE only: true latent values"),
    "truth_relatives": Output("truth/relatives.tsv", None, "ORACLE only: planted relative "
                              "pairs (simulations with families)"),
    "truth_native": Output("truth/native_transforms.tsv", None, "ORACLE only: each "
                           "native-space image's true native -> MNI transform "
                           "(images.native.write)"),
    "truth_images_mni": Output("truth/images_mni", None, "ORACLE only: the MNI-space "
                               "renderings of native-space images"),
}, SimulateParams, run_simulate)


class FeaturesParams(StageParams):
    """FreeSurfer stats of every subject of a manifest into one table."""

    manifest: Path
    atlases: list[str] = Field(default_factory=lambda: ["aparc"])
    icv_normalise: bool = False
    skip_missing: bool = False


def run_features(params: FeaturesParams, echo: Echo = silent) -> Outputs:
    """``features.parquet`` (IID, aseg/aparc measures, eTIV) and ``features_report.json``."""
    from rnce_bag.core.io import atomic_path, write_text
    from rnce_bag.core.logging import make_progress
    from rnce_bag.core.outdir import expected_writes, staged_run
    from rnce_bag.imaging.features import build_features

    with staged_run(params.out, "features", writes=expected_writes(FEATURES),
                    config={"atlases": params.atlases, "icv_normalise": params.icv_normalise,
                            "skip_missing": params.skip_missing},
                    inputs=[params.manifest], tools=()) as (stage, record), \
            make_progress() as bar:
        task = bar.add_task("reading FreeSurfer stats", total=None)
        table, report = build_features(
            params.manifest, tuple(params.atlases), params.skip_missing, params.icv_normalise,
            progress=lambda done, total: bar.update(task, completed=done, total=total))
        with atomic_path(output_path(FEATURES, "features", stage)) as tmp:
            table.to_parquet(tmp, index=False)
        write_text(output_path(FEATURES, "report", stage), json.dumps(report, indent=2)
                   + "\n")
        record.add_output(output_path(FEATURES, "features", stage))
    table_path, report_path = (output_path(FEATURES, k, params.out)
                               for k in ("features", "report"))
    echo(f"read {report['n_subjects_read']} of {report['n_subjects_manifest']} subjects, "
         f"{report['n_features']} features -> {table_path}")
    if report["skipped"]:
        echo(f"skipped {len(report['skipped'])} subject(s): "
             + ", ".join(s["IID"] for s in report["skipped"][:10]))
    return {"features": table_path, "report": report_path}


FEATURES = StageSpec("features", {
    "features": Output("features.parquet", "freesurfer_features"),
    "report": Output("features_report.json"),
}, FeaturesParams, run_features)


class TrainParams(StageParams):
    """Self-supervised training of the patch encoders and the aggregator."""

    manifest: Path
    features: Path
    config: Path | None = None
    method: Method | None = None
    resume: bool = False
    overwrite: bool = False
    cache_dir: Path | None = None
    overrides: list[str] = Field(default_factory=list)


def _clear_previous_training(out: Path, resume: bool, overwrite: bool) -> None:
    """Refuse to mix runs; with ``overwrite`` remove only what an earlier train wrote."""
    from rnce_bag.core.outdir import recorded_command
    from rnce_bag.ssl.checkpoint import CHECKPOINT, MODEL

    existing = [p for p in (CHECKPOINT, MODEL) if (out / p).exists()]
    if existing and not (resume or overwrite):
        raise InputError(f"{out} already holds a training run ({', '.join(existing)})",
                         hint="pass --resume to continue it, --overwrite to start again, "
                              "or choose another --out")
    if overwrite and not resume and existing:
        # only the files an earlier 'rnce-bag train' wrote here; the preprocessed-volume
        # cache is keyed by content and settings, so it stays valid and is kept
        if recorded_command(out) != "train":
            raise InputError(f"refusing --overwrite in {out}: it holds {', '.join(existing)} "
                             "but no run.json of 'rnce-bag train'",
                             hint="choose another --out, or remove those files yourself")
        for name in (CHECKPOINT, MODEL, "metrics.jsonl"):
            (out / name).unlink(missing_ok=True)


def run_train(params: TrainParams, echo: Echo = silent) -> Outputs:
    """``model.pt``, ``checkpoint.pt``, ``metrics.jsonl``, ``config.yaml`` and ``run.json``.

    Under torchrun only rank 0 writes files and echoes.
    """
    from rnce_bag.core.config import load_config
    from rnce_bag.core.io import ensure_writable_dir
    from rnce_bag.core.outdir import check_out, folder_lock, recorded_command
    from rnce_bag.ssl.config import SSLConfig

    overrides = list(params.overrides)
    if params.method is not None:
        overrides.append(f"method={params.method}")
    cfg = load_config(params.config, SSLConfig, overrides)
    out = params.out
    main = int(os.environ.get("RANK", "0")) == 0
    with contextlib.ExitStack() as held:
        if main:
            # the one file-system contract (rnce_bag.core.outdir), in place rather than
            # staged: training resumes from what an interrupted run left in its folder
            ours = recorded_command(out) == "train" if out.exists() else False
            check_out(out, "train", [params.manifest, params.features],
                      () if ours else TRAIN_FILES)
            ensure_writable_dir(out)
            held.enter_context(folder_lock(out))
            _clear_previous_training(out, params.resume, params.overwrite)
        return _train_locked(params, cfg, out, main, echo)


#: what 'rnce-bag train' writes into its folder (besides run.json and the volume cache)
TRAIN_FILES = ("config.yaml", "model.pt", "checkpoint.pt", "metrics.jsonl")


def _train_locked(params: TrainParams, cfg, out: Path, main: bool, echo: Echo) -> Outputs:
    import yaml

    from rnce_bag.core.config import dump_config
    from rnce_bag.core.io import write_text
    from rnce_bag.core.logging import make_progress
    from rnce_bag.core.provenance import RunRecord
    from rnce_bag.ssl.methods import get as get_method
    from rnce_bag.ssl.train import train

    if main:
        write_text(out / "config.yaml", yaml.safe_dump(dump_config(cfg), sort_keys=False))
    bar = make_progress(disable=not main)
    tasks: dict[int, int] = {}

    def progress(row: dict) -> None:
        stage = row["stage"]
        if stage not in tasks:
            tasks[stage] = bar.add_task(f"stage {stage}", total=row["steps"])
        bar.update(tasks[stage], completed=row["step"],
                   description=f"stage {stage} loss {row['loss']:.3f} "
                               f"{row['samples_per_s']:.1f} subj/s")

    model = output_path(TRAIN, "model", out)
    record = RunRecord(out, "train", config=dump_config(cfg),
                       inputs=[params.manifest, params.features], seeds={"seed": cfg.seed},
                       tools=()) if main else None
    with record or contextlib.nullcontext(), bar:
        summary = train(cfg, params.manifest, params.features, out, resume=params.resume,
                        progress=progress, cache_dir=params.cache_dir,
                        warn=lambda w: echo(f"warning: {w}"))
        if record is not None:
            record.add_output(model)
    if main:
        aux = summary["aux"]
        if get_method(cfg.method).uses_auxiliary:
            echo(f"auxiliary FreeSurfer space: {min(aux['patch_dims'])}-"
                 f"{max(aux['patch_dims'])} components per patch, {aux['image_dim']} for the "
                 f"image ({aux['image_variance_held']:.1%} of the features' variance)")
        if cfg.augment.scanner is not None:
            echo(f"augmentations from the '{cfg.augment.scanner}' scanner model at "
                 f"{cfg.data.spacing_mm:g} mm: " + ", ".join(
                     f"{k} {v:g}" for k, v in summary["augment"].items()))
        echo(f"{cfg.method}: {summary['n_train']} training subjects, "
             f"{summary['steps'][1]} + {summary['steps'][2]} steps -> {model}")
    return {k: output_path(TRAIN, k, out) for k in ("model", "checkpoint", "metrics")}


TRAIN = StageSpec("train", {
    "model": Output("model.pt"),
    "checkpoint": Output("checkpoint.pt"),
    "metrics": Output("metrics.jsonl"),
}, TrainParams, run_train)


class EmbedParams(StageParams):
    """Embeddings of a manifest's subjects by a trained model."""

    run: Path = Field(description="folder written by 'rnce-bag train'")
    manifest: Path
    patches: bool = False
    batch_size: int = Field(16, ge=1)
    cache_dir: Path | None = None


def run_embed(params: EmbedParams, echo: Echo = silent) -> Outputs:
    """``embeddings.parquet`` (IID, z0..) with its JSON sidecar."""
    from rnce_bag.core.logging import make_progress
    from rnce_bag.core.outdir import expected_writes, staged_run
    from rnce_bag.ssl.embed import embed

    path = output_path(EMBED, "embeddings", params.out)
    with staged_run(params.out, "embed", writes=expected_writes(EMBED),
                    config={"patches": params.patches, "batch_size": params.batch_size},
                    inputs=[params.manifest, output_path(TRAIN, "model", params.run)],
                    tools=()) as (stage, record), make_progress() as bar:
        task = bar.add_task("embedding", total=None)
        # the volume cache defaults to --out's own (the train folder is an input: never
        # written); the pipeline passes the study's shared cache
        table = embed(params.run, params.manifest, stage, patches=params.patches,
                      batch_size=params.batch_size,
                      cache_dir=params.cache_dir or Path(params.out) / ".cache",
                      progress=lambda d, t: bar.update(task, completed=d, total=t))
        record.add_output(output_path(EMBED, "embeddings", stage))
    echo(f"embedded {len(table)} subjects -> {path}")
    return {"embeddings": path}


EMBED = StageSpec("embed", {
    "embeddings": Output("embeddings.parquet", "embeddings"),
}, EmbedParams, run_embed)


class BrainAgeParams(StageParams):
    """Cross-fitted, bias-corrected brain age of each representation."""

    manifest: Path
    features: list[str] = Field(min_length=1, description="NAME=PATH or NAME=A+B")
    config: Path | None = None
    overrides: list[str] = Field(default_factory=list)


def _describe(train_filter: dict[str, list[str]]) -> str:
    return ", ".join(f"{k} in {'/'.join(v)}" for k, v in train_filter.items()) or "everyone"


def run_brain_age(params: BrainAgeParams, echo: Echo = silent) -> Outputs:
    """``bag.tsv``/``.parquet``, ``pheno.tsv``/``covar.tsv`` (PLINK 2), GCTA files,
    ``metrics.json`` and ``figure_data.tsv``."""
    from rnce_bag.brainage.config import BrainAgeConfig
    from rnce_bag.brainage.run import brain_age, training_mask, write_outputs
    from rnce_bag.core.config import dump_config, load_config
    from rnce_bag.core.outdir import expected_writes, staged_run
    from rnce_bag.core.schema import read_table
    from rnce_bag.phenotypes import write_gwas_files
    from rnce_bag.representations import parse_representation_args, source_paths

    cfg = load_config(params.config, BrainAgeConfig, params.overrides)
    reps = parse_representation_args(params.features)
    man = read_table(params.manifest, "cohort")
    out = Path(params.out)
    with staged_run(out, "brain-age", writes=expected_writes(BRAIN_AGE),
                    config=dump_config(cfg), inputs=[params.manifest, *source_paths(reps)],
                    seeds={"seed": cfg.seed}, tools=()) as (stage, record):
        bag, figure, metrics, etiv = brain_age(man, reps, cfg)
        paths = write_outputs(stage, bag, figure, metrics)
        normative = training_mask(man, cfg.train_filter)
        keep = normative if cfg.genetics_subjects == "normative" else None
        paths += write_gwas_files(bag, man, etiv, stage, keep=keep,
                                  diagnosis_covariate=cfg.genetics_subjects == "all")
        for p in paths:
            record.add_output(p)
    for name, m in metrics["representations"].items():
        u, c = m["train_uncorrected"], m["train_corrected"]
        echo(f"{name}: MAE {u['mae']:.2f} y, r {u['r']:.3f}; corr(BAG, age) "
             f"{u['corr_bag_age']:+.3f} -> {c['corr_bag_age']:+.3f} after "
             f"{m['bias']['method']} ({metrics['n_train']} training subjects)")
    who = (f"{int(normative.sum())} normative subjects ({_describe(cfg.train_filter)}); the "
           f"other {int((~normative).sum())} have NA" if cfg.genetics_subjects == "normative"
           else f"all {len(man)} subjects, diagnosis as a covariate")
    echo(f"wrote {out / 'bag.tsv'} and GWAS files pheno.tsv / covar.tsv / bag.phen: BAGs for "
         f"{who}")
    return {k: output_path(BRAIN_AGE, k, out)
            for k in ("bag", "pheno", "covar", "metrics", "figure_data")}


BRAIN_AGE = StageSpec("brain_age", {
    "bag": Output("bag.tsv", "brain_age"),
    "pheno": Output("pheno.tsv", "gwas_pheno", "PLINK 2 phenotypes BAG_<rep>"),
    "covar": Output("covar.tsv", "gwas_covar", "PLINK 2 covariates"),
    "metrics": Output("metrics.json"),
    "figure_data": Output("figure_data.tsv", "brain_age_figure"),
}, BrainAgeParams, run_brain_age)


class ProbeParams(StageParams):
    """Linear probes of representations on the clinical tasks."""

    manifest: Path
    features: list[str] = Field(min_length=1)
    tasks: list[str] | None = None
    seed: int = 0
    pca_dims: int = Field(64, ge=0, description="FS, when wider than this, also gets a "
                          "row reduced to this many principal components (fitted inside the "
                          "CV folds); 0: none")


def run_probe(params: ProbeParams, echo: Echo = silent) -> Outputs:
    """``probe.tsv`` (AUC, DeLong CI), ``probe_pairs.tsv`` and the predictions."""
    from rnce_bag.core.io import atomic_path
    from rnce_bag.core.outdir import expected_writes, staged_run
    from rnce_bag.core.schema import read_table
    from rnce_bag.probes import TASKS, probe
    from rnce_bag.representations import (
        load_representation,
        parse_representation_args,
        source_paths,
    )

    tasks = tuple(params.tasks or TASKS)
    bad = [t for t in tasks if t not in TASKS]
    if bad:
        raise InputError(f"--task: unknown task {bad[0]!r}; choose from {', '.join(TASKS)}")
    reps = parse_representation_args(params.features)
    man = read_table(params.manifest, "cohort")
    keys = ("scores", "pairs", "predictions")
    with staged_run(params.out, "probe", writes=expected_writes(PROBE),
                    config={"tasks": list(tasks), "pca_dims": params.pca_dims},
                    seeds={"seed": params.seed},
                    inputs=[params.manifest, *source_paths(reps)], tools=()) as (stage,
                                                                                 record):
        staged = {k: output_path(PROBE, k, stage) for k in keys}
        arrays = {name: load_representation(name, path, man["IID"])[0]
                  for name, path in reps.items()}
        scores, pairs, preds = probe(man, arrays, tasks, seed=params.seed,
                                     pca_dims=params.pca_dims or None)
        for key, df in (("scores", scores), ("pairs", pairs)):
            write_output(PROBE, key, df, stage)
            record.add_output(staged[key])
        with atomic_path(staged["predictions"]) as tmp:
            preds.to_parquet(tmp, index=False)
    paths = {k: output_path(PROBE, k, params.out) for k in keys}
    for task in tasks:
        r = scores[scores["task"] == task].iloc[0]
        echo(f"{task}: {r['n']} subjects, {r['n_pos']} positive; mean age {r['age_pos']:.1f} "
             f"(positive) vs {r['age_neg']:.1f} (negative)")
    for _, r in scores.iterrows():
        echo(f"{r['task']:<14} {r['representation']:<8} AUC {r['auc']:.3f} "
             f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]  bal.acc {r['balanced_accuracy']:.3f}"
             f"  (n={r['n']}, {r['n_pos']} positive)")
    for _, r in pairs.iterrows():
        echo(f"{r['task']:<14} {r['rep_a']} - {r['rep_b']}: dAUC {r['auc_diff']:+.3f}, "
             f"DeLong p = {r['p_delong']:.3g} (Holm {r['p_holm']:.3g})")
    if len(pairs):
        echo(f"multiplicity: the table holds {len(pairs)} paired DeLong tests "
             f"({len(tasks)} task(s)); p_holm adjusts for all of them")
    return paths


PROBE = StageSpec("probe", {
    "scores": Output("probe.tsv", "probe"),
    "pairs": Output("probe_pairs.tsv", "probe_pairs"),
    "predictions": Output("probe_predictions.parquet"),
}, ProbeParams, run_probe)


class ManifestParams(StageParams):
    """A cohort manifest from a FreeSurfer SUBJECTS_DIR and/or a BIDS dataset."""

    subjects_dir: Path | None = None
    bids: Path | None = None
    session: str | None = Field(None, description="BIDS session label (default: the first)")


def run_manifest(params: ManifestParams, echo: Echo = silent) -> Outputs:
    """``cohort.tsv`` (IID age sex t1_path freesurfer_dir session missing) and
    ``manifest_report.json``."""
    from rnce_bag.core.io import write_table, write_text
    from rnce_bag.core.outdir import expected_writes, staged_run
    from rnce_bag.imaging.manifest_build import build_manifest, check_manifest

    sources = [p for p in (params.subjects_dir, params.bids) if p is not None]
    with staged_run(params.out, "manifest", writes=expected_writes(MANIFEST),
                    config={"session": params.session},
                    protect=sources) as (stage, record):
        table, report = build_manifest(params.subjects_dir, params.bids, params.session)
        path = output_path(MANIFEST, "manifest", stage)
        check_manifest(table, output_path(MANIFEST, "manifest", params.out))
        write_table(table, path)
        write_text(output_path(MANIFEST, "report", stage), json.dumps(report, indent=2) + "\n")
        record.add_output(path)
    out = output_path(MANIFEST, "manifest", params.out)
    echo(f"{report['n_subjects']} subjects, {report['n_complete']} with everything -> {out}")
    short = {k: v for k, v in report["missing"].items() if v}
    if short:
        echo("missing: " + ", ".join(f"{k} for {v}" for k, v in short.items())
             + " (column 'missing' per subject)")
    for what in ("only_freesurfer", "only_bids"):
        if report[what]:
            echo(f"{what.replace('_', ' ')}: {', '.join(report[what][:10])}")
    return {"manifest": out, "report": output_path(MANIFEST, "report", params.out)}


MANIFEST = StageSpec("manifest", {
    "manifest": Output("cohort.tsv", None, "IID age sex t1_path freesurfer_dir session "
                       "missing"),
    "report": Output("manifest_report.json"),
}, ManifestParams, run_manifest)


class RegisterParams(StageParams):
    """Every T1 of a manifest registered to MNI152 with ANTs."""

    manifest: Path
    transform: Literal["syn", "syn-quick", "affine", "affine-quick"] = Field(
        "syn", description="rigid + affine + SyN, or rigid + affine; -quick: ANTs' quick "
                           "recipe")
    spacing: float = Field(2.0, gt=0, le=4, description="voxel size (mm) of the MNI grid "
                           "the images are registered to and written on")
    n4: bool = Field(False, description="N4 bias-field correction before registration")
    jobs: int = Field(1, ge=1, le=64, description="subjects registered at once")
    seed: int = 1
    cache_dir: Path | None = Field(None, description="registration cache (default "
                                   "out/.cache): reused across runs and resumes")

    def key_payload(self) -> dict:
        return self.model_dump(mode="json", exclude={"out", "jobs", "cache_dir"})


def run_register(params: RegisterParams, echo: Echo = silent) -> Outputs:
    """``images/``, ``transforms/``, ``manifest.tsv``, ``registration_qc.tsv``,
    ``registration_qc.png`` and ``register_report.json``."""
    from rnce_bag.core.io import write_table, write_text
    from rnce_bag.core.logging import make_progress
    from rnce_bag.core.outdir import expected_writes, staged_run
    from rnce_bag.imaging.register_run import register_cohort, save_figure
    from rnce_bag.imaging.registration import RegisterSettings

    settings = RegisterSettings(params.transform, params.spacing, params.n4, params.seed)
    cache = params.cache_dir or Path(params.out) / ".cache"
    if cache.is_symlink():
        raise InputError(f"{cache} is a symbolic link; rnce-bag never writes through one",
                         hint="remove the link, or give --cache-dir")
    with staged_run(params.out, "register", writes=expected_writes(REGISTER),
                    config={"transform": params.transform, "spacing_mm": params.spacing,
                            "n4": params.n4, "seed": params.seed},
                    inputs=[params.manifest]) as (stage, record), make_progress() as bar:
        task = bar.add_task(f"registering to MNI152 ({params.transform}, "
                            f"{params.spacing:g} mm)", total=None)
        qc, report, manifest = register_cohort(
            params.manifest, stage, cache, settings, params.jobs,
            progress=lambda done, total: bar.update(task, completed=done, total=total))
        write_output(REGISTER, "qc", qc.assign(cached=qc["cached"].astype(str)), stage)
        write_table(manifest, output_path(REGISTER, "manifest", stage))
        save_figure(qc, stage, settings, output_path(REGISTER, "figure", stage))
        write_text(output_path(REGISTER, "report", stage), json.dumps(report, indent=2) + "\n")
        for name in ("manifest", "qc", "figure"):
            record.add_output(output_path(REGISTER, name, stage))
    out = Path(params.out)
    echo(f"registered {report['n_registered']} of {report['n_subjects']} subjects "
         f"({report['n_cached']} from the cache), median {report['median_seconds']:.1f} s "
         f"-> {output_path(REGISTER, 'manifest', out)}")
    if report["n_flagged"]:
        echo(f"{report['n_flagged']} registration(s) to check (mask Dice < "
             f"{report['qc_thresholds']['mask_dice']} or similarity < "
             f"{report['qc_thresholds']['similarity']}): see registration_qc.tsv/.png")
    for f in report["failed"][:10]:
        echo(f"failed: {f['IID']}: {f['status'].removeprefix('failed: ')}")
    return {k: output_path(REGISTER, k, out) for k in ("manifest", "qc", "figure", "report")}


REGISTER = StageSpec("register", {
    "manifest": Output("manifest.tsv", None, "the registered subjects' manifest rows, "
                       "t1_path -> images/<IID>.nii.gz"),
    "qc": Output("registration_qc.tsv", "registration_qc"),
    "figure": Output("registration_qc.png", None, "mid-slices, lowest overlap first"),
    "report": Output("register_report.json"),
    "registered_t1s": Output("images", None, "registered T1s on the MNI grid"),
    "transform_files": Output("transforms", None, "ANTs transforms per subject"),
}, RegisterParams, run_register)


__all__ = ["BrainAgeParams", "EmbedParams", "FeaturesParams", "ManifestParams", "ProbeParams",
           "RegisterParams", "SimulateParams", "TrainParams", "run_brain_age", "run_embed",
           "run_features", "run_manifest", "run_probe", "run_register", "run_simulate",
           "run_train"]
