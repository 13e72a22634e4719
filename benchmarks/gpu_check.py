"""The GPU path, checked end to end in one short run (for a device machine with CUDA).

Usage: python benchmarks/gpu_check.py [--config configs/ssl/paper.yaml] [--device cuda]
       [--steps 5] [--batch N] [--no-train] [--out DIR]

1. **Throughput at the preset's settings**: ``benchmarks/train_throughput.py`` for R-NCE
   on synthetic patches of the config's size (stage-1 and stage-2 steps, bfloat16
   autocast, grouped convolutions on CUDA), printing subjects/s, peak GPU memory and the
   loss of the first and the last step. When the config's batch does not fit in the
   GPU's memory the batch is halved until it does, and the largest that fits is printed
   (the global batch is then reached with ``torchrun`` over several GPUs).
2. **The real command**: ``rnce-bag simulate --preset tiny`` then ``rnce-bag train``
   with the config on the device for a few steps per stage (``stageN.max_steps``), then
   ``rnce-bag embed``: the data loader (pinned memory), checkpointing and the embedding
   pass on CUDA.

Exit 0 when every part ran; 1 with the failing part's output otherwise. On a machine
without CUDA, ``--device cuda`` stops at once with exit 3 and says so.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    """Run without a shell, from the repository root; echo the command and its time."""
    print("$", " ".join(cmd), flush=True)
    tic = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    print(f"  ({time.perf_counter() - tic:.1f} s, exit {res.returncode})", flush=True)
    return res


def throughput(config: str, device: str, steps: int, batch: int | None) -> dict:
    """Largest batch (from ``batch`` or the config's, halving on out-of-memory) and its row."""
    while True:
        cmd = [sys.executable, str(HERE / "train_throughput.py"), "--child", "rnce",
               "--config", config, "--device", device, "--steps", str(steps)]
        if batch:
            cmd += ["--batch", str(batch)]
        res = run(cmd)
        if res.returncode == 0:
            return json.loads(res.stdout.strip().splitlines()[-1])
        if "out of memory" not in res.stderr.lower() or (batch or 2) <= 2:
            raise RuntimeError(f"throughput failed:\n{res.stderr[-4000:]}")
        batch = (batch or _config_batch(config)) // 2
        print(f"  out of GPU memory: trying batch {batch}", flush=True)


def _config_batch(config: str) -> int:
    from rnce_bag.core.config import load_config
    from rnce_bag.ssl.config import SSLConfig

    return load_config(config, SSLConfig).data.batch_size


def train_end_to_end(config: str, device: str, batch: int, out: Path,
                     cohort: Path | None = None) -> None:
    """simulate tiny (unless ``cohort`` is given) -> train a few steps on ``device`` -> embed."""
    cli = [sys.executable, "-m", "cli"]
    sim = cohort or out / "sim"
    steps = ["stage1.max_steps=3", "stage2.max_steps=3", f"device={device}",
             f"data.batch_size={batch}", f"stage2.batch_size={max(batch, 8)}",
             "loss.max_aux_dim=4", "data.num_workers=2", "checkpoint_every=2"]
    parts = [] if cohort else [[*cli, "simulate", "--preset", "tiny", "--out", str(sim)]]
    parts += [
        [*cli, "features", "--manifest", str(sim / "cohort.tsv"), "--out", str(out / "fs")],
        [*cli, "train", "--manifest", str(sim / "cohort.tsv"), "--features",
         str(out / "fs" / "features.parquet"), "--out", str(out / "train"), "--config", config,
         *[a for s in steps for a in ("--set", s)]],
        [*cli, "embed", "--run", str(out / "train"), "--manifest", str(sim / "cohort.tsv"),
         "--out", str(out / "embed")],
    ]
    for cmd in parts:
        res = run(cmd)
        if res.returncode != 0:
            raise RuntimeError(f"{cmd[3]} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    metrics = [json.loads(line) for line in (out / "train" / "metrics.jsonl").read_text()
               .splitlines()]
    print("train on the device:", ", ".join(f"stage {m['stage']} step {m['step']} loss "
                                             f"{m['loss']:.3f}" for m in metrics))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "configs" / "ssl" / "paper.yaml"))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--no-train", action="store_true", help="skip the end-to-end command")
    ap.add_argument("--out", default=None, help="folder for the end-to-end run (default: temp)")
    ap.add_argument("--cohort", default=None, help="a simulated cohort to use instead of "
                                                    "simulating the tiny preset")
    args = ap.parse_args(argv)

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device here: this check needs a GPU machine (it stops, exit 3)")
        return 3
    if args.device == "cuda":
        props = torch.cuda.get_device_properties(0)
        print(f"device: {props.name}, {props.total_memory / 1024**3:.0f} GiB, torch "
              f"{torch.__version__}, CUDA {torch.version.cuda}")
    try:
        row = throughput(args.config, args.device, args.steps, args.batch)
        mem = row.get("peak_gpu_gb", row.get("peak_rss_gb"))
        print(f"throughput ({args.config}, batch {row['batch']}, 18 x {row['patch_voxels']}^3): "
              f"stage 1 {row['stage1_subjects_per_s']:.2f} subjects/s, stage 2 "
              f"{row['stage2_subjects_per_s']:.2f} subjects/s, peak memory {mem:.2f} GiB; loss "
              f"stage 1 {row['stage1_loss_first']:.3f} -> {row['stage1_loss_last']:.3f}, stage 2 "
              f"{row['stage2_loss_first']:.3f} -> {row['stage2_loss_last']:.3f} after "
              f"{args.steps} steps")
        if not args.no_train:
            batch = min(row["batch"], 16)
            cohort = Path(args.cohort) if args.cohort else None
            if args.out:
                train_end_to_end(args.config, args.device, batch, Path(args.out), cohort)
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    train_end_to_end(args.config, args.device, batch, Path(tmp), cohort)
    except RuntimeError as err:
        print(f"FAILED: {err}")
        return 1
    print("GPU path: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
