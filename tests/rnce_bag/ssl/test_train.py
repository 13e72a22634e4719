"""Two-stage training: determinism, resume after interruption, DDP, embeddings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from rnce_bag.core.errors import InputError
from rnce_bag.ssl.checkpoint import load_checkpoint
from rnce_bag.ssl.config import SSLConfig
from rnce_bag.ssl.embed import embed
from rnce_bag.ssl.train import Interrupted, StepBatches, cosine_schedule, train

pytestmark = pytest.mark.slow


def small_config(**extra) -> SSLConfig:
    data = {"method": "rnce", "checkpoint_every": 2, "threads": 1,
            "data": {"spacing_mm": 8.0, "batch_size": 8},
            "encoder": {"width": 2, "max_width": 4},
            "loss": {"max_aux_dim": 4, "ridge": 0.05, "head_dims": [16, 8]},
            "stage1": {"max_steps": 4}, "stage2": {"max_steps": 3}}
    data.update(extra)
    return SSLConfig.model_validate(data)


def _run(tiny_sim, tiny_features, out, cfg, **kw):
    return train(cfg, tiny_sim / "cohort.tsv", tiny_features, out,
                 cache_dir=out.parent / "cache", **kw)


def _weights(path: Path) -> dict:
    return load_checkpoint(path / "model.pt")["model"]


def test_step_batches_cover_each_epoch_once_and_split_across_ranks():
    s = StepBatches(50, 8, seed=3, stage=1, start=0, stop=6)
    first_epoch = np.concatenate([s.global_batch(k) for k in range(6)])
    assert len(set(first_epoch.tolist())) == 48
    ranks = [list(StepBatches(50, 8, 3, 1, 2, 4, rank=r, world=2)) for r in (0, 1)]
    assert sorted(ranks[0][0] + ranks[1][0]) == sorted(s.global_batch(2).tolist())
    f = cosine_schedule(100, 0.1)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0) and f(100) == 0.0


@pytest.mark.parametrize("stop_after", [3, 5])  # inside stage 1 / inside stage 2
def test_resume_after_interruption_gives_the_same_weights(tiny_sim, tiny_features, tmp_path,
                                                          stop_after):
    cfg = small_config()
    full = tmp_path / "full"
    _run(tiny_sim, tiny_features, full, cfg)
    cut = tmp_path / "cut"
    with pytest.raises(Interrupted):
        _run(tiny_sim, tiny_features, cut, cfg, stop_after=stop_after)
    assert not (cut / "model.pt").exists()
    _run(tiny_sim, tiny_features, cut, cfg, resume=True)
    a, b = _weights(full), _weights(cut)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    rows = [json.loads(x) for x in (cut / "metrics.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["step"]) for r in rows] == \
        [(1, k) for k in range(1, 5)] + [(2, k) for k in range(1, 4)]
    full_rows = [json.loads(x) for x in (full / "metrics.jsonl").read_text().splitlines()]
    assert [r["loss"] for r in rows] == [r["loss"] for r in full_rows]
    assert {"loss", "nce", "rec", "lr", "grad_norm", "samples_per_s"} <= rows[0].keys()


def test_resume_refuses_another_config(tiny_sim, tiny_features, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(Interrupted):
        _run(tiny_sim, tiny_features, out, small_config(), stop_after=2)
    with pytest.raises(InputError, match="another config"):
        _run(tiny_sim, tiny_features, out, small_config(seed=1), resume=True)


@pytest.mark.parametrize("method", ["simclr", "barlow"])
def test_baselines_train_on_the_same_architecture(tiny_sim, tiny_features, tmp_path, method):
    out = tmp_path / method
    summary = _run(tiny_sim, tiny_features, out, small_config(method=method))
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["loss"]) for r in rows)
    assert summary["steps"] == {1: 4, 2: 3}
    rnce_keys = set(SSLConfig().model_dump())
    assert rnce_keys == set(small_config(method=method).model_dump())


def test_embed_writes_table_and_sidecar(tiny_sim, tiny_features, tmp_path):
    run = tmp_path / "run"
    _run(tiny_sim, tiny_features, run, small_config())
    table = embed(run, tiny_sim / "cohort.tsv", tmp_path / "emb", patches=True,
                  cache_dir=tmp_path / "cache")
    cohort = pd.read_csv(tiny_sim / "cohort.tsv", sep="\t")
    assert list(table["IID"]) == list(cohort["IID"])
    assert [f"z{j}" for j in range(64)] == list(table.columns[1:65])
    assert table.shape[1] == 1 + 64 + 18 * 64
    assert np.isfinite(table.drop(columns="IID").to_numpy()).all()
    side = json.loads((tmp_path / "emb" / "embeddings.parquet.json").read_text())
    assert side["method"] == "rnce" and len(side["checkpoint_sha256"]) == 64
    again = embed(run, tiny_sim / "cohort.tsv", tmp_path / "emb2", cache_dir=tmp_path / "cache")
    assert np.array_equal(again["z0"], table["z0"])  # deterministic


def test_ddp_with_gloo_two_processes(tiny_sim, tiny_features, tmp_path):
    cfg = small_config()
    cfg_path = tmp_path / "ssl.yaml"
    import yaml

    cfg_path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
         "--standalone", "-m", "cli", "train", "--manifest",
         str(tiny_sim / "cohort.tsv"), "--features", str(tiny_features), "--out", str(out),
         "--config", str(cfg_path)],
        capture_output=True, text=True, timeout=300, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 7  # rank 0 writes, once per step
    assert all(np.isfinite(r["loss"]) for r in rows)
    assert (out / "model.pt").exists()
