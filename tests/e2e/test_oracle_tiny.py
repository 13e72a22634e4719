"""benchmarks/oracle_ceiling.py end to end on the tiny cohort (the real commands; the
numbers are noise at n = 200, the demo-scale claims are in test_oracle_truth.py)."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest


@pytest.mark.slow
@pytest.mark.external
def test_oracle_ceiling_runs_through_the_real_commands(tiny_sim, repo_root, tmp_path,
                                                       monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "oracle_ceiling", repo_root / "benchmarks" / "oracle_ceiling.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.chdir(repo_root)
    table = mod.run(tiny_sim, tmp_path / "o", threads=1)
    assert list(table["bag"]) == ["BAG_FS", "BAG_ORACLE_FS_HIDDEN", "BAG_ORACLE_HIDDEN"]
    assert table["oracle"].tolist() == [False, True, True]  # oracle rows say so
    # every BAG on the same normative subjects
    assert table["n"].nunique() == 1
    cn = pd.read_csv(tiny_sim / "cohort.tsv", sep="\t")["diagnosis"].eq("CN").sum()
    assert table["n"].iloc[0] <= cn
    assert table.loc[1:, "rg_status"].notna().all()
    probes = pd.read_csv(tmp_path / "o" / "oracle_probes.tsv", sep="\t").set_index("task")
    assert "p_delong_FS_vs_ORACLE_FS_HIDDEN" in probes.columns
    md = mod.markdown(tmp_path / "o")
    assert "BAG_ORACLE_FS_HIDDEN (oracle)" in md
