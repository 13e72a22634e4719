import json
import shutil

import pandas as pd
import pytest

from cli.main import app
from rnce_bag.core.schema import read_table


def _copy_manifest(tiny_sim, tmp_path, n=20, edit=None):
    df = pd.read_csv(tiny_sim / "cohort.tsv", sep="\t").head(n)
    df["freesurfer_dir"] = [str(tiny_sim / p) for p in df["freesurfer_dir"]]
    df["t1_path"] = [str(tiny_sim / p) for p in df["t1_path"]]
    if edit:
        df = edit(df)
    p = tmp_path / "manifest.tsv"
    df.to_csv(p, sep="\t", index=False)
    return p


def test_features_from_simulated_cohort(runner, tiny_sim, tmp_path):
    out = tmp_path / "feat"
    res = runner.invoke(app, ["features", "--manifest", str(tiny_sim / "cohort.tsv"),
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    f = read_table(out / "features.parquet", "freesurfer_features")
    assert len(f) == 200 and f.columns[-1] == "eTIV"
    assert sum(c.startswith("aparc.lh.") and c.endswith(".thickness") for c in f.columns) == 34
    aseg = (tiny_sim / "freesurfer/sub-0001/stats/aseg.stats").read_text()
    etiv = float([ln for ln in aseg.splitlines() if ", eTIV, " in ln][0].split(",")[3])
    assert f.loc[f["IID"] == "sub-0001", "eTIV"].item() == pytest.approx(etiv)
    report = json.loads((out / "features_report.json").read_text())
    assert report["n_subjects_read"] == 200 and report["freesurfer_versions"] == {"7.2.0": 200}
    assert json.loads((out / "run.json").read_text())["status"] == "ok"


def test_icv_normalise(runner, tiny_sim, tmp_path):
    m = _copy_manifest(tiny_sim, tmp_path)
    runner.invoke(app, ["features", "--manifest", str(m), "--out", str(tmp_path / "a")])
    res = runner.invoke(app, ["features", "--manifest", str(m), "--out", str(tmp_path / "b"),
                              "--icv-normalise"])
    assert res.exit_code == 0, res.output
    a = pd.read_parquet(tmp_path / "a/features.parquet")
    b = pd.read_parquet(tmp_path / "b/features.parquet")
    col = "aseg.Left-Hippocampus.volume"
    assert b[col].tolist() == pytest.approx((a[col] / a["eTIV"]).tolist())
    assert b["aparc.lh.insula.thickness"].tolist() == a["aparc.lh.insula.thickness"].tolist()


def test_missing_subject_error_and_skip(runner, tiny_sim, tmp_path):
    def drop_one(df):
        df.loc[3, "freesurfer_dir"] = str(tmp_path / "nowhere")
        return df

    m = _copy_manifest(tiny_sim, tmp_path, edit=drop_one)
    iid = pd.read_csv(m, sep="\t")["IID"][3]
    res = runner.invoke(app, ["features", "--manifest", str(m), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and iid in res.output and "--skip-missing" in res.output
    assert not (tmp_path / "o/features.parquet").exists()
    res = runner.invoke(app, ["features", "--manifest", str(m), "--out", str(tmp_path / "o"),
                              "--skip-missing"])
    assert res.exit_code == 0 and f"skipped 1 subject(s): {iid}" in res.output
    report = json.loads((tmp_path / "o/features_report.json").read_text())
    assert report["skipped"][0]["IID"] == iid


def test_duplicate_iid_exit_2(runner, tiny_sim, tmp_path):
    def dup(df):
        df.loc[5, "IID"] = df.loc[2, "IID"]
        return df

    m = _copy_manifest(tiny_sim, tmp_path, edit=dup)
    res = runner.invoke(app, ["features", "--manifest", str(m), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "row 6 (line 7), column 'IID': duplicated" in res.output


def test_malformed_stats_exit_2(runner, tiny_sim, tmp_path):
    fs = tmp_path / "fs"
    shutil.copytree(tiny_sim / "freesurfer/sub-0001", fs)
    aseg = fs / "stats/aseg.stats"
    aseg.write_text(aseg.read_text() + "  46  99  12\n")
    m = tmp_path / "m.tsv"
    m.write_text(f"IID\tfreesurfer_dir\nsub-0001\t{fs}\n")
    res = runner.invoke(app, ["features", "--manifest", str(m), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and f"{aseg}, line 125: expected 10 fields" in res.output


def test_relative_paths_resolve_against_manifest(runner, tiny_sim, tmp_path):
    d = tmp_path / "cohort"
    shutil.copytree(tiny_sim / "freesurfer/sub-0002", d / "fs/sub-0002")
    (d / "m.tsv").write_text("IID\tfreesurfer_dir\nsub-0002\tfs/sub-0002\n")
    res = runner.invoke(app, ["features", "--manifest", str(d / "m.tsv"), "--out",
                              str(tmp_path / "o")])
    assert res.exit_code == 0, res.output


def test_missing_manifest_exit_2(runner, tmp_path):
    res = runner.invoke(app, ["features", "--manifest", str(tmp_path / "none.tsv"), "--out",
                              str(tmp_path / "o")])
    assert res.exit_code == 2 and "not found" in res.output
