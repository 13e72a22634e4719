import pandas as pd

from cli.main import app


def test_probe_on_tiny_cohort(runner, tiny_sim, tmp_path):
    from rnce_bag.imaging.features import build_features

    f, _ = build_features(tiny_sim / "cohort.tsv")
    f.to_parquet(tmp_path / "fs.parquet", index=False)
    sub = f[["IID", "eTIV"] + [c for c in f.columns if "Hippocampus" in c]]
    sub.to_parquet(tmp_path / "hippo.parquet", index=False)
    res = runner.invoke(app, ["probe", "--manifest", str(tiny_sim / "cohort.tsv"),
                              "--features", f"FS={tmp_path / 'fs.parquet'}", "--features",
                              f"HIPPO={tmp_path / 'hippo.parquet'}", "--task", "ad_vs_cn",
                              "--task", "amyloid", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    scores = pd.read_csv(tmp_path / "o/probe.tsv", sep="\t")
    # FS (272 features) also at 64 principal components; every table has age + sex only
    assert set(scores["task"]) == {"ad_vs_cn", "amyloid"} and len(scores) == 8
    assert set(scores["representation"]) == {"FS", "FS-64", "HIPPO", "AGE_SEX"}
    # the clinical subset only: the tiny cohort's clinical CN, not its normative ones
    man = pd.read_csv(tiny_sim / "cohort.tsv", sep="\t")
    clin = man[man["clinical"] == 1]
    assert scores.loc[scores["task"] == "ad_vs_cn", "n"].iloc[0] == \
        clin["diagnosis"].isin(["CN", "AD"]).sum()
    # atrophy separates AD from the clinical CN (a handful of subjects, so a loose bound)
    auc = scores.set_index(["task", "representation"])["auc"]
    assert auc[("ad_vs_cn", "FS")] > 0.6 and auc[("ad_vs_cn", "HIPPO")] > 0.6, auc
    pairs = pd.read_csv(tmp_path / "o/probe_pairs.tsv", sep="\t")
    assert list(pairs.columns) == ["task", "rep_a", "rep_b", "auc_a", "auc_b", "auc_diff",
                                   "diff_se", "p_delong", "p_holm"]
    assert (tmp_path / "o/probe_predictions.parquet").exists()
    assert "DeLong p" in res.output and "multiplicity: the table holds 12 paired" in res.output


def test_probe_bad_task(runner, tiny_sim, tmp_path):
    res = runner.invoke(app, ["probe", "--manifest", str(tiny_sim / "cohort.tsv"), "--features",
                              "FS=x.parquet", "--task", "flu", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "unknown task 'flu'" in res.output


def test_probe_single_class_exit_2(runner, tiny_sim, tmp_path):
    from rnce_bag.imaging.features import build_features

    f, _ = build_features(tiny_sim / "cohort.tsv")
    f.to_parquet(tmp_path / "fs.parquet", index=False)
    m = pd.read_csv(tiny_sim / "cohort.tsv", sep="\t")
    m.loc[m["diagnosis"] == "AD", "diagnosis"] = "MCI"
    m.to_csv(tmp_path / "m.tsv", sep="\t", index=False, na_rep="NA")
    res = runner.invoke(app, ["probe", "--manifest", str(tmp_path / "m.tsv"), "--features",
                              f"FS={tmp_path / 'fs.parquet'}", "--task", "ad_vs_cn", "--out",
                              str(tmp_path / "o")])
    assert res.exit_code == 2 and "needs at least 5" in res.output
