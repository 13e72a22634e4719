"""`rnce-bag demo --preset tiny` end to end: planted truth, caching, kill -9 and resume,
and the installed wheel.

One full run of the tiny study, uninterrupted, by ``rnce-bag`` installed from a wheel
built here into a fresh virtual environment (no editable install, the repository not on
the path) and run from an unrelated folder; one run of its first stages from the
repository, killed with SIGKILL while a training stage runs and then rerun. Their
outputs must be the same. Needs plink2 (``make setup`` installs it).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

pytestmark = [pytest.mark.slow, pytest.mark.external]

# outputs compared between the uninterrupted and the killed-then-resumed run
COMPARED = ["features/features.parquet", "embed_rnce/embeddings.parquet",
            "embed_simclr/embeddings.parquet", "brain_age/bag.tsv", "gwas/BAG_FS.tsv.gz",
            "gwas/BAG_RNCE.tsv.gz", "h2/heritability.tsv", "enrich_fs/celltypes.tsv"]


def _demo(out: Path, *extra: str, exe: list[str] | None = None, cwd: Path | None = None
          ) -> subprocess.Popen:
    return subprocess.Popen([*(exe or [sys.executable, "-m", "cli"]), "demo", "--preset",
                             "tiny", "--out", str(out), *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def installed(tmp_path_factory, repo_root) -> Path:
    """A fresh virtual environment with rnce-bag installed from a wheel built from this
    checkout; it sees the dependencies of the development environment (a .pth line), not
    the repository or its editable install."""
    import shutil
    import sysconfig

    t = tmp_path_factory.mktemp("wheel")
    src = t / "src"
    shutil.copytree(repo_root, src, symlinks=True, ignore=shutil.ignore_patterns(
        ".venv", ".git", "output", "build", "dist", "*.egg-info", "__pycache__",
        ".hypothesis", ".pytest_cache", ".ruff_cache"))
    subprocess.run([sys.executable, "-c", "from setuptools import build_meta; "
                    f"build_meta.build_wheel({str(t / 'dist')!r})"], cwd=src, check=True,
                   capture_output=True)
    wheel = next((t / "dist").glob("rnce_bag-*.whl"))
    venv = t / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                    "install", "--no-deps", "--no-index", "-q", str(wheel)], check=True,
                   capture_output=True)
    return venv


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory) -> Path:
    """A working folder with no configs/ (nothing of the repository)."""
    return tmp_path_factory.mktemp("elsewhere")


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, repo_root, installed, elsewhere):
    os.chdir(repo_root)
    out = tmp_path_factory.mktemp("demo") / "run"
    proc = _demo(out, exe=[str(installed / "bin" / "rnce-bag")], cwd=elsewhere)
    text, _ = proc.communicate(timeout=1500)  # about 13 min beside the other worker
    assert proc.returncode == 0, text[-4000:]
    return out, text


def test_planted_truth_at_loose_thresholds(full_run):
    out, text = full_run
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "ok"
    assert all(s["status"] == "ran" for s in record["stages"].values())
    assert (out / "report" / "index.html").exists()
    gwas_line = next(line for line in text.splitlines() if line.startswith("GWAS: "))
    for bag in ("BAG_FS", "BAG_RNCE", "BAG_SIMCLR", "BAG_BARLOW", "BAG_FS_RNCE"):
        assert f"{bag} lambda " in gwas_line, gwas_line
    # the answer first: one row per BAG, FS-BAG's rg with each, probes against FS
    head = text[text.index("per BAG"):].splitlines()
    assert head[1].split()[:2] == ["BAG", "MAE"]
    assert [line.split()[0] for line in head[2:7]] == ["FS", "RNCE", "SIMCLR", "BARLOW",
                                                      "FS_RNCE"]
    # the oracle stage's rows follow, labelled (the only stage that reads truth/)
    assert [line.split()[0] for line in head[7:9]] == ["ORACLE_FS_HIDDEN", "ORACLE_HIDDEN"]
    assert all("(oracle: reads truth)" in line for line in head[7:9])
    assert "reads truth" in (out / "report" / "index.html").read_text()
    assert "genetics:" in text and "normative subjects" in text
    assert "Per BAG" in (out / "report" / "index.html").read_text()
    bag = pd.read_csv(out / "brain_age" / "bag.tsv", sep="\t")
    truth = pd.read_csv(out / "simulate" / "truth" / "latent.tsv", sep="\t")
    m = bag.merge(truth, on="IID")
    cohort = pd.read_csv(out / "simulate" / "cohort.tsv", sep="\t")
    m = m.merge(cohort[["IID", "diagnosis"]], on="IID")
    assert np.corrcoef(m["bag_fs"], m["true_brain_age_gap"])[0, 1] > 0.4
    cn = m[m["diagnosis"] == "CN"]
    assert abs(np.corrcoef(cn["bag_fs"], cn["age_x"] if "age_x" in cn else cn["age"])[0, 1]) \
        < 0.05
    # AD brain age is 8 y x atrophy stage (mean about 0.7, issue 28): about +6 y, at least +0.5
    assert m.loc[m["diagnosis"] == "AD", "bag_fs"].mean() > cn["bag_fs"].mean() + 0.5
    summary = pd.read_csv(out / "gwas" / "summary.tsv", sep="\t")
    assert summary["lambda_gc"].between(0.7, 1.4).all()
    assert set(summary["phenotype"]) == {"BAG_FS", "BAG_RNCE", "BAG_SIMCLR", "BAG_BARLOW",
                                         "BAG_FS_RNCE"}
    h2 = pd.read_csv(out / "h2" / "heritability.tsv", sep="\t")
    assert h2["h2"].between(0, 1).all() and len(h2) == 5
    rg = sorted(p.parent.name for p in out.glob("rg_*/rg.tsv"))
    assert rg == ["rg_fs_barlow", "rg_fs_fs_rnce", "rg_fs_rnce", "rg_fs_simclr"]
    ct = pd.read_csv(out / "enrich_fs" / "celltypes.tsv", sep="\t")
    assert set(ct["cell_type"]) >= {"oligodendrocytes", "astrocytes"}


def test_every_stage_output_meets_its_contract(full_run):
    """Every table a stage of the study wrote validates against its registered schema,
    and every stage's params (.stage.json) load back into its model."""
    from pipeline.registry import OUTPUTS, STAGES, stage
    from rnce_bag.core.outputs import output_path, read_output

    out, _ = full_run
    checked = 0
    for folder in sorted(p for p in out.iterdir() if (p / ".stage.json").exists()):
        stamp = json.loads((folder / ".stage.json").read_text())
        model, _ = stage(stamp["kind"])
        assert model.model_validate(stamp["params"]).out.name == f".{folder.name}.partial"
        for name, spec in OUTPUTS[stamp["kind"]].items():
            if spec.schema is None or "{phenotype}" in spec.file:
                continue
            if output_path(STAGES[stamp["kind"]], name, folder).exists():
                table = read_output(STAGES[stamp["kind"]], name, folder)  # raises if bad
                assert table.shape[1] >= 2, (folder.name, name)
                checked += 1
    assert checked >= 15


def test_wheel_is_self_contained(installed, elsewhere, repo_root):
    """The installed package (not the checkout) runs, its presets inside it."""
    py, exe = installed / "bin" / "python", installed / "bin" / "rnce-bag"
    where = subprocess.run([str(py), "-c", "import rnce_bag, gwas, cli; print(rnce_bag.__file__,"
                            " gwas.__file__, cli.__file__)"], cwd=elsewhere, check=True,
                           capture_output=True, text=True).stdout.split()
    assert all(str(installed) in w and str(repo_root) not in w for w in where), where
    # the source of the libgfortran.so.3 shim that gives Hail native BLAS ships too
    natives = subprocess.run([str(py), "-c", "from gwas.engines import hail_blas; "
                              "print(hail_blas.SOURCE.is_file(), "
                              "hail_blas.VERSION_SCRIPT.is_file())"], cwd=elsewhere,
                             check=True, capture_output=True, text=True).stdout.split()
    assert natives == ["True", "True"]
    listed = subprocess.run([str(exe), "config"], cwd=elsewhere, capture_output=True,
                            text=True, check=True).stdout
    assert str(installed) in listed and "study: demo, template, tiny" in listed
    shown = subprocess.run([str(exe), "config", "ssl/tiny"], cwd=elsewhere,
                           capture_output=True, text=True, check=True).stdout
    assert "method: rnce" in shown


def test_rerun_is_cached_and_only_reruns_one_stage(full_run, installed, elsewhere):
    out, _ = full_run
    exe = [str(installed / "bin" / "rnce-bag")]
    study = next(installed.glob("lib/python*/site-packages/rnce_bag/configs/study/tiny.yaml"))
    before = {p: _sha(out / p) for p in COMPARED}
    proc = _demo(out, exe=exe, cwd=elsewhere)
    text, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, text[-3000:]
    n_stages = len(json.loads((out / "run.json").read_text())["stages"])
    assert n_stages == 27  # the study's 19 and the oracle's 8
    assert text.count(": cached") == n_stages  # nothing recomputed (no stage ran)
    assert ": running" not in text
    assert before == {p: _sha(out / p) for p in COMPARED}
    proc = subprocess.run([*exe, "run", str(study), "--out", str(out), "--only", "report"],
                          capture_output=True, text=True, timeout=300, check=False,
                          cwd=elsewhere)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    stages = json.loads((out / "run.json").read_text())["stages"]
    assert stages["report"]["status"] == "ran"
    assert {s["status"] for k, s in stages.items() if k != "report"} == {"not selected"}
    proc = subprocess.run([*exe, "run", str(study), "--out", str(out), "--from", "h2"],
                          capture_output=True, text=True, timeout=300, check=False,
                          cwd=elsewhere)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    stages = json.loads((out / "run.json").read_text())["stages"]
    order = list(stages)
    after = order[order.index("h2"):]
    assert all(stages[k]["status"] == "ran" for k in after)
    assert all(stages[k]["status"] == "cached" for k in order[:order.index("h2")])
    assert before == {p: _sha(out / p) for p in COMPARED}  # same inputs, same outputs


#: the stages the killed run goes through: the training stage killed and its embedding
KILLED_SKIP = ["brain_age", "probe", "gwas", "h2", "rg", "enrich", "oracle", "report"]


def test_kill_minus_nine_then_rerun_gives_the_same_outputs(full_run, tmp_path, repo_root):
    """SIGKILL while SimCLR trains, then the same command again: the stages before it are
    reused, training resumes from its checkpoint, and features and embeddings equal the
    uninterrupted demo's. The killed study is the tiny demo's up to that embedding (its
    other stages are pure functions of these outputs, whose reuse the cached rerun tests)."""
    ref, _ = full_run
    study = yaml.safe_load((repo_root / "rnce_bag/configs/study/tiny.yaml").read_text())
    study["stages"]["train"]["methods"] = ["simclr"]
    study["skip"] = KILLED_SKIP
    path = tmp_path / "killed.yaml"
    path.write_text(yaml.safe_dump(study))
    out = tmp_path / "killed"

    def run() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "cli", "run", str(path), "--out",
                                 str(out)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, cwd=repo_root)

    proc = run()
    partial = out / ".train_simclr.partial" / "checkpoint.pt"
    deadline = time.time() + 600
    while not partial.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(1)  # the training child dies with its parent (PR_SET_PDEATHSIG)
    assert not (out / "train_simclr").exists()
    assert json.loads((out / "run.json").read_text())["status"] == "running"
    again = run()
    text, _ = again.communicate(timeout=900)
    assert again.returncode == 0, text[-4000:]
    assert "train_simclr: running" in text and "features: cached" in text
    stages = json.loads((out / "run.json").read_text())["stages"]
    assert stages["train_simclr"]["resumed"] is True
    for p in ("features/features.parquet", "embed_simclr/embeddings.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(out / p), pd.read_parquet(ref / p))


def test_study_on_existing_data_without_training(tiny_sim, tmp_path, repo_root):
    """The real-data path: a study naming a manifest, a PLINK fileset and a cell-type table."""
    study = tmp_path / "study.yaml"
    study.write_text(
        "name: existing\n"
        "cohort:\n"
        f"  manifest: {tiny_sim / 'cohort.tsv'}\n"
        f"  bfile: {tiny_sim / 'genotypes' / 'cohort'}\n"
        "  celltypes:\n"
        f"    - {tiny_sim / 'expression' / 'celltype_specificity.tsv'}\n"
        "stages:\n"
        "  grm_cutoff: 0\n"
        "  brain_age_set: [min_train_subjects=20]\n"
        "  enrich_phenotypes: [FS]\n"
        "skip: [train, embed]\n")
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "cli", "run", str(study), "--out", str(out)],
                          capture_output=True, text=True, timeout=600, check=False,
                          cwd=repo_root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    stages = json.loads((out / "run.json").read_text())["stages"]
    assert list(stages) == ["features", "brain_age", "probe", "gwas", "h2", "enrich_fs",
                            "report"]
    assert (out / "report" / "index.html").exists()
    # editing an input file reruns the stages that depend on it, and only those
    table = tiny_sim / "expression" / "celltype_specificity.tsv"
    copy = tmp_path / "ct.tsv"
    copy.write_text(table.read_text())
    study.write_text(study.read_text().replace(str(table), str(copy)))
    proc = subprocess.run([sys.executable, "-m", "cli", "run", str(study), "--out", str(out)],
                          capture_output=True, text=True, timeout=600, check=False,
                          cwd=repo_root)
    assert proc.returncode == 0, proc.stdout[-3000:]
    stages = json.loads((out / "run.json").read_text())["stages"]
    assert [k for k, s in stages.items() if s["status"] == "ran"] == ["enrich_fs", "report"]
