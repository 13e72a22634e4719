"""Train and evaluate self-supervised runs on a finished demo folder, through the real commands.

Shared by ``augment_sensitivity.py`` and ``rnce_compute_curve.py``. A *demo folder* is
what ``make demo`` (``rnce-bag demo``) leaves: ``simulate/cohort.tsv``,
``features/features.parquet``, ``h2/grm.*``, ``gwas/covariates.tsv`` and the
preprocessed-volume ``cache``. Each run is trained with ``rnce-bag train`` (skipped when
its ``model.pt`` exists, so an interrupted benchmark resumes), embedded with
``rnce-bag embed``, then all runs together go through ``brain-age`` (FreeSurfer and every
embedding in one cross-fitted run), ``h2``, ``rg`` (each BAG with FS-BAG) and ``probe``,
with the demo's own GRM and covariates. What is reported per run:

- truth-free: the last-epoch NT-Xent / reconstruction of each stage, the embedding's
  5-fold R2 of the standardised FreeSurfer features, the training wall time;
- results: BAG MAE (out of fold, CN), GREML h2 (SE), rg with FS-BAG (SE), and AUCs with
  the DeLong p against FreeSurfer for AD vs CN, conversion within 2 and 3 years and
  amyloid.

Nothing here reads the simulator's ``truth/``; ``oracle_h2`` reads the labelled oracle
stage's result of the demo (a ceiling drawn in figures, never used to choose anything).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from representation_quality import cv_r2, varying_columns  # same folder: run as a script

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "cli"]
TASKS = {"ad_vs_cn": "AD vs CN", "conversion_2y": "conversion 2 y",
         "conversion_3y": "conversion 3 y", "amyloid": "amyloid"}


@dataclass(frozen=True)
class Run:
    """One training: its name in the tables, method, settings and folder."""

    name: str
    method: str
    sets: tuple[str, ...]
    folder: Path

    @property
    def embeddings(self) -> Path:
        return self.folder / "embed" / "embeddings.parquet"


def _cli(*args: str) -> None:
    subprocess.run([*CLI, *args], check=True, cwd=ROOT)


def cpus() -> int:
    """CPUs this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def train_and_embed(run: Run, demo: Path, config: Path) -> float:
    """Train ``run`` (unless its model exists) and embed the cohort; training seconds."""
    model, timing = run.folder / "train" / "model.pt", run.folder / "train_seconds.json"
    manifest = demo / "simulate" / "cohort.tsv"
    if not model.exists():
        tic = time.perf_counter()
        _cli("train", "--manifest", str(manifest), "--features",
             str(demo / "features" / "features.parquet"), "--out", str(run.folder / "train"),
             "--config", str(config), "--method", run.method, "--overwrite", "--cache-dir",
             str(demo / "cache"), *[a for s in run.sets for a in ("--set", s)])
        timing.write_text(json.dumps({"seconds": time.perf_counter() - tic, "cpus": cpus()}))
    if not run.embeddings.exists():
        _cli("embed", "--run", str(run.folder / "train"), "--manifest", str(manifest),
             "--out", str(run.folder / "embed"), "--cache-dir", str(demo / "cache"))
    return float(json.loads(timing.read_text())["seconds"]) if timing.exists() else np.nan


def last_epoch_losses(metrics: Path, epochs: float) -> dict[str, float]:
    """Mean NT-Xent / reconstruction (or Barlow) over the last epoch of each stage."""
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    out = {}
    for stage in (1, 2):
        r = [x for x in rows if x["stage"] == stage]
        last = r[-max(1, int(len(r) / max(epochs, 1))):]
        for term in ("nce", "rec", "barlow"):
            vals = [x[term] for x in last if term in x]
            if vals:
                out[f"s{stage}_{term}"] = float(np.mean(vals))
    return out


def fs_r2(embeddings: Path, features: Path) -> float:
    """Mean 5-fold R2 of the standardised FreeSurfer features from the embedding."""
    emb = pd.read_parquet(embeddings).set_index("IID")
    table = pd.read_parquet(features)
    fs = table.set_index("IID").loc[emb.index, varying_columns(table)]
    y = ((fs - fs.mean()) / fs.std()).to_numpy()
    return float(np.nanmean(cv_r2(emb.to_numpy(), y)))


def evaluate(runs: list[Run], demo: Path, out: Path, epochs: dict[str, float]
             ) -> pd.DataFrame:
    """Brain age, h2, rg with FS-BAG and probes for every run (and FreeSurfer), one row each.

    ``epochs`` maps a run name to its epochs per stage (for the last-epoch losses).
    """
    out.mkdir(parents=True, exist_ok=True)
    manifest = demo / "simulate" / "cohort.tsv"
    features = demo / "features" / "features.parquet"
    reps = {"FS": features, **{r.name: r.embeddings for r in runs}}
    feats = [a for name, path in reps.items() for a in ("--features", f"{name}={path}")]
    grm = ["--grm", str(demo / "h2" / "grm"), "--covar", str(demo / "gwas" / "covariates.tsv"),
           "--grm-cutoff", "0"]
    _cli("brain-age", "--manifest", str(manifest), *feats, "--out", str(out / "brain_age"))
    _cli("h2", "--pheno", str(out / "brain_age" / "pheno.tsv"), *grm, "--out", str(out / "h2"))
    for r in runs:
        if not (out / f"rg_{r.name}" / "rg.tsv").exists():
            _cli("rg", "--pheno", str(out / "brain_age" / "pheno.tsv"), *grm, "--pheno-name",
                 "BAG_FS", "--pheno-name", f"BAG_{r.name}", "--out", str(out / f"rg_{r.name}"))
    _cli("probe", "--manifest", str(manifest), *feats, "--out", str(out / "probe"))

    metrics = json.loads((out / "brain_age" / "metrics.json").read_text())["representations"]
    h2 = pd.read_csv(out / "h2" / "heritability.tsv", sep="\t").set_index("phenotype")
    probe = pd.read_csv(out / "probe" / "probe.tsv", sep="\t")
    pairs = pd.read_csv(out / "probe" / "probe_pairs.tsv", sep="\t")
    rows = []
    for name in reps:
        run = next((r for r in runs if r.name == name), None)
        row: dict[str, object] = {"representation": name}
        if run is not None:
            row["method"] = run.method
            row["settings"] = " ".join(run.sets)
            row.update(last_epoch_losses(run.folder / "train" / "metrics.jsonl",
                                         epochs.get(name, 1.0)))
            timing = run.folder / "train_seconds.json"
            if timing.exists():
                t = json.loads(timing.read_text())
                row["train_cpu_hours"] = t["seconds"] * t["cpus"] / 3600
        row["R2_fs"] = 1.0 if name == "FS" else fs_r2(reps[name], features)
        row["mae"] = metrics[name]["train_uncorrected"]["mae"]
        row["h2"], row["h2_se"] = h2.loc[f"BAG_{name}", ["h2", "h2_se"]]
        if run is not None:
            rg = pd.read_csv(out / f"rg_{name}" / "rg.tsv", sep="\t").iloc[0]
            row["rg_fs"], row["rg_fs_se"] = rg["rg"], rg["rg_se"]
        for task in TASKS:
            hit = probe[(probe.task == task) & (probe.representation == name)]
            row[f"auc_{task}"] = float(hit["auc"].iloc[0]) if len(hit) else np.nan
            p = pairs[(pairs.task == task) & (pairs.rep_a == "FS") & (pairs.rep_b == name)]
            row[f"p_{task}"] = float(p["p_delong"].iloc[0]) if len(p) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def oracle_h2(demo: Path) -> float | None:
    """The demo's labelled oracle ceiling (FreeSurfer + the planted hidden signal), if run."""
    path = demo / "oracle_h2" / "heritability.tsv"
    if not path.exists():
        return None
    t = pd.read_csv(path, sep="\t")
    hit = t[t.phenotype.str.startswith("BAG_ORACLE")]
    return float(hit["h2"].max()) if len(hit) else None


def markdown(table: pd.DataFrame) -> str:
    """The table as the README prints it (3 decimals, p-values to 2 significant digits)."""
    def cell(col: str, v: object) -> str:
        if isinstance(v, float):
            if np.isnan(v):
                return "-"
            return f"{v:.2g}" if col.startswith("p_") else f"{v:.3f}"
        return str(v)

    head = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "---|" * len(table.columns)
    body = ["| " + " | ".join(cell(c, v) for c, v in row.items()) + " |"
            for _, row in table.iterrows()]
    return "\n".join([head, rule, *body])
