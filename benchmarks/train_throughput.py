"""Training throughput of R-NCE vs SimCLR (and Barlow Twins) on the same model.

Usage: python benchmarks/train_throughput.py [--config configs/ssl/demo.yaml]
       [--steps N] [--batch N] [--device cpu|cuda] [--loader-cohort DIR]

Each method runs in its own child process (peak RSS, or peak CUDA memory, is then the
method's alone) on synthetic patches of the configured size: stage-1 steps (two
augmented views, 18 patch encoders forward + backward, AdamW) and stage-2 steps
(frozen encoders, aggregator). All methods use the representation itself (no
projection head) so the only difference is the loss; the R-NCE overhead is its 18
patch-level ridge projections per step. On a GPU use the paper config
(``--config configs/ssl/paper.yaml --device cuda``); ``--loader-cohort`` also times
the cached data loader on a simulated cohort, to show it is not the bottleneck.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time


def child(args) -> None:
    import torch

    from rnce_bag.core.config import load_config
    from rnce_bag.ssl.auxiliary import AuxFeatures
    from rnce_bag.ssl.config import SSLConfig
    from rnce_bag.ssl.losses import SSLLoss
    from rnce_bag.ssl.model import ImageStage, PatchStage, SSLModel

    cfg = load_config(args.config, SSLConfig, [f"method={args.method}", "loss.head_dims=[]"])
    dev = torch.device(args.device)
    torch.manual_seed(0)
    n_patches, b = 18, args.batch or cfg.data.batch_size
    side = int(round(80 / cfg.data.spacing_mm))
    model = SSLModel(n_patches, cfg).to(dev)
    model.encoders.stack = "grouped" if dev.type == "cuda" else "loop"
    loss_fn = SSLLoss(cfg.method, cfg.loss.tau, cfg.loss.alpha, cfg.loss.ridge)
    x = torch.rand(b, n_patches, 1, side, side, side, device=dev)
    feats = torch.randn(b, 300).numpy()
    aux = AuxFeatures.fit(feats, [list(range(k * 10, k * 10 + 20)) for k in range(n_patches)],
                          cfg.loss.aux_variance, cfg.loss.max_aux_dim)
    f = torch.tensor(feats, device=dev)
    from rnce_bag.imaging.nifti import PreprocessParams
    from rnce_bag.imaging.patches import load_layout
    from rnce_bag.ssl.augment import augment as augment_batch
    from rnce_bag.ssl.augment import patch_bias_basis
    from rnce_bag.ssl.train import effective_augment

    layout = load_layout(cfg.data.patch_layout)
    aug = effective_augment(cfg, layout)
    basis = patch_bias_basis(layout, PreprocessParams(spacing=cfg.data.spacing_mm).grid).to(dev)

    def augment(v, _cfg, g):  # the trainer's ranges and brain-wide bias field
        return augment_batch(v, aug, g, basis)

    amp = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda")

    def stage1_step(opt, net):
        g = torch.Generator(device=dev).manual_seed(1)
        v = torch.cat([augment(x, cfg.augment, g), augment(x, cfg.augment, g)])
        with amp:
            z = net(v).float()
        loss = sum(loss_fn(z[:b, k], z[b:, k], aux.patches[k].apply(f))["loss"]
                   for k in range(n_patches)) / n_patches
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.detach()  # read after the timing (a float() here syncs CUDA)

    def stage2_step(opt, net):
        g = torch.Generator(device=dev).manual_seed(1)
        v = torch.cat([augment(x, cfg.augment, g), augment(x, cfg.augment, g)])
        with torch.no_grad(), amp:
            t = model.encoders(v)
        with amp:
            z = net(t.float()).float()
        loss = loss_fn(z[:b], z[b:], aux.image.apply(f))["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.detach()  # read after the timing (a float() here syncs CUDA)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    out = {"method": cfg.method, "batch": b, "patch_voxels": side}
    for name, net, step in (("stage1", PatchStage(model), stage1_step),
                            ("stage2", ImageStage(model), stage2_step)):
        opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=1e-4)
        out[f"{name}_loss_first"] = float(step(opt, net))  # also the warm-up
        sync()
        start = time.perf_counter()
        for _ in range(args.steps):
            last = step(opt, net)
        sync()
        per_step = (time.perf_counter() - start) / args.steps
        out[f"{name}_loss_last"] = float(last)
        out[f"{name}_subjects_per_s"] = b / per_step
        out[f"{name}_patches_per_s"] = b * n_patches / per_step
    g = torch.Generator(device=dev).manual_seed(1)
    start = time.perf_counter()
    for _ in range(args.steps):
        augment(x, cfg.augment, g)
    sync()
    out["augment_subjects_per_s"] = b * args.steps / (time.perf_counter() - start)
    if dev.type == "cuda":
        out["peak_gpu_gb"] = torch.cuda.max_memory_allocated() / 1024**3
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(json.dumps(out))


def loader_rate(cohort: str, cfg_path: str) -> float:
    """Cached subjects/s of the training DataLoader on a simulated cohort."""
    import tempfile
    from pathlib import Path

    from torch.utils.data import DataLoader

    from rnce_bag.core.config import load_config
    from rnce_bag.imaging.features import build_features
    from rnce_bag.ssl.config import SSLConfig
    from rnce_bag.ssl.train import load_training_data

    cfg = load_config(cfg_path, SSLConfig)
    with tempfile.TemporaryDirectory() as tmp:
        feats, _ = build_features(Path(cohort) / "cohort.tsv")
        feats.to_parquet(Path(tmp) / "f.parquet", index=False)
        data = load_training_data(cfg, Path(cohort) / "cohort.tsv", Path(tmp) / "f.parquet",
                                  Path(tmp) / "cache")
        for _ in range(2):  # cold, then cached
            start, n = time.perf_counter(), 0
            for batch in DataLoader(data.dataset, batch_size=cfg.data.batch_size,
                                    num_workers=cfg.data.num_workers):
                n += len(batch["iid"])
        return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/ssl/demo.yaml")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--methods", default="simclr,rnce,barlow")
    ap.add_argument("--loader-cohort", default=None)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        args.method = args.child
        child(args)
        return
    rows = []
    for method in args.methods.split(","):
        cmd = [sys.executable, __file__, "--child", method, "--config", args.config,
               "--steps", str(args.steps), "--device", args.device]
        if args.batch:
            cmd += ["--batch", str(args.batch)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, device {args.device}; "
          f"config {args.config}; batch {rows[0]['batch']}; patches 18 x "
          f"{rows[0]['patch_voxels']}^3; {args.steps} steps each")
    mem = "peak_gpu_gb" if "peak_gpu_gb" in rows[0] else "peak_rss_gb"
    print(f"method\tstage1 patches/s\tstage1 subjects/s\tstage2 subjects/s\t"
          f"augment subjects/s\t{mem}\tstage1 time / SimCLR\tstage1 loss first -> last\t"
          f"stage2 loss first -> last")
    base = next((r for r in rows if r["method"] == "simclr"), rows[0])
    for r in rows:
        ratio = base["stage1_patches_per_s"] / r["stage1_patches_per_s"]
        print(f"{r['method']}\t{r['stage1_patches_per_s']:.1f}\t{r['stage1_subjects_per_s']:.2f}"
              f"\t{r['stage2_subjects_per_s']:.2f}\t{r['augment_subjects_per_s']:.1f}"
              f"\t{r[mem]:.2f}\t{ratio:.3f}\t{r['stage1_loss_first']:.3f} -> "
              f"{r['stage1_loss_last']:.3f}\t{r['stage2_loss_first']:.3f} -> "
              f"{r['stage2_loss_last']:.3f}")
    if args.loader_cohort:
        rate = loader_rate(args.loader_cohort, args.config)
        print(f"cached data loader: {rate:.1f} subjects/s "
              f"({rate / base['stage1_subjects_per_s']:.1f}x the stage-1 step)")


if __name__ == "__main__":
    main()
