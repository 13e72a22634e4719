import json

import numpy as np
import pandas as pd
import pytest

from cli.main import app
from rnce_bag.core.schema import read_table


@pytest.fixture(scope="module")
def reps_dir(tiny_features, tmp_path_factory):
    """fs.parquet (the shared tiny features) and emb.parquet (16 PCs of them)."""
    d = tmp_path_factory.mktemp("ba")
    f = pd.read_parquet(tiny_features)
    f.to_parquet(d / "fs.parquet", index=False)
    x = f.drop(columns=["IID"]).to_numpy()
    x = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1)
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    emb = pd.DataFrame(u[:, :16] * s[:16], columns=[f"z{i}" for i in range(16)])
    emb.insert(0, "IID", f["IID"])
    emb.to_parquet(d / "emb.parquet", index=False)
    return d


def _run(runner, tiny_sim, feats, out, *extra, manifest=None):
    return runner.invoke(app, ["brain-age", "--manifest", str(manifest or tiny_sim /
                                                              "cohort.tsv"),
                               "--features", f"FS={feats / 'fs.parquet'}", "--out", str(out),
                               "--set", "min_train_subjects=20", *extra])


def test_two_representations(runner, tiny_sim, reps_dir, tmp_path):
    out = tmp_path / "ba"
    res = _run(runner, tiny_sim, reps_dir, out, "--features",
               f"PCA={reps_dir / 'emb.parquet'}")
    assert res.exit_code == 0, res.output
    bag = read_table(out / "bag.tsv", "brain_age")
    assert {"pred_fs", "bag_fs", "pred_pca", "bag_pca", "fold"} <= set(bag.columns)
    pheno = pd.read_csv(out / "pheno.tsv", sep="\t")
    assert list(pheno.columns) == ["#FID", "IID", "BAG_FS", "BAG_PCA"]
    covar = pd.read_csv(out / "covar.tsv", sep="\t")
    assert list(covar.columns[:5]) == ["#FID", "IID", "age", "age2", "sex"]
    assert {"site_site2", "site_site3", "site_site4", "eTIV"} <= set(covar.columns)
    phen = pd.read_csv(out / "bag.phen", sep="\t", header=None)
    assert phen.shape == (200, 4) and phen.iloc[0, 1] == "sub-0001"
    assert pd.read_csv(out / "bag.qcovar", sep="\t", header=None).shape[1] == 5
    assert pd.read_csv(out / "bag.covar", sep="\t", header=None).iloc[0, 2] in ("M", "F")
    m = json.loads((out / "metrics.json").read_text())
    fs = m["representations"]["FS"]
    assert abs(fs["train_corrected"]["corr_bag_age"]) < 0.02
    assert fs["train_uncorrected"]["corr_bag_age"] < -0.2
    assert "aseg.5th-Ventricle.volume" in fs["dropped_zero_columns"]
    lat = pd.read_csv(tiny_sim / "truth/latent.tsv", sep="\t")
    assert np.corrcoef(bag["bag_fs"], lat["latent_factor"])[0, 1] > 0.4
    assert (out / "figure_data.tsv").exists() and "FS: MAE" in res.output


def test_missing_subjects_in_representation(runner, tiny_sim, reps_dir, tmp_path):
    f = pd.read_parquet(reps_dir / "fs.parquet").iloc[3:]
    f.to_parquet(tmp_path / "fs.parquet", index=False)
    res = _run(runner, tiny_sim, tmp_path, tmp_path / "o")
    assert res.exit_code == 2 and "lacks 3 subject(s)" in res.output and "sub-0001" in res.output
    assert not (tmp_path / "o/bag.tsv").exists()


def test_constant_column(runner, tiny_sim, reps_dir, tmp_path):
    f = pd.read_parquet(reps_dir / "fs.parquet")
    f["aseg.Left-Hippocampus.volume"] = 4000.0
    f.to_parquet(tmp_path / "fs.parquet", index=False)
    res = _run(runner, tiny_sim, tmp_path, tmp_path / "o")
    assert res.exit_code == 2 and "column 'aseg.Left-Hippocampus.volume': constant" in res.output


def test_missing_age(runner, tiny_sim, reps_dir, tmp_path):
    m = pd.read_csv(tiny_sim / "cohort.tsv", sep="\t")
    m.loc[4, "age"] = np.nan
    m.to_csv(tmp_path / "m.tsv", sep="\t", index=False, na_rep="NA")
    res = _run(runner, tiny_sim, reps_dir, tmp_path / "o", manifest=tmp_path / "m.tsv")
    assert res.exit_code == 2 and "row 5 (line 6), column 'age': missing value" in res.output


def test_too_few_normative(runner, tiny_sim, reps_dir, tmp_path):
    res = _run(runner, tiny_sim, reps_dir, tmp_path / "o", "--set",
               "train_filter={diagnosis: [AD]}", "--set", "min_train_subjects=50")
    assert res.exit_code == 2 and "normative training subjects" in res.output


@pytest.mark.parametrize("arg", ["FS", "=x", "1X=path", "FS=a"])
def test_bad_features_argument(runner, tiny_sim, tmp_path, arg):
    res = runner.invoke(app, ["brain-age", "--manifest", str(tiny_sim / "cohort.tsv"),
                              "--features", arg, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2


def test_genetic_phenotypes_on_normative_subjects_by_default(runner, tiny_sim, reps_dir,
                                                            tmp_path):
    """pheno.tsv holds BAGs of the normative (CN) subjects only; bag.tsv keeps everyone
    (the probes need patients); 'all' keeps everyone and adds diagnosis covariates."""
    man = pd.read_csv(tiny_sim / "cohort.tsv", sep="\t")
    cn = man["diagnosis"].eq("CN").to_numpy()
    out = tmp_path / "ba"
    res = _run(runner, tiny_sim, reps_dir, out)
    assert res.exit_code == 0, res.output
    assert f"{cn.sum()} normative subjects" in " ".join(res.output.split())
    pheno = pd.read_csv(out / "pheno.tsv", sep="\t").set_index("IID").loc[man["IID"]]
    assert pheno["BAG_FS"].notna().to_numpy().tolist() == cn.tolist()
    assert read_table(out / "bag.tsv", "brain_age")["bag_fs"].notna().all()
    assert not any(c.startswith("dx_") for c in pd.read_csv(out / "covar.tsv", sep="\t"))
    out2 = tmp_path / "ba_all"
    res = _run(runner, tiny_sim, reps_dir, out2, "--set", "genetics_subjects=all")
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out2 / "pheno.tsv", sep="\t")["BAG_FS"].notna().all()
    covar = pd.read_csv(out2 / "covar.tsv", sep="\t").set_index("IID").loc[man["IID"]]
    assert covar.columns[-1] == "eTIV"
    assert (covar["dx_CN"] == man["diagnosis"].eq("CN").astype(int).to_numpy()).all()
    assert (covar["dx_MCI"] == man["diagnosis"].eq("MCI").astype(int).to_numpy()).all()


def test_combined_representation(runner, tiny_sim, reps_dir, tmp_path):
    """FS_PCA=FS+PCA is its own, clearly named row: the two tables' columns side by side."""
    from rnce_bag.core.errors import InputError
    from rnce_bag.representations import load_representation, parse_representation_args

    out = tmp_path / "ba"
    res = _run(runner, tiny_sim, reps_dir, out, "--features", f"PCA={reps_dir / 'emb.parquet'}",
               "--features", "FS_PCA=FS+PCA")
    assert res.exit_code == 0, res.output
    assert list(pd.read_csv(out / "pheno.tsv", sep="\t").columns[2:]) == ["BAG_FS", "BAG_PCA",
                                                                          "BAG_FS_PCA"]
    reps = parse_representation_args([f"FS={reps_dir / 'fs.parquet'}",
                                      f"PCA={reps_dir / 'emb.parquet'}", "B=FS+PCA"])
    iids = pd.read_parquet(reps_dir / "fs.parquet")["IID"]
    x, cols, etiv, _ = load_representation("B", reps["B"], iids)
    fs, _, _, _ = load_representation("FS", reps["FS"], iids)
    assert x.shape[1] == fs.shape[1] + 16 and cols[-1] == "emb:z15" and etiv is not None
    with pytest.raises(InputError, match="'NOPE' is not a representation"):
        parse_representation_args([f"FS={reps_dir / 'fs.parquet'}", "B=FS+NOPE"])
