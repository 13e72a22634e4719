"""Two-stage self-supervised training (R-NCE, SimCLR or Barlow Twins).

Stage 1 trains the 18 patch encoders, each with the patch-level loss on its own
regional FreeSurfer features; stage 2 freezes them and trains the aggregator with the
image-level loss on all features (PCA-reduced, fitted on the training subjects).
AdamW, linear warm-up then cosine decay, gradient clipping, bfloat16 autocast on CUDA.

Determinism and resume: the subjects of step ``s`` come from a permutation seeded by
``(seed, stage, epoch)`` and its augmentations from a generator seeded by ``(seed,
stage, step, rank)``, so a run resumed from a checkpoint sees exactly the batches and
views of an uninterrupted run and ends with the same weights on the CPU (tested).
Checkpoints are written atomically every ``checkpoint_every`` steps and at the end of
each stage; ``metrics.jsonl`` gets one line per step (each loss term separately).

Multi-GPU / multi-process: launched by ``torchrun`` (``WORLD_SIZE`` > 1) each process
takes its share of every global batch and the trainable stage is wrapped in
DistributedDataParallel (NCCL on GPUs, gloo on CPUs); rank 0 writes the files.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler

from rnce_bag.core.config import dump_config
from rnce_bag.core.errors import InputError
from rnce_bag.core.io import write_text
from rnce_bag.core.schema import read_table
from rnce_bag.core.workers import worker_signals
from rnce_bag.imaging.dataset import CohortDataset, FeatureScaler, align, patch_feature_columns
from rnce_bag.imaging.manifest import check_t1_headers, load_manifest
from rnce_bag.imaging.nifti import PreprocessParams
from rnce_bag.imaging.patches import PatchLayout, load_layout
from rnce_bag.ssl.augment import augment, patch_bias_basis
from rnce_bag.ssl.auxiliary import AuxFeatures
from rnce_bag.ssl.checkpoint import CHECKPOINT, MODEL, load_checkpoint, save_checkpoint
from rnce_bag.ssl.config import AugmentConfig, SSLConfig, StageConfig
from rnce_bag.ssl.losses import SSLLoss
from rnce_bag.ssl.model import ImageStage, PatchStage, SSLModel
from rnce_bag.stages import TRAIN

log = logging.getLogger(__name__)

METRICS = TRAIN.outputs["metrics"].file
Progress = Callable[[dict[str, Any]], None]


class Interrupted(RuntimeError):
    """Raised by a ``stop_after`` hook (tests simulate a killed run with it)."""


@dataclass
class TrainingData:
    """The training subjects' dataset and what was fitted on them."""

    dataset: CohortDataset
    scaler: FeatureScaler
    aux: AuxFeatures


def select_training(manifest: pd.DataFrame, train_filter: dict[str, list[str]]) -> pd.DataFrame:
    """Rows of ``manifest`` passing every ``column -> allowed values`` filter."""
    keep = np.ones(len(manifest), dtype=bool)
    for col, allowed in train_filter.items():
        if col not in manifest.columns:
            raise InputError(f"data.train_filter names column '{col}', which the manifest "
                             f"lacks (columns: {', '.join(manifest.columns)})")
        keep &= manifest[col].astype(str).isin([str(a) for a in allowed]).to_numpy()
    return manifest[keep].reset_index(drop=True)


def load_training_data(cfg: SSLConfig, manifest: str | os.PathLike[str],
                       features: str | os.PathLike[str],
                       cache_dir: str | os.PathLike[str]) -> TrainingData:
    """Training subjects with T1 images and FreeSurfer features; fit scaler and PCA."""
    m = select_training(load_manifest(manifest, require=("t1_path",)), cfg.data.train_filter)
    batch = max(cfg.batch_size(1), cfg.batch_size(2))
    if len(m) < 2 * batch:
        raise InputError(f"{manifest}: {len(m)} training subject(s) for a batch size of "
                         f"{batch}; need at least {2 * batch}",
                         hint="lower data.batch_size (or stage1/stage2.batch_size) or loosen "
                              "data.train_filter")
    check_t1_headers(m, manifest)  # a damaged image fails now, not mid-training
    f = align(m, read_table(features, "freesurfer_features"), str(manifest))
    names = [c for c in f.columns if c != "IID"]
    x = f[names].to_numpy(dtype=np.float64)
    scaler = FeatureScaler.fit(x)
    layout = load_layout(cfg.data.patch_layout)
    ds = CohortDataset(list(m["IID"]), list(m["t1_path"]), scaler.transform(x), names, layout,
                       PreprocessParams(spacing=cfg.data.spacing_mm), cache_dir)
    aux = fit_aux(cfg, ds.features, names, layout)
    problem = cfg.aux_problem(aux.stage_dims())
    if problem:
        raise InputError(f"{features}: {problem}",
                         hint="use a larger batch (data.batch_size, stage1/stage2.batch_size), "
                              "a smaller loss.aux_variance or a loss.max_aux_dim")
    return TrainingData(ds, scaler, aux)


def fit_aux(cfg: SSLConfig, standardised: np.ndarray, names: list[str],
            layout: PatchLayout) -> AuxFeatures:
    """The auxiliary sets of ``cfg`` on training features (n, p), standardised.

    Patch ``k`` gets the columns of the regions ``layout`` puts in it, the image all.
    """
    pos = {c: i for i, c in enumerate(names)}
    patch_cols = [[pos[c] for c in cols] for cols in patch_feature_columns(names, layout)]
    return AuxFeatures.fit(standardised, patch_cols, cfg.loss.aux_variance,
                           cfg.loss.max_aux_dim)


def effective_augment(cfg: SSLConfig, layout: PatchLayout) -> AugmentConfig:
    """The augmentation ranges on the training grid (a scanner model resolved)."""
    return cfg.augment.resolved(cfg.data.spacing_mm, float(np.mean(layout.patch_size_mm)))


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


def stage_steps(stage: StageConfig, n_subjects: int, batch: int) -> int:
    """Steps of a stage: ``epochs`` passes over full batches, capped by ``max_steps``."""
    per_epoch = max(1, n_subjects // batch)
    steps = max(1, math.ceil(stage.epochs * per_epoch))
    return min(steps, stage.max_steps) if stage.max_steps else steps


class StepBatches(Sampler[list[int]]):
    """Index lists of steps ``start..stop-1``: this rank's share of each global batch."""

    def __init__(self, n: int, batch: int, seed: int, stage: int, start: int, stop: int,
                 rank: int = 0, world: int = 1) -> None:
        self.n, self.batch, self.seed, self.stage = n, batch, seed, stage
        self.start, self.stop, self.rank, self.world = start, stop, rank, world
        self.per_epoch = max(1, n // batch)

    def global_batch(self, step: int) -> np.ndarray:
        epoch, j = divmod(step, self.per_epoch)
        perm = np.random.default_rng(_seed(self.seed, self.stage, epoch)).permutation(self.n)
        return perm[j * self.batch:(j + 1) * self.batch]

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start, self.stop):
            yield self.global_batch(step)[self.rank::self.world].tolist()

    def __len__(self) -> int:
        return self.stop - self.start


def cosine_schedule(total: int, warmup_fraction: float) -> Callable[[int], float]:
    """Learning-rate factor of step ``s``: linear warm-up, then cosine to 0."""
    warm = int(round(warmup_fraction * total))

    def factor(s: int) -> float:
        if s < warm:
            return (s + 1) / warm
        t = (s - warm) / max(1, total - warm)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))

    return factor


@dataclass
class DistContext:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed(device: str) -> DistContext:
    """Device and, under ``torchrun``, the process group (NCCL on GPUs, else gloo)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("device 'cuda' requested but CUDA is not available",
                         hint="set device: cpu (or auto) in the config")
    if world <= 1:
        return DistContext(device=torch.device("cuda" if use_cuda else "cpu"))
    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    dev = torch.device(f"cuda:{local}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    return DistContext(dist.get_rank(), dist.get_world_size(), dev)


def _read_metrics(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _trim_metrics(path: Path, stage: int, step: int) -> None:
    """Keep the metric lines up to (stage, step) (a resumed run rewrites the rest)."""
    rows = [r for r in _read_metrics(path) if (r["stage"], r["step"]) <= (stage, step)]
    write_text(path, "".join(json.dumps(r) + "\n" for r in rows))


class Trainer:
    """Runs both stages into ``out_dir`` (see module docstring)."""

    def __init__(self, cfg: SSLConfig, data: TrainingData, out_dir: str | os.PathLike[str],
                 ctx: DistContext | None = None, progress: Progress | None = None,
                 stop_after: int | None = None) -> None:
        self.cfg, self.data, self.out = cfg, data, Path(out_dir)
        self.ctx = ctx or DistContext()
        self.progress = progress
        self.stop_after = stop_after  # total steps (both stages) before Interrupted
        self.steps_done = 0
        torch.manual_seed(cfg.seed)
        self.model = SSLModel(len(data.dataset.layout.patches), cfg).to(self.ctx.device)
        self.augment_cfg = effective_augment(cfg, data.dataset.layout)
        self.bias_basis = patch_bias_basis(data.dataset.layout,
                                           data.dataset.params.grid).to(self.ctx.device)
        self.loss = SSLLoss(cfg.method, cfg.loss.tau, cfg.loss.alpha, cfg.loss.ridge,
                            cfg.loss.barlow_lambda)
        self.n_steps = {s: stage_steps(c, len(data.dataset), cfg.batch_size(s))
                        for s, c in ((1, cfg.stage1), (2, cfg.stage2))}

    # -- state -------------------------------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        ds = self.data.dataset
        return {
            "config": dump_config(self.cfg),
            "feature_names": ds.feature_names,
            "patch_names": ds.layout.names,
            "layout": dump_config(ds.layout),
            "scaler": {"mean": torch.tensor(self.data.scaler.mean),
                       "std": torch.tensor(self.data.scaler.std)},
            "aux": self.data.aux.state(),
            "n_train": len(ds),
        }

    def _save(self, stage: int, step: int, opt, sched) -> None:
        if not self.ctx.main:
            return
        save_checkpoint({**self._meta(), "stage": stage, "step": step,
                         "model": self.model.state_dict(), "optimizer": opt.state_dict(),
                         "scheduler": sched.state_dict()}, self.out / CHECKPOINT)

    # -- steps -------------------------------------------------------------------------
    def _views(self, batch: dict, stage: int, step: int) -> torch.Tensor:
        x = batch["patches"].to(self.ctx.device, non_blocking=True)
        g = torch.Generator(device=self.ctx.device)
        g.manual_seed(_seed(self.cfg.seed, stage, step, self.ctx.rank))
        a, basis = self.augment_cfg, self.bias_basis
        return torch.cat([augment(x, a, g, basis), augment(x, a, g, basis)])

    def _autocast(self):
        on = self.cfg.amp and self.ctx.device.type == "cuda"
        return torch.autocast(self.ctx.device.type, dtype=torch.bfloat16, enabled=on)

    def _stage1_loss(self, net: nn.Module, views: torch.Tensor, feats: torch.Tensor
                     ) -> dict[str, torch.Tensor]:
        with self._autocast():
            z = net(views).float()
        b = feats.shape[0]
        terms: dict[str, torch.Tensor] = {}
        for k, aux in enumerate(self.data.aux.patches):
            out = self.loss(z[:b, k], z[b:, k], aux.apply(feats))
            for key, val in out.items():
                terms[key] = terms.get(key, 0) + val / z.shape[1]
        return terms

    def _stage2_loss(self, net: nn.Module, views: torch.Tensor, feats: torch.Tensor
                     ) -> dict[str, torch.Tensor]:
        with torch.no_grad(), self._autocast():
            tokens = self.model.encoders(views)
        with self._autocast():
            z = net(tokens.float()).float()
        b = feats.shape[0]
        return self.loss(z[:b], z[b:], self.data.aux.image.apply(feats))

    def _run_stage(self, stage: int, start: int, state: dict | None) -> None:
        cfg_stage = self.cfg.stage1 if stage == 1 else self.cfg.stage2
        total = self.n_steps[stage]
        if stage == 1:
            trainable: nn.Module = PatchStage(self.model)
            loss_fn = self._stage1_loss
        else:
            self.model.encoders.requires_grad_(False)
            self.model.encoders.eval()
            trainable = ImageStage(self.model)
            loss_fn = self._stage2_loss
        params = [p for p in trainable.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=cfg_stage.lr, weight_decay=cfg_stage.weight_decay)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, cosine_schedule(total, cfg_stage.warmup_fraction))
        if state is not None:
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
        net = trainable
        if self.ctx.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            net = DistributedDataParallel(
                trainable, device_ids=[self.ctx.device.index] if self.ctx.device.type ==
                "cuda" else None)
        trainable.train()
        if stage == 2:
            self.model.encoders.eval()
        if start >= total:
            return
        sampler = StepBatches(len(self.data.dataset), self.cfg.batch_size(stage), self.cfg.seed,
                              stage, start, total, self.ctx.rank, self.ctx.world)
        loader = DataLoader(self.data.dataset, batch_sampler=sampler,
                            worker_init_fn=worker_signals,
                            num_workers=self.cfg.data.num_workers,
                            pin_memory=self.ctx.device.type == "cuda",
                            persistent_workers=False)
        metrics = self.out / METRICS
        tic = time.perf_counter()
        for step, batch in enumerate(loader, start=start):
            views = self._views(batch, stage, step)
            feats = batch["features"].to(self.ctx.device)
            terms = loss_fn(net, views, feats)
            opt.zero_grad(set_to_none=True)
            terms["loss"].backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg_stage.grad_clip)
            opt.step()
            sched.step()
            toc = time.perf_counter()
            n_global = len(batch["iid"]) * self.ctx.world
            row = {"stage": stage, "step": step + 1, "steps": total,
                   "lr": opt.param_groups[0]["lr"], "grad_norm": float(grad_norm),
                   **{k: float(v.detach()) if torch.is_tensor(v) else float(v)
                      for k, v in terms.items()},
                   "samples_per_s": n_global / max(toc - tic, 1e-9)}
            tic = toc
            if self.ctx.main:
                with open(metrics, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row) + "\n")
                if self.progress:
                    self.progress(row)
            if (step + 1) % self.cfg.checkpoint_every == 0 or step + 1 == total:
                self._save(stage, step + 1, opt, sched)
            self.steps_done += 1
            if self.stop_after is not None and self.steps_done >= self.stop_after:
                raise Interrupted(f"stopped after {self.steps_done} steps")

    def run(self, resume: bool = False) -> dict[str, Any]:
        """Train (or continue) both stages; write ``model.pt``; return a summary."""
        start_stage, start_step, state = 1, 0, None
        ckpt = self.out / CHECKPOINT
        if resume and ckpt.exists():
            state = load_checkpoint(ckpt)
            if state["config"] != dump_config(self.cfg):
                raise InputError(f"{ckpt}: the checkpoint was written with another config",
                                 hint="resume with the same config, or train into a new "
                                      "folder")
            self.model.load_state_dict(state["model"])
            start_stage, start_step = int(state["stage"]), int(state["step"])
            if self.ctx.main:
                _trim_metrics(self.out / METRICS, start_stage, start_step)
            log.info("resuming at stage %d step %d", start_stage, start_step)
        elif self.ctx.main:
            (self.out / METRICS).unlink(missing_ok=True)
        for stage in (1, 2):
            if stage < start_stage:
                continue
            resume_here = stage == start_stage and state is not None
            self._run_stage(stage, start_step if stage == start_stage else 0,
                            state if resume_here else None)
            if stage == 1:
                # a finished stage-1 checkpoint resumes into stage 2 from scratch
                state, start_step = None, 0
        if self.ctx.main:
            save_checkpoint({**self._meta(), "model": self.model.state_dict()},
                            self.out / MODEL)
        return {"steps": self.n_steps, "n_train": len(self.data.dataset),
                "last": {s: [r for r in _read_metrics(self.out / METRICS) if r["stage"] == s][-1:]
                         for s in (1, 2)} if self.ctx.main else {}}


def train(cfg: SSLConfig, manifest: str | os.PathLike[str], features: str | os.PathLike[str],
          out_dir: str | os.PathLike[str], resume: bool = False,
          cache_dir: str | os.PathLike[str] | None = None, progress: Progress | None = None,
          stop_after: int | None = None, warn: Callable[[str], None] | None = None
          ) -> dict[str, Any]:
    """Train ``cfg.method`` on the manifest's subjects into ``out_dir``.

    Parameters
    ----------
    cfg : SSLConfig
    manifest, features
        Cohort manifest (with ``t1_path``) and ``rnce-bag features`` output.
    out_dir
        Run folder: ``checkpoint.pt``, ``model.pt``, ``metrics.jsonl``, ``config.yaml``.
    resume
        Continue from ``out_dir/checkpoint.pt`` (same config required).
    cache_dir
        Preprocessed-volume cache (default ``out_dir/cache``).
    progress
        Called with each step's metrics row (rank 0).
    stop_after
        Raise :class:`Interrupted` after this many steps (tests).
    warn
        Called with each of :meth:`SSLConfig.rnce_warnings` once the auxiliary sets are
        fitted (rank 0).

    Returns
    -------
    dict
        ``steps`` per stage, ``n_train``, ``last`` metric rows per stage, ``aux``
        (:meth:`AuxFeatures.summary`) and ``augment`` (the ranges on the training grid).
    """
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    ctx = setup_distributed(cfg.device)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = load_training_data(cfg, manifest, features, cache_dir or out / "cache")
    if ctx.main:
        for w in cfg.rnce_warnings(data.aux.stage_dims()):
            (warn or log.warning)(w)
    trainer = Trainer(cfg, data, out, ctx, progress, stop_after)
    return {**trainer.run(resume=resume), "aux": data.aux.summary(),
            "augment": dump_config(trainer.augment_cfg)}
