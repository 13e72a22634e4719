"""A command's outputs appear in ``--out`` only when it finishes: an interrupted or
failed (re)run leaves the previous complete run and its ``run.json`` as they were,
and never a complete-looking file of its own (issue 17, item 4).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cli.main import app
from rnce_bag.core.errors import InputError, Terminated
from rnce_bag.core.outdir import staged_run


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_success_publishes_and_replaces_the_previous_runs_outputs(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("the user's own file\n")
    with staged_run(out, "x", tools=()) as (stage, record):
        (stage / "a.tsv").write_text("1\n")
        (stage / "old_only.tsv").write_text("stale\n")
        record.add_output(stage / "a.tsv")
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "ok" and str(out / "a.tsv") in run["outputs"]
    assert ".x.partial" not in (out / "run.json").read_text()
    with staged_run(out, "x", tools=()) as (stage, _):
        (stage / "a.tsv").write_text("2\n")
    # the first run's output that the second did not write is gone; the user's file stays
    assert _names(out) == {"a.tsv", "mine.txt", "run.json"}
    assert (out / "a.tsv").read_text() == "2\n"


@pytest.mark.parametrize("error", [ValueError("boom"), KeyboardInterrupt(), Terminated()])
def test_a_failed_or_interrupted_rerun_keeps_the_previous_run(tmp_path, error):
    out = tmp_path / "out"
    with staged_run(out, "x", tools=()) as (stage, _):
        (stage / "a.tsv").write_text("first\n")
    before = (out / "run.json").read_text()
    with pytest.raises(type(error)), staged_run(out, "x", tools=()) as (stage, _):
        (stage / "a.tsv").write_text("second, complete-looking\n")
        (stage / "b.tsv").write_text("second\n")
        raise error
    assert _names(out) == {"a.tsv", "run.json"}  # no staging folder, no b.tsv
    assert (out / "a.tsv").read_text() == "first\n"
    assert (out / "run.json").read_text() == before


def test_another_commands_folder_is_refused_before_any_work(tmp_path):
    out = tmp_path / "out"
    with staged_run(out, "features", tools=()) as (stage, _):
        (stage / "features.parquet").write_text("x")
    with pytest.raises(InputError, match="holds the output of 'rnce-bag features'"), \
            staged_run(out, "gwas", tools=()):
        pytest.fail("the body must not run")
    assert _names(out) == {"features.parquet", "run.json"}


def _gwas(sim: Path, pheno: Path, out: Path, runner):
    return runner.invoke(app, ["gwas", "--bfile", str(sim / "genotypes/cohort"), "--pheno",
                               str(pheno), "--covar", str(sim / "covar.tsv"), "--engine",
                               "plink2", "--set", "pca.n_pcs=2", "--out", str(out)])


def test_gwas_failed_rerun_leaves_the_previous_complete_run(complete_sim, tmp_path, runner):
    out = tmp_path / "gwas"
    res = _gwas(complete_sim, complete_sim / "pheno.tsv", out, runner)
    assert res.exit_code == 0, res.output
    snapshot = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert "LATENT.tsv.gz" in snapshot and json.loads(snapshot["run.json"])["status"] == "ok"
    bad = tmp_path / "bad.tsv"  # a constant phenotype: refused after the inputs are read
    ph = pd.read_csv(complete_sim / "pheno.tsv", sep="\t")
    ph["LATENT"] = 1.0
    ph.to_csv(bad, sep="\t", index=False, na_rep="NA")
    res = _gwas(complete_sim, bad, out, runner)
    assert res.exit_code == 2, res.output
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == snapshot
    assert not any(p.name.endswith(".partial") for p in out.iterdir())


def test_gwas_interrupted_while_writing_leaves_no_complete_looking_sumstats(
        complete_sim, tmp_path, runner, monkeypatch):
    import gwas.run

    written = []
    real = gwas.run.write_ssf

    def write_then_interrupt(ssf, path, meta):
        real(ssf, path, meta)
        written.append(path)
        raise KeyboardInterrupt  # Ctrl-C right after the first file is complete

    monkeypatch.setattr(gwas.run, "write_ssf", write_then_interrupt)
    out = tmp_path / "gwas"
    res = _gwas(complete_sim, complete_sim / "pheno.tsv", out, runner)
    assert res.exit_code != 0 and written and written[0].exists() is False
    assert not out.exists()  # the folder the failed run made is gone with it


def test_h2_failed_rerun_leaves_the_previous_complete_run(complete_sim, tmp_path, runner):
    out = tmp_path / "h2"
    args = ["h2", "--bfile", str(complete_sim / "genotypes/cohort"), "--grm-cutoff", "0",
            "--out", str(out), "--pheno"]
    res = runner.invoke(app, [*args, str(complete_sim / "pheno.tsv")])
    assert res.exit_code == 0, res.output
    snapshot = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert "heritability.tsv" in snapshot and "grm.grm.bin" in snapshot
    bad = tmp_path / "bad.tsv"
    ph = pd.read_csv(complete_sim / "pheno.tsv", sep="\t")
    ph["NOISE"] = ph["NOISE"].where(ph.index > 3)  # missing values are fine ...
    ph.loc[:, "LATENT"] = "x"  # ... text is not
    ph.to_csv(bad, sep="\t", index=False, na_rep="NA")
    res = runner.invoke(app, [*args, str(bad)])
    assert res.exit_code == 2 and "expected a number" in res.output, res.output
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == snapshot
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []
