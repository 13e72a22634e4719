"""rnce-bag oracle: labelled ORACLE rows from a simulated cohort's truth; refused elsewhere."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cli.main import app


def test_oracle_needs_a_simulated_cohort(runner, tmp_path):
    (tmp_path / "cohort").mkdir()
    res = runner.invoke(app, ["oracle", "--cohort", str(tmp_path / "cohort"), "--out",
                              str(tmp_path / "o")])
    assert res.exit_code == 2 and "no truth/latent.tsv" in res.output
    assert not (tmp_path / "o").exists()
    assert "Reads the simulator's truth/" in runner.invoke(app, ["oracle", "--help"]).output


@pytest.mark.slow
@pytest.mark.external
def test_oracle_command_writes_labelled_rows(runner, tiny_sim, tmp_path, monkeypatch,
                                             repo_root):
    monkeypatch.chdir(repo_root)
    out = tmp_path / "o"
    res = runner.invoke(app, ["oracle", "--cohort", str(tiny_sim), "--out", str(out),
                              "--no-probes", "--threads", "1"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "oracle" / "oracle.tsv", sep="\t")
    assert table["representation"].tolist() == ["FS", "ORACLE_FS_HIDDEN", "ORACLE_HIDDEN"]
    assert "ORACLE_FS_HIDDEN (ORACLE: reads truth)" in res.output
    assert not any(p.name.endswith(".partial") for p in out.iterdir())
    assert (out / "run.json").exists() and (out / "oracle_h2" / "heritability.tsv").exists()
    # ordinary stages: a rerun reuses every one of them, and prints the same rows
    again = runner.invoke(app, ["oracle", "--cohort", str(tiny_sim), "--out", str(out),
                                "--no-probes", "--threads", "1"])
    assert again.exit_code == 0, again.output
    stages = json.loads((out / "run.json").read_text())["stages"]
    assert {s["status"] for s in stages.values()} == {"cached"}, stages
    assert {"features", "oracle_features", "oracle_gwas", "oracle"} <= set(stages)
    assert again.output.splitlines()[-3:] == res.output.splitlines()[-3:]
