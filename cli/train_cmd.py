"""``rnce-bag train`` and ``rnce-bag embed``: self-supervised encoders and their embeddings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app
from cli.options import SetOption
from rnce_bag.ssl.methods import choices, names


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
    method: Annotated[str | None, typer.Option("--method", help=f"{choices()} "
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
    from rnce_bag.core.stage import make_params
    from rnce_bag.stages import TrainParams, run_train

    if method is not None and method not in names():
        raise typer.BadParameter(f"{method!r}: expected {choices()}", param_hint="--method")
    run_train(make_params(TrainParams, out=out, manifest=manifest, features=features,
                          config=config, method=method, resume=resume, overwrite=overwrite,
                          cache_dir=cache_dir, overrides=set_ or []), echo=typer.echo)


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
                                                   "cache (default OUT/.cache; pass "
                                                   "RUN/cache to share the training "
                                                   "run's).")] = None,
) -> None:
    """Embed subjects with a trained model -> embeddings.parquet (IID, z0..z63).

    The sidecar embeddings.parquet.json names the method, the config hash and the
    checkpoint's SHA-256. Pass the table to 'rnce-bag brain-age --features NAME=PATH'.
    """
    from rnce_bag.core.stage import make_params
    from rnce_bag.stages import EmbedParams, run_embed

    run_embed(make_params(EmbedParams, out=out, run=run, manifest=manifest, patches=patches,
                          batch_size=batch_size, cache_dir=cache_dir), echo=typer.echo)
