"""Embeddings of a cohort from a trained model: ``embeddings.parquet`` + sidecar.

``embeddings.parquet`` has ``IID`` and ``z0..z{d-1}`` (the aggregator's pooled image
representation) and, with ``patches=True``, ``p{k}_z{j}`` (patch k's encoder output).
No augmentation; batches in manifest order. The sidecar
``embeddings.parquet.json`` names the method, the config hash, the checkpoint's
SHA-256 and the preprocessing, so a BAG can be traced to the weights it came from.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from rnce_bag.core.config import validate_config
from rnce_bag.core.io import atomic_path, sha256_file, write_text
from rnce_bag.core.schema import validate_frame
from rnce_bag.core.workers import worker_signals
from rnce_bag.imaging.dataset import CohortDataset
from rnce_bag.imaging.manifest import check_t1_headers, load_manifest
from rnce_bag.imaging.nifti import PreprocessParams
from rnce_bag.imaging.patches import PatchLayout
from rnce_bag.ssl.checkpoint import MODEL, load_checkpoint
from rnce_bag.ssl.config import SSLConfig
from rnce_bag.ssl.model import SSLModel
from rnce_bag.stages import EMBED

EMBEDDINGS = EMBED.outputs["embeddings"].file


def config_hash(config: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a resolved config."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def load_model(run_dir: str | os.PathLike[str]
               ) -> tuple[SSLModel, SSLConfig, dict[str, Any], Path]:
    """The trained model of a ``rnce-bag train`` folder, its config, metadata and weights."""
    path = Path(run_dir) / MODEL
    state = load_checkpoint(path)
    cfg = validate_config(state["config"], SSLConfig, str(path))
    model = SSLModel(len(state["patch_names"]), cfg)
    model.load_state_dict(state["model"])
    model.eval()
    return model, cfg, state, path


@torch.no_grad()
def embed(run_dir: str | os.PathLike[str], manifest: str | os.PathLike[str],
          out_dir: str | os.PathLike[str], patches: bool = False, batch_size: int = 16,
          device: str = "auto", cache_dir: str | os.PathLike[str] | None = None,
          progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Embed every subject of ``manifest`` with the model in ``run_dir``.

    Returns
    -------
    DataFrame, shape (n, 1 + d [+ P d])
        The table written to ``out_dir/embeddings.parquet``.
    """
    model, cfg, state, weights = load_model(run_dir)
    dev = torch.device("cuda" if device in ("auto", "cuda") and torch.cuda.is_available()
                       else "cpu")
    model.to(dev)
    m = load_manifest(manifest, require=("t1_path",))
    check_t1_headers(m, manifest)
    layout = PatchLayout.model_validate(state["layout"])
    params = PreprocessParams(spacing=cfg.data.spacing_mm)
    ds = CohortDataset(list(m["IID"]), list(m["t1_path"]), np.zeros((len(m), 0), np.float32),
                       [], layout, params,
                       cache_dir or Path(run_dir) / "cache")
    zs, ps = [], []
    done = 0
    for batch in DataLoader(ds, batch_size=batch_size, num_workers=cfg.data.num_workers,
                            worker_init_fn=worker_signals):
        tokens = model.encoders(batch["patches"].to(dev))
        zs.append(model.aggregator(tokens).float().cpu().numpy())
        if patches:
            ps.append(tokens.float().cpu().numpy().reshape(len(tokens), -1))
        done += len(tokens)
        if progress:
            progress(done, len(ds))
    z = np.concatenate(zs)
    cols = {"IID": m["IID"].to_numpy()}
    cols.update({f"z{j}": z[:, j].astype(np.float64) for j in range(z.shape[1])})
    if patches:
        p = np.concatenate(ps)
        d = z.shape[1]
        cols.update({f"p{k}_z{j}": p[:, k * d + j].astype(np.float64)
                     for k in range(len(layout.patches)) for j in range(d)})
    table = pd.DataFrame(cols)
    validate_frame(table, "embeddings", source="embeddings")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / EMBEDDINGS) as tmp:
        table.to_parquet(tmp, index=False)
    sidecar = {
        "method": cfg.method,
        "config_sha256": config_hash(state["config"]),
        "checkpoint": str(weights),
        "checkpoint_sha256": sha256_file(weights),
        "spacing_mm": cfg.data.spacing_mm,
        "patch_names": state["patch_names"],
        "n_subjects": len(table),
        "dim": int(z.shape[1]),
        "patch_vectors": patches,
    }
    write_text(out / (EMBEDDINGS + ".json"), json.dumps(sidecar, indent=2) + "\n")
    return table
