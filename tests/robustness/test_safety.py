"""The two safety properties: no write outside ``--out`` whatever a name holds, and
``--overwrite`` removes only what the tool itself wrote.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from cli.main import app
from rnce_bag.core.names import file_stem

EVIL = ["../../pwned", "..", ".", "a/b", "<b>BAG</b>", "/etc/x", "..\\..\\w", "név ü"]


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.mark.parametrize("name", EVIL)
def test_file_stem_is_one_component_inside_its_folder(name, tmp_path):
    stem = file_stem(name)
    assert "/" not in stem and "\\" not in stem and stem not in ("", ".", "..")
    assert not stem.startswith(".")
    assert (tmp_path / f"{stem}.hsq").resolve().parent == tmp_path.resolve()


def test_file_stem_keeps_plain_names_and_never_collides():
    assert file_stem("BAG_FS") == "BAG_FS" and file_stem("a.b-c+d=e,f") == "a.b-c+d=e,f"
    names = [*EVIL, "%2E", "_", "a_b", "a%2Fb", "x" * 400, "x" * 401]
    stems = [file_stem(n) for n in names]
    assert len(set(stems)) == len(names)
    assert all(len(s.encode()) <= 150 for s in stems)
    with pytest.raises(ValueError):
        file_stem("")


def _evil_pheno(complete_sim: Path, tmp: Path) -> Path:
    ph = pd.read_csv(complete_sim / "pheno.tsv", sep="\t")
    ph = ph.rename(columns={"LATENT": "../../pwned", "NOISE": "<b>BAG</b>"})
    p = tmp / "evil_pheno.tsv"
    ph.to_csv(p, sep="\t", index=False, na_rep="NA")
    return p


def test_h2_and_rg_never_write_outside_out(complete_sim, tmp_path, runner):
    pheno = _evil_pheno(complete_sim, tmp_path)
    box = tmp_path / "box"
    out = box / "travdir" / "h2"
    out.mkdir(parents=True)
    before = _files(tmp_path) - _files(box)
    bfile = str(complete_sim / "genotypes/cohort")
    res = runner.invoke(app, ["h2", "--bfile", bfile, "--pheno", str(pheno), "--grm-cutoff",
                              "0", "--out", str(out)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["rg", "--grm", str(out / "grm"), "--pheno", str(pheno),
                              "--grm-cutoff", "0", "--out", str(box / "travdir" / "rg")])
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "pwned.hsq").exists() and not (box / "pwned.hsq").exists()
    outside = (_files(tmp_path) - _files(box)) - before
    assert outside == set(), outside
    assert (out / f"{file_stem('../../pwned')}.hsq").is_file()
    t = pd.read_csv(out / "heritability.tsv", sep="\t")
    assert set(t["phenotype"]) == {"../../pwned", "<b>BAG</b>"}  # names kept in the tables


@pytest.mark.external
def test_gwas_plink2_odd_phenotype_names(complete_sim, tmp_path, runner):
    """plink2 sees internal names; outputs keep the user's names, inside --out."""
    pheno = _evil_pheno(complete_sim, tmp_path)
    out = tmp_path / "box" / "gwas"
    res = runner.invoke(app, ["gwas", "--bfile", str(complete_sim / "genotypes/cohort"),
                              "--pheno", str(pheno), "--engine", "plink2", "--set",
                              "pca.n_pcs=0", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert {p.name for p in tmp_path.iterdir()} == {"box", "evil_pheno.tsv"}
    assert (out / f"{file_stem('<b>BAG</b>')}.tsv.gz").is_file()
    summary = pd.read_csv(out / "summary.tsv", sep="\t")
    assert set(summary["phenotype"]) == {"../../pwned", "<b>BAG</b>"}
    # the report reads them back by the same encoding and escapes the names
    res = runner.invoke(app, ["report", "--run", str(out)])
    assert res.exit_code == 0, res.output
    html = (out / "report" / "index.html").read_text()
    assert "<b>BAG</b>" not in html and "&lt;b&gt;BAG&lt;/b&gt;" in html


def test_study_names_that_are_not_folder_names_are_refused():
    from pipeline.study import StudyConfig

    with pytest.raises(ValueError, match="folder names"):
        StudyConfig.model_validate({"simulate": {}, "stages": {"rg_pairs": [["FS", "../x"]]}})
    with pytest.raises(ValueError, match="folder names"):
        StudyConfig.model_validate({"simulate": {}, "stages": {"enrich_phenotypes": [".."]}})


# --- --overwrite ---------------------------------------------------------------------

def _simulate(runner, out: str, *extra: str):
    return runner.invoke(app, ["simulate", "--preset", "tiny", "--set", "images.write=false",
                               "--set", "cohort.n_subjects=40", "--set",
                               "genotypes.n_variants=300", "--out", out, *extra])


def test_simulate_overwrite_refuses_parent_of_cwd(tmp_path, runner, monkeypatch):
    """The reported case: from danger/inner, 'simulate --out .. --overwrite'."""
    danger = tmp_path / "danger"
    inner = danger / "inner"
    inner.mkdir(parents=True)
    (danger / "precious.txt").write_text("keep me")
    monkeypatch.chdir(inner)
    res = _simulate(runner, "..", "--overwrite")
    assert res.exit_code == 2, res.output
    assert "current directory" in res.output
    assert (danger / "precious.txt").read_text() == "keep me" and inner.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["danger"]  # no staging left


def test_simulate_overwrite_refuses_unrelated_files(tmp_path, runner, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("x")
    res = _simulate(runner, str(mine), "--overwrite")
    assert res.exit_code == 2 and "run.json" in res.output
    assert (mine / "thesis.tex").exists()
    # a real simulate folder with one foreign file added is refused too, naming the file
    sim = tmp_path / "sim"
    assert _simulate(runner, str(sim)).exit_code == 0
    (sim / "notes.txt").write_text("mine")
    res = _simulate(runner, str(sim), "--overwrite")
    assert res.exit_code == 2 and "notes.txt" in " ".join(res.output.split())
    assert (sim / "notes.txt").exists() and (sim / "cohort.tsv").exists()
    # ... while its own output is replaced
    (sim / "notes.txt").unlink()
    mtime = (sim / "run.json").stat().st_mtime_ns
    res = _simulate(runner, str(sim), "--overwrite", "--seed", "3")
    assert res.exit_code == 0, res.output
    assert (sim / "run.json").stat().st_mtime_ns != mtime
    assert json.loads((sim / "run.json").read_text())["seeds"]["seed"] == 3


def test_simulate_overwrite_through_a_symlink_is_refused(tmp_path, runner, monkeypatch):
    monkeypatch.chdir(tmp_path)
    real = tmp_path / "real"
    real.mkdir()
    (real / "data.txt").write_text("x")
    (tmp_path / "link").symlink_to(real)
    res = _simulate(runner, str(tmp_path / "link"), "--overwrite")
    assert res.exit_code == 2
    assert (real / "data.txt").exists()


def test_train_overwrite_needs_its_own_run(tmp_path, tiny_sim, tiny_features, runner,
                                           repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    out = tmp_path / "t"
    out.mkdir()
    (out / "model.pt").write_bytes(b"someone else's model")
    (out / "cache").mkdir()
    (out / "cache" / "keep.npy").write_bytes(b"x")
    res = runner.invoke(app, ["train", "--manifest", str(tiny_sim / "cohort.tsv"), "--features",
                              str(tiny_features), "--config", "configs/ssl/tiny.yaml",
                              "--out", str(out), "--overwrite"])
    assert res.exit_code == 2 and "model.pt, which 'rnce-bag train' did not write" in \
        res.output
    assert (out / "model.pt").read_bytes() == b"someone else's model"
    assert (out / "cache" / "keep.npy").exists()


def test_outputs_follow_the_umask(tmp_path):
    from rnce_bag.core.io import write_text

    p = write_text(tmp_path / "x.txt", "x")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask
