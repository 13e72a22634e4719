"""``rnce-bag train`` and ``rnce-bag embed``: self-supervised encoders and their embeddings."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Annotated

import typer

from cli.app import app
from cli.options import SetOption


@app.command()
def train(
    manifest: Annotated[Path, typer.Option("--manifest", help="Cohort manifest with IID and "
                                           "t1_path (NIfTI in MNI space).")],
    features: Annotated[Path, typer.Option("--features", help="features.parquet from "
                                           "'rnce-bag features' (auxiliary FreeSurfer "
                                           "features).")],
    out: Annotated[Path, typer.Option("--out", help="Run directory (checkpoints, metrics, "
                                      "model.pt).")],
    config: Annotated[Path | None, typer.Option("--config", help="YAML (configs/ssl/: tiny, "
                                                "demo, paper).")] = None,
    method: Annotated[str | None, typer.Option("--method", help="rnce, simclr or barlow "
                                               "(overrides the config).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from "
                                         "its last checkpoint.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Start afresh in a folder "
                                            "that already holds a run.")] = False,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Preprocessed-volume "
                                                   "cache (default OUT/cache; share it "
                                                   "between runs).")] = None,
    set_: SetOption = None,
) -> None:
    """Train the patch encoders (stage 1) and the aggregator (stage 2).

    Writes model.pt (final weights), checkpoint.pt (latest state, for --resume),
    metrics.jsonl (one line per step, each loss term), config.yaml and run.json. Under
    torchrun (`torchrun --nproc-per-node N -m cli train ...`) the processes share each
    batch (DDP; NCCL on GPUs, gloo on CPUs).
    """
    import yaml

    from rnce_bag.core.config import dump_config, load_config
    from rnce_bag.core.errors import InputError
    from rnce_bag.core.io import ensure_writable_dir, write_text
    from rnce_bag.core.logging import make_progress
    from rnce_bag.core.outdir import recorded_command
    from rnce_bag.core.provenance import RunRecord
    from rnce_bag.ssl.checkpoint import CHECKPOINT, MODEL
    from rnce_bag.ssl.config import SSLConfig
    from rnce_bag.ssl.train import train as run_train

    overrides = list(set_ or [])
    if method is not None:
        if method not in ("rnce", "simclr", "barlow"):
            raise InputError(f"--method {method!r}: expected rnce, simclr or barlow")
        overrides.append(f"method={method}")
    cfg = load_config(config, SSLConfig, overrides)
    main = int(os.environ.get("RANK", "0")) == 0
    if main:
        ensure_writable_dir(out)
        existing = [p for p in (CHECKPOINT, MODEL) if (out / p).exists()]
        if existing and not (resume or overwrite):
            raise InputError(f"{out} already holds a training run ({', '.join(existing)})",
                             hint="pass --resume to continue it, --overwrite to start again, "
                                  "or choose another --out")
        if overwrite and not resume and existing:
            # only the files an earlier 'rnce-bag train' wrote here; the preprocessed-volume
            # cache is keyed by content and settings, so it stays valid and is kept
            if recorded_command(out) != "train":
                raise InputError(f"refusing --overwrite in {out}: it holds "
                                 f"{', '.join(existing)} but no run.json of 'rnce-bag train'",
                                 hint="choose another --out, or remove those files yourself")
            for name in (CHECKPOINT, MODEL, "metrics.jsonl"):
                (out / name).unlink(missing_ok=True)
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

    if main:
        for w in cfg.rnce_warnings():
            typer.echo(f"warning: {w}", err=True)
    record = RunRecord(out, "train", config=dump_config(cfg), inputs=[manifest, features],
                       seeds={"seed": cfg.seed}, tools=()) if main else None
    with record or contextlib.nullcontext(), bar:
        summary = run_train(cfg, manifest, features, out, resume=resume, progress=progress,
                            cache_dir=cache_dir)
        if record is not None:
            record.add_output(out / MODEL)
    if main:
        typer.echo(f"{cfg.method}: {summary['n_train']} training subjects, "
                   f"{summary['steps'][1]} + {summary['steps'][2]} steps -> {out / MODEL}")


@app.command()
def embed(
    run: Annotated[Path, typer.Option("--run", help="Folder written by 'rnce-bag train'.")],
    manifest: Annotated[Path, typer.Option("--manifest", help="Manifest of the subjects to "
                                           "embed (IID, t1_path).")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    patches: Annotated[bool, typer.Option("--patches", help="Also write the patch-level "
                                          "vectors p<k>_z<j>.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 16,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Preprocessed-volume "
                                                   "cache (default RUN/cache).")] = None,
) -> None:
    """Embed subjects with a trained model -> embeddings.parquet (IID, z0..z63).

    The sidecar embeddings.parquet.json names the method, the config hash and the
    checkpoint's SHA-256. Pass the table to 'rnce-bag brain-age --features NAME=PATH'.
    """
    from rnce_bag.core.io import ensure_writable_dir
    from rnce_bag.core.logging import make_progress
    from rnce_bag.core.provenance import RunRecord
    from rnce_bag.ssl.checkpoint import MODEL
    from rnce_bag.ssl.embed import EMBEDDINGS
    from rnce_bag.ssl.embed import embed as run_embed

    ensure_writable_dir(out)
    with RunRecord(out, "embed", config={"patches": patches, "batch_size": batch_size},
                   inputs=[manifest, run / MODEL], tools=()) as record, make_progress() as bar:
        task = bar.add_task("embedding", total=None)
        table = run_embed(run, manifest, out, patches=patches, batch_size=batch_size,
                          cache_dir=cache_dir,
                          progress=lambda d, t: bar.update(task, completed=d, total=t))
        record.add_output(out / EMBEDDINGS)
    typer.echo(f"embedded {len(table)} subjects -> {out / EMBEDDINGS}")
