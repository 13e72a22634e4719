"""rnce-bag oracle: labelled ORACLE rows from a simulated cohort's truth; refused elsewhere."""

from __future__ import annotations

import pandas as pd
import pytest

from cli.main import app


def test_oracle_needs_a_simulated_cohort(runner, tmp_path):
    (tmp_path / "cohort").mkdir()
    res = runner.invoke(app, ["oracle", "--cohort", str(tmp_path / "cohort"), "--out",
                              str(tmp_path / "o")])
    assert res.exit_code == 2 and "no truth/latent.tsv" in res.output
    assert not (tmp_path / "o" / "oracle.tsv").exists()
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
    table = pd.read_csv(out / "oracle.tsv", sep="\t")
    assert table["representation"].tolist() == ["FS", "ORACLE_FS_HIDDEN", "ORACLE_HIDDEN"]
    assert "ORACLE_FS_HIDDEN (ORACLE: reads truth)" in res.output
    assert not any(p.name.endswith(".partial") for p in out.iterdir())
    assert (out / "run.json").exists() and (out / "h2" / "heritability.tsv").exists()
