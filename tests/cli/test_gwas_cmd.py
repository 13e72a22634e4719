import json

import numpy as np
import pandas as pd
import pytest

from cli.main import app


def _args(sim, out, *extra, pheno=None, covar=None):
    return ["gwas", "--bfile", str(sim / "genotypes/cohort"), "--pheno",
            str(pheno or sim / "pheno.tsv"), "--covar", str(covar or sim / "covar.tsv"),
            "--out", str(out), *extra]


@pytest.mark.external
def test_gwas_plink2_outputs(runner, complete_sim, tmp_path):
    out = tmp_path / "g"
    res = runner.invoke(app, _args(complete_sim, out, "--engine", "plink2", "--pheno-name",
                                   "LATENT,NOISE", "--set", "pca.n_pcs=3"))
    assert res.exit_code == 0, res.output
    for f in ("LATENT.tsv.gz", "LATENT-meta.yaml", "NOISE.tsv.gz", "summary.tsv", "loci.tsv",
              "pcs.tsv", "gwas_report.json", "run.json"):
        assert (out / f).exists(), f
    summary = pd.read_csv(out / "summary.tsv", sep="\t").set_index("phenotype")
    assert 0.8 < summary.loc["NOISE", "lambda_gc"] < 1.2
    report = json.loads((out / "gwas_report.json").read_text())
    assert report["qc"]["variants_in"] == 2000 and report["n_pcs"] == 3
    assert "lambda GC" in res.output and "after QC" in res.output
    assert list(pd.read_csv(out / "pcs.tsv", sep="\t").columns) == ["IID", "PC1", "PC2", "PC3"]
    # the association's covariates, for GREML/rg on the same model: covar file + PCs
    used = pd.read_csv(out / "covariates.tsv", sep="\t")
    cov = pd.read_csv(complete_sim / "covar.tsv", sep="\t")
    assert used.columns[0] == "IID" and list(used.columns[-3:]) == ["PC1", "PC2", "PC3"]
    assert "age" in used.columns and len(used.columns) > 5  # sex and site encoded
    assert len(used) == report["qc"]["samples_out"]
    ages = cov.set_index("IID").loc[used["IID"], "age"].to_numpy()
    assert np.allclose(used["age"], ages)


@pytest.mark.parametrize(("edit", "match"), [
    ("pheno_missing_col", "phenotype(s) NOPE not in the file"),
    ("constant_covar", "constant covariate(s) k"),
    ("no_overlap", "only 0 samples"),
    ("bad_bfile", "genotype file"),
])
def test_gwas_bad_inputs_exit_2(runner, complete_sim, tmp_path, edit, match):
    pheno, covar, extra = None, None, ["--engine", "plink2"]
    if edit == "pheno_missing_col":
        extra += ["--pheno-name", "NOPE"]
    elif edit == "constant_covar":
        c = pd.read_csv(complete_sim / "covar.tsv", sep="\t").assign(k=1.0)
        covar = tmp_path / "c.tsv"
        c.to_csv(covar, sep="\t", index=False)
    elif edit == "no_overlap":
        p = pd.read_csv(complete_sim / "pheno.tsv", sep="\t")
        p["IID"] = "x" + p["IID"]
        pheno = tmp_path / "p.tsv"
        p.to_csv(pheno, sep="\t", index=False)
    args = _args(complete_sim, tmp_path / "o", *extra, pheno=pheno, covar=covar)
    if edit == "bad_bfile":
        args[2] = str(tmp_path / "nothing")
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and match in res.output, res.output


def test_gwas_needs_one_genotype_input(runner, tmp_path):
    p = tmp_path / "p.tsv"
    p.write_text("IID\tA\ns1\t1\n")
    res = runner.invoke(app, ["gwas", "--pheno", str(p), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "exactly one of --bfile" in res.output


def test_gwas_missing_plink2_exit_3(runner, complete_sim, tmp_path, monkeypatch):
    import shutil

    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "plink2"
                        else real(name, *a, **k))
    res = runner.invoke(app, _args(complete_sim, tmp_path / "o", "--engine", "plink2"))
    assert res.exit_code == 3 and "plink2" in res.output and "apt-get install plink2" in \
        res.output


@pytest.mark.hail
@pytest.mark.slow
@pytest.mark.extended
def test_hail_runs_twice_in_one_process(runner, complete_sim, tmp_path):
    """The first run publishes its folder (the Hail session's temporary folder inside it is
    gone); a second run in the same process used to fail with NoSuchFileException on a
    Spark block-manager folder. It now starts a fresh session. The rerun into the same
    --out reuses the imported MatrixTable and the LD-pruned variants (OUT/.cache) and gives
    the same results."""
    out = tmp_path / "a"
    base = ["gwas", "--bfile", str(complete_sim / "genotypes/cohort"), "--pheno",
            str(complete_sim / "pheno.tsv"), "--pheno-name", "LATENT", "--engine", "hail",
            "--set", "pca.n_pcs=2", "--set", "hail.spark_master=local[2]", "--set",
            "hail.driver_memory_gb=2", "--out", str(out)]
    first = runner.invoke(app, base)
    assert first.exit_code == 0, first.output
    assert not (out / ".gwas.partial").exists()
    cached = sorted((out / ".cache").glob("*/_SUCCESS"))
    assert {p.parent.name.split("-")[0] for p in cached} == {"genotypes", "pruned"}
    stamps = [p.stat().st_mtime_ns for p in cached]
    a = pd.read_csv(out / "LATENT.tsv.gz", sep="\t")
    pcs = pd.read_csv(out / "pcs.tsv", sep="\t")
    second = runner.invoke(app, base)
    assert second.exit_code == 0, second.output
    assert [p.stat().st_mtime_ns for p in cached] == stamps  # read, not rewritten
    pd.testing.assert_frame_equal(a, pd.read_csv(out / "LATENT.tsv.gz", sep="\t"))
    pd.testing.assert_frame_equal(pcs, pd.read_csv(out / "pcs.tsv", sep="\t"))
