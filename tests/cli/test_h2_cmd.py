from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli.main import app
from gwas.heritability.hsq import h2_from_hsq, read_hsq


def _pheno(sim, tmp_path, n_short=None):
    lat = pd.read_csv(sim / "truth/latent.tsv", sep="\t")
    df = pd.DataFrame({"IID": lat["IID"], "LATENT": lat["latent_factor"],
                       "NOISE": np.random.default_rng(0).normal(size=len(lat))})
    if n_short is not None:
        df.loc[n_short:, "NOISE"] = np.nan
    p = tmp_path / "p.tsv"
    df.to_csv(p, sep="\t", index=False, na_rep="NA")
    return p


def test_h2_embedded(runner, complete_sim, tmp_path):
    out = tmp_path / "h2"
    res = runner.invoke(app, ["h2", "--bfile", str(complete_sim / "genotypes/cohort"),
                              "--pheno", str(_pheno(complete_sim, tmp_path)), "--covar",
                              str(complete_sim / "covar.tsv"), "--covar-name", "age,sex",
                              "--grm-cutoff", "0", "--out", str(out)])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(out / "heritability.tsv", sep="\t").set_index("phenotype")
    assert list(t.columns[:8]) == ["method", "backend", "h2", "h2_se", "intercept",
                                   "intercept_se", "n", "m"]
    assert t.loc["LATENT", "h2"] > t.loc["NOISE", "h2"]
    assert t.loc["LATENT", "m"] == 2000 and t.loc["LATENT", "n"] == 300
    hsq = h2_from_hsq(read_hsq(out / "LATENT.hsq"))
    assert hsq["h2"] == pytest.approx(t.loc["LATENT", "h2"], abs=1e-6)
    for f in ("grm.grm.bin", "grm.grm.N.bin", "grm.grm.id", "run.json"):
        assert (out / f).exists()
    # the GRM just written can be reused
    res = runner.invoke(app, ["h2", "--grm", str(out / "grm"), "--pheno",
                              str(_pheno(complete_sim, tmp_path)), "--pheno-name", "LATENT",
                              "--grm-cutoff", "0", "--out", str(tmp_path / "again")])
    assert res.exit_code == 0 and "LATENT: h2 =" in res.output


def test_h2_flags_small_phenotype_and_fails_when_none(runner, complete_sim, tmp_path):
    p = _pheno(complete_sim, tmp_path, n_short=30)
    res = runner.invoke(app, ["h2", "--bfile", str(complete_sim / "genotypes/cohort"), "--pheno",
                              str(p), "--grm-cutoff", "0", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0 and "NOISE: skipped: 30 non-missing values" in res.output
    res = runner.invoke(app, ["h2", "--grm", str(tmp_path / "o/grm"), "--pheno", str(p),
                              "--pheno-name", "NOISE", "--grm-cutoff", "0", "--out",
                              str(tmp_path / "o2")])
    assert res.exit_code == 2 and "no phenotype could be estimated" in res.output


def test_h2_strict_cutoff_and_mismatch_exit_2(runner, complete_sim, tmp_path):
    args = ["h2", "--bfile", str(complete_sim / "genotypes/cohort"), "--pheno",
            str(_pheno(complete_sim, tmp_path))]
    res = runner.invoke(app, [*args, "--grm-cutoff", "0.0001", "--out", str(tmp_path / "o2")])
    assert res.exit_code == 2 and "relatedness cut-off" in res.output
    assert not (tmp_path / "o2").exists()  # nothing of the failed run is left
    res = runner.invoke(app, [*args, "--grm-cutoff", "0", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    bad = tmp_path / "b.tsv"
    bad.write_text("IID\tY\nzz1\t1\nzz2\t2\n")
    res = runner.invoke(app, ["h2", "--grm", str(tmp_path / "o/grm"), "--pheno", str(bad),
                              "--grm-cutoff", "0", "--out", str(tmp_path / "o3")])
    assert res.exit_code == 2 and "no sample is both in the GRM" in res.output


def test_h2_gcta_backend_missing_exit_3(runner, complete_sim, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    res = runner.invoke(app, ["h2", "--bfile", str(complete_sim / "genotypes/cohort"), "--pheno",
                              str(_pheno(complete_sim, tmp_path)), "--backend", "gcta",
                              "--grm-cutoff", "0", "--out", str(tmp_path / "o")])
    assert res.exit_code == 3 and "gcta64" in res.output and "put gcta64 on PATH" in res.output


def test_rg_command(runner, complete_sim, tmp_path):
    lat = pd.read_csv(complete_sim / "truth/latent.tsv", sep="\t")
    rng = np.random.default_rng(1)
    p = tmp_path / "p.tsv"
    pd.DataFrame({"IID": lat["IID"], "A": lat["latent_factor"],
                  "B": lat["latent_factor"] + rng.normal(0, 0.5, len(lat))}).to_csv(
        p, sep="\t", index=False)
    res = runner.invoke(app, ["rg", "--bfile", str(complete_sim / "genotypes/cohort"), "--pheno",
                              str(p), "--grm-cutoff", "0", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(tmp_path / "o/rg.tsv", sep="\t")
    assert list(t.columns[:7]) == ["p1", "p2", "method", "rg", "rg_se", "p", "backend"]
    assert t.loc[0, "rg"] > 0.7 and (tmp_path / "o/A__B.hsq").exists()
    one = tmp_path / "one.tsv"
    pd.DataFrame({"IID": lat["IID"], "A": lat["latent_factor"]}).to_csv(one, sep="\t",
                                                                        index=False)
    res = runner.invoke(app, ["rg", "--grm", str(tmp_path / "o/grm"), "--pheno", str(one),
                              "--grm-cutoff", "0", "--out", str(tmp_path / "o2")])
    assert res.exit_code == 2 and "at least two phenotypes" in res.output


def test_ldsc_cli_backend_missing_exit_3(runner, tmp_path, monkeypatch):
    s = tmp_path / "A.tsv.gz"
    import gzip as _gz

    s.write_bytes(_gz.compress(b"chromosome\tbase_pair_location\teffect_allele\tother_allele\t"
                               b"beta\tstandard_error\teffect_allele_frequency\tp_value\t"
                               b"variant_id\trsid\tn\n1\t100\tA\tG\t0.1\t0.05\t0.3\t0.04\t"
                               b"1_100_G_A\trs1\t100\n"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    res = runner.invoke(app, ["h2", "--method", "ldsc", "--backend", "ldsc-cli", "--sumstats",
                              str(s), "--ref-ld", "ld/", "--w-ld", "w/", "--out",
                              str(tmp_path / "o")])
    assert res.exit_code == 3 and "ldsc.py" in res.output
    res = runner.invoke(app, ["h2", "--method", "ldsc", "--out", str(tmp_path / "o2")])
    assert res.exit_code == 2 and "--sumstats" in res.output


def _fake_gcta(tmp_path, hsq: str) -> Path:
    """A gcta64 stand-in on PATH: records its arguments, writes GCTA's .hsq and .log."""
    import sys

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "bivar.hsq").write_text(hsq)
    exe = bin_dir / "gcta64"
    exe.write_text(f"""#!{sys.executable}
import json, shutil, sys
args = sys.argv[1:]
out = args[args.index("--out") + 1]
with open({str(tmp_path / "calls.jsonl")!r}, "a") as fh:
    fh.write(json.dumps(args) + "\\n")
shutil.copyfile({str(tmp_path / "bivar.hsq")!r}, out + ".hsq")
open(out + ".log", "w").write("Summary result of REML analysis:\\n")
""")
    exe.chmod(0o755)
    return bin_dir


def test_rg_gcta_backend_runs_reml_bivar(runner, complete_sim, tmp_path, monkeypatch):
    """rg --backend gcta: gcta64 --reml-bivar 1 2 on the GRM, with the pair's samples
    (both traits and every covariate present) and covariates; rg.tsv from its .hsq."""
    import json
    import os

    from tests.gwas.heritability.test_hsq_gcta import BIVAR

    bin_dir = _fake_gcta(tmp_path, BIVAR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    lat = pd.read_csv(complete_sim / "truth/latent.tsv", sep="\t")
    p = tmp_path / "p.tsv"
    ph = pd.DataFrame({"IID": lat["IID"], "A": lat["latent_factor"],
                       "B": np.random.default_rng(2).normal(size=len(lat))})
    ph.loc[:9, "B"] = np.nan
    ph.to_csv(p, sep="\t", index=False, na_rep="NA")
    res = runner.invoke(app, ["rg", "--bfile", str(complete_sim / "genotypes/cohort"), "--pheno",
                              str(p), "--covar", str(complete_sim / "covar.tsv"), "--backend",
                              "gcta", "--grm-cutoff", "0", "--threads", "3",
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert len(calls) == 1
    args = calls[0]
    assert args[args.index("--reml-bivar") + 1:args.index("--reml-bivar") + 3] == ["1", "2"]
    assert args[args.index("--grm") + 1] == str(tmp_path / "o/.rg.partial/grm")  # staged
    assert (tmp_path / "o/grm.grm.bin").exists()
    assert args[args.index("--thread-num") + 1] == "3"
    def published(flag):  # the stage folder became --out when the command finished
        return args[args.index(flag) + 1].replace("/.rg.partial/", "/")

    phen = pd.read_csv(published("--pheno"), sep="\t", header=None)
    assert phen.shape == (290, 4)  # FID IID A B: the 10 without B left out
    qcov = pd.read_csv(published("--qcovar"), sep="\t", header=None)
    assert len(qcov) == 290 and qcov.shape[1] > 3  # FID IID age sex site dummies
    t = pd.read_csv(tmp_path / "o/rg.tsv", sep="\t")
    assert t.loc[0, "backend"] == "gcta" and t.loc[0, "rg"] == 0.877
    assert t.loc[0, "rg_se"] == 0.035 and t.loc[0, "h2_1"] == 0.479 and t.loc[0, "n"] == 290


def test_rg_gcta_backend_missing_exit_3_and_bad_pairs_exit_2(runner, complete_sim, tmp_path,
                                                            monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    res = runner.invoke(app, ["rg", "--bfile", str(complete_sim / "genotypes/cohort"), "--pheno",
                              str(_pheno(complete_sim, tmp_path)), "--backend", "gcta",
                              "--grm-cutoff", "0", "--out", str(tmp_path / "o")])
    assert res.exit_code == 3 and "put gcta64 on PATH" in res.output
    for cmd in ("h2", "rg"):
        for method, backend in (("ldsc", "gcta"), ("greml", "ldsc-cli"), ("reml", "embedded")):
            res = runner.invoke(app, [cmd, "--method", method, "--backend", backend, "--out",
                                      str(tmp_path / f"{cmd}{method}{backend}")])
            assert res.exit_code == 2, (cmd, method, backend, res.output)
            assert ("--backend" if method != "reml" else "--method") in res.output


@pytest.mark.external
def test_h2_and_rg_take_the_design_of_a_finished_gwas(runner, complete_sim, tmp_path):
    """h2/rg --gwas DIR fit the association's samples and covariates, PCs included; before,
    a standalone heritability run had another design unless the user assembled covariates
    by hand (issue 30)."""
    g = tmp_path / "gwas"
    pheno = _pheno(complete_sim, tmp_path)
    res = runner.invoke(app, ["gwas", "--bfile", str(complete_sim / "genotypes/cohort"),
                              "--pheno", str(pheno), "--covar", str(complete_sim / "covar.tsv"),
                              "--covar-name", "age,sex", "--engine", "plink2", "--set",
                              "pca.n_pcs=3", "--out", str(g)])
    assert res.exit_code == 0, res.output
    base = ["--bfile", str(complete_sim / "genotypes/cohort"), "--pheno", str(pheno),
            "--grm-cutoff", "0"]
    res = runner.invoke(app, ["h2", *base, "--gwas", str(g), "--out", str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert "the association's samples and covariates (age, " in said and "PC1, PC2, PC3)" in said
    res = runner.invoke(app, ["h2", *base, "--covar", str(g / "covariates.tsv"), "--out",
                              str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    a, b = (pd.read_csv(tmp_path / d / "heritability.tsv", sep="\t") for d in "ab")
    pd.testing.assert_frame_equal(a, b)
    rg = runner.invoke(app, ["rg", *base, "--gwas", str(g), "--out", str(tmp_path / "rg")])
    assert rg.exit_code == 0, rg.output
    both = runner.invoke(app, ["h2", *base, "--gwas", str(g), "--covar",
                               str(complete_sim / "covar.tsv"), "--out", str(tmp_path / "c")])
    assert both.exit_code == 2 and "--gwas or --covar, not both" in both.output
    none = runner.invoke(app, ["h2", *base, "--gwas", str(tmp_path), "--out",
                               str(tmp_path / "d")])
    assert none.exit_code == 2 and "no covariates.tsv there" in none.output
    # the report says what each GREML run adjusted for, from its own record (it used to
    # state the GWAS's covariates for h2 and rg whatever they used)
    res = runner.invoke(app, ["h2", *base, "--out", str(tmp_path / "bare")])
    assert res.exit_code == 0, res.output
    import html

    from report.page import build_report

    page = html.unescape(" ".join(build_report(tmp_path, tmp_path / "rep").read_text().split()))
    assert "GWAS covariates: age, " in page
    for said in ("h2 (a): the GWAS's", "h2 (b): the GWAS's", "rg (rg): the GWAS's",
                 "h2 (bare): none"):
        assert said in page, said
