"""Robustness round 2 (issue: the bad inputs that still crashed or misled).

Same contract as ``test_bad_inputs.py``: exit code, a message naming the cause, nothing
complete-looking left behind.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from cli.main import app
from tests.robustness.test_bad_inputs import (
    Env,
    _bad_nifti,
    _enrich,
    _gwas,
    _pheno,
    _train,
    check_case,
)


def _raw_pheno(env: Env, text_edit: Callable[[str], str], name: str = "pheno.tsv") -> Path:
    text = text_edit((env.gen / "pheno.tsv").read_text())
    path = env.tmp / name
    path.write_text(text)
    return path


def _dup_header(text: str) -> str:
    head, rest = text.split("\n", 1)
    return head.replace("NOISE", "LATENT") + "\n" + rest


def _truncated_gz(env: Env) -> Path:
    data = gzip.compress((env.gen / "pheno.tsv").read_bytes())
    path = env.tmp / "pheno.tsv.gz"
    path.write_bytes(data[: len(data) // 2])
    return path


def _covar(env: Env, edit) -> Path:
    c = edit(pd.read_csv(env.gen / "covar.tsv", sep="\t"))
    path = env.tmp / "covar.tsv"
    c.to_csv(path, sep="\t", index=False)
    return path


def _dup_sumstats(env: Env) -> Path:
    p = env.sumstats()
    df = pd.read_csv(p, sep="\t")
    pd.concat([df, df.head(1)]).to_csv(p, sep="\t", index=False)
    return p


def _bad_bim(env: Env, edit: Callable[[list[str]], list[str]]) -> str:
    """A copy of the genotypes whose .bim lines are edited; returns the prefix."""
    import shutil

    d = env.tmp / "geno"
    d.mkdir(exist_ok=True)
    for ext in ("bed", "fam"):
        shutil.copy(f"{env.bfile}.{ext}", d / f"c.{ext}")
    lines = Path(f"{env.bfile}.bim").read_text().splitlines()
    (d / "c.bim").write_text("\n".join(edit(lines)) + "\n")
    return str(d / "c")


def _raw_covar(env: Env, line: int) -> Path:
    """The covariate file with the last field of ``line`` removed."""
    path = env.tmp / "covar_short.tsv"
    path.write_text(_drop_last_field((env.gen / "covar.tsv").read_text(), line))
    return path


def _drop_last_field(text: str, line: int) -> str:
    """``text`` with the last tab-separated field of (1-based) ``line`` removed."""
    lines = text.split("\n")
    lines[line - 1] = lines[line - 1].rsplit("\t", 1)[0]
    return "\n".join(lines)


def _set_field(lines: list[str], row: int, col: int, value: str) -> list[str]:
    parts = lines[row].split("\t")
    parts[col] = value
    return [*lines[:row], "\t".join(parts), *lines[row + 1:]]


def _h2(env: Env, pheno: Path, *extra: str) -> list[str]:
    return ["h2", "--bfile", env.bfile, "--pheno", str(pheno), "--grm-cutoff", "0", "--out",
            str(env.tmp / "out"), *extra]


CASES: list[tuple[str, Callable[[Env], list[str]], int, str, str | None]] = [
    ("gwas-duplicated-pheno-column", lambda e: _gwas(e, _raw_pheno(e, _dup_header)), 2,
     r"pheno\.tsv.*'LATENT' appears twice", "out/summary.tsv"),
    ("h2-duplicated-pheno-column", lambda e: _h2(e, _raw_pheno(e, _dup_header)), 2,
     r"'LATENT' appears twice", "out/heritability.tsv"),
    ("gwas-duplicated-covar-column", lambda e: _gwas(e, e.gen / "pheno.tsv", "--covar", str(
        _covar(e, lambda c: c.rename(columns={"sex": "age"})))), 2, r"'age' appears twice",
     "out/summary.tsv"),
    ("h2-truncated-gz", lambda e: _h2(e, _truncated_gz(e)), 2,
     r"pheno\.tsv\.gz.*cannot be parsed", "out/heritability.tsv"),
    ("rg-identical-phenotypes", lambda e: ["rg", "--bfile", e.bfile, "--pheno", str(_pheno(
        e, lambda p: p.assign(NOISE=p["LATENT"]))), "--grm-cutoff", "0", "--out",
        str(e.tmp / "out")], 2, r"'LATENT' and 'NOISE' are identical", "out/rg.tsv"),
    ("log-file-in-missing-folder", lambda e: ["--log-file", str(e.tmp / "no" / "x.log"),
                                              "config", str(e.text("b.yaml", "seed: 1\n")),
                                              "--kind", "brainage"], 2, r"--log-file.*x\.log",
     None),
    ("gwas-negative-threads", lambda e: _gwas(e, e.gen / "pheno.tsv", "--threads", "-2"), 2,
     r"threads", "out/summary.tsv"),
    ("h2-negative-grm-cutoff", lambda e: _h2(e, e.gen / "pheno.tsv", "--grm-cutoff", "-0.5"),
     2, r"grm-cutoff", "out/heritability.tsv"),
    ("compare-same-phenotype", lambda e: ["compare", "--run", str(e.tmp), "--a", "BAG_FS",
                                          "--b", "BAG_FS"], 2, r"both 'BAG_FS'",
     "compare/compare.json"),
    ("config-duplicate-key", lambda e: ["config", str(e.text("d.yaml", "seed: 1\nseed: 2\n")),
                                        "--kind", "brainage"], 2,
     r"d\.yaml.*line 2.*duplicate key 'seed'", None),
    ("config-alias-bomb", lambda e: ["config", str(e.text(
        "bomb.yaml", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a]\n"
        "c: [*b, *b, *b, *b, *b, *b, *b]\n")), "--kind", "brainage"], 2,
     r"aliases .* not allowed", None),
    ("gwas-constant-text-covariate", lambda e: _gwas(e, e.gen / "pheno.tsv", "--covar", str(
        _covar(e, lambda c: c.assign(batch="b1")))), 2, r"'batch'.*constant covariate",
     "out/summary.tsv"),
    ("gwas-iid-with-space", lambda e: _gwas(e, _pheno(e, lambda p: p.assign(
        IID=p["IID"].where(p.index > 0, "sub 0001")))), 2, r"'sub 0001' contains whitespace",
     "out/summary.tsv"),
    ("gwas-bim-shorter-than-bed", lambda e: ["gwas", "--bfile", _bad_bim(
        e, lambda lines: lines[:-1]), "--pheno", str(e.gen / "pheno.tsv"), "--engine", "plink2",
        "--out", str(e.tmp / "out")], 2,
     r"c\.bed: size .* expected .* 1999 variants", "out/summary.tsv"),
    ("gwas-bim-bad-position", lambda e: ["gwas", "--bfile", _bad_bim(
        e, lambda lines: _set_field(lines, 4, 3, "12a4")), "--pheno", str(e.gen / "pheno.tsv"),
        "--engine", "plink2", "--out", str(e.tmp / "out")], 2,
     r"c\.bim, line 5, column 'position'.*'12a4'", "out/summary.tsv"),
    ("gwas-pheno-line-with-a-field-missing", lambda e: _gwas(e, _raw_pheno(
        e, lambda t: _drop_last_field(t, line=4))), 2,
     r"pheno\.tsv, line 4: 3 field\(s\) where the header has 4: no value for column 'NOISE'",
     "out/summary.tsv"),
    ("gwas-pheno-line-with-an-extra-field", lambda e: _gwas(e, _raw_pheno(
        e, lambda t: t.replace("\n", "\t0.5\n", 3).replace("\t0.5\n", "\n", 2))), 2,
     r"pheno\.tsv' cannot be parsed: .*Expected 4 fields in line 3, saw 5", "out/summary.tsv"),
    ("gwas-covar-line-with-a-field-missing", lambda e: _gwas(e, e.gen / "pheno.tsv", "--covar",
                                                           str(_raw_covar(e, 6))), 2,
     r"covar_short\.tsv, line 6: \d field\(s\) where the header has \d", "out/summary.tsv"),
    ("enrich-duplicated-cell-type-column", lambda e: _enrich(e, e.text(
        "ct.txt", "GENE\tneurons\tastro\tneurons\tAverage\nAPOE\t1\t2\t3\t2\n")), 2,
     r"ct\.txt: cell type 'neurons' appears twice \(columns 2 and 4", "out/celltypes.tsv"),
    # duplicated and '.' variant IDs are no longer refused: tests/gwas/test_duplicate_ids.py
    ("train-empty-nifti-last-subject", lambda e: _train(e, _bad_nifti(e, "empty", row=-1),
                                                        e.feats), 2,
     r"row \d+ \(line \d+\), subject .*bad\.nii\.gz' is empty \(0 bytes\)",
     "out/metrics.jsonl"),
    ("gwas-plink2-case-control-coded", lambda e: _gwas(e, _pheno(e, lambda p: p.assign(
        LATENT=(p["LATENT"] > 0).astype(int) + 1)), "--pheno-name", "LATENT"), 2,
     r"'LATENT' only takes the values 1/2.*logistic", "out/summary.tsv"),
    ("gwas-absurd-phenotype-magnitude", lambda e: _gwas(e, _pheno(e, lambda p: p.assign(
        LATENT=p["LATENT"] * 1e20)), "--pheno-name", "LATENT"), 2,
     r"'LATENT': degenerate phenotype", "out/summary.tsv"),
    ("gwas-numerically-constant-phenotype", lambda e: _gwas(e, _pheno(e, lambda p: p.assign(
        LATENT=1e6 + 1e-9 * p["LATENT"])), "--pheno-name", "LATENT"), 2,
     r"'LATENT': degenerate phenotype", "out/summary.tsv"),
    ("h2-ldsc-duplicated-variant", lambda e: ["h2", "--method", "ldsc", "--sumstats",
                                              str(_dup_sumstats(e)), "--bfile", e.bfile,
                                              "--out", str(e.tmp / "out")], 2,
     r"ss\.tsv.*appears more than once", "out/heritability.tsv"),
]


@pytest.fixture()
def env(tiny_sim, tiny_features, complete_sim, tmp_path, repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    return Env(tmp_path, tiny_sim, tiny_features, complete_sim)


def test_cases_are_unique():
    from tests.robustness.test_bad_inputs import CASES as ROUND1

    names = [c[0] for c in (*ROUND1, *CASES)]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, env, runner):
    name, build, code, message, must_not_exist = case
    check_case(runner, env, name, build(env), code, message, must_not_exist)


@pytest.mark.external
def test_minus9_is_one_rule_for_plink2_and_greml(env, runner):
    """-9 is a value by default for the loader, Hail, GREML and now PLINK 2 too (it used
    to drop those samples: n 148 vs 200); gwas.minus9_is_missing turns it into missing
    for all of them."""
    pheno = _pheno(env, lambda p: p.assign(LATENT=p["LATENT"].where(p.index % 4 > 0, -9)))
    n_all = int(pd.read_csv(pheno, sep="\t")["LATENT"].notna().sum())
    res = runner.invoke(app, [*_gwas(env, pheno), "--pheno-name", "LATENT"])
    assert res.exit_code == 0, res.output
    summary = pd.read_csv(env.tmp / "out" / "summary.tsv", sep="\t").iloc[0]
    assert summary["n_samples"] == n_all
    res = runner.invoke(app, [*_h2(env, pheno), "--pheno-name", "LATENT", "--out",
                              str(env.tmp / "h2")])
    assert res.exit_code == 0, res.output
    h2 = pd.read_csv(env.tmp / "h2" / "heritability.tsv", sep="\t").iloc[0]
    assert h2["n"] == n_all


def test_sigterm_is_handled_like_ctrl_c(tmp_path, repo_root):
    """SIGTERM mid-run: exit 143, a clear message, no partial output left, and a
    run.json that says interrupted (not 'running')."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "sim"
    proc = subprocess.Popen([sys.executable, "-m", "cli", "simulate", "--preset", "tiny",
                             "--out", str(out)], cwd=repo_root, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    staging = tmp_path / ".sim.partial"
    deadline = time.time() + 60
    while not (staging / "run.json").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    text, _ = proc.communicate(timeout=60)
    assert proc.returncode == 143, text
    assert "terminated (SIGTERM)" in text and "Traceback" not in text
    assert not out.exists() and not staging.exists()


def test_run_record_says_interrupted(tmp_path):
    import json

    from rnce_bag.core.errors import Terminated
    from rnce_bag.core.provenance import RunRecord

    with pytest.raises(Terminated), RunRecord(tmp_path, "x", tools=()):
        raise Terminated()
    assert json.loads((tmp_path / "run.json").read_text())["status"] == "interrupted"


def test_a_command_never_writes_over_another_commands_folder(env, runner):
    out = env.tmp / "h2"
    res = runner.invoke(app, _h2(env, env.gen / "pheno.tsv", "--out", str(out)))
    assert res.exit_code == 0, res.output
    before = (out / "run.json").read_text()
    res = runner.invoke(app, [*_gwas(env, env.gen / "pheno.tsv"), "--out", str(out)])
    assert res.exit_code == 2 and "holds the output of 'rnce-bag h2'" in res.output
    assert (out / "run.json").read_text() == before and not (out / "summary.tsv").exists()


@pytest.mark.external
def test_chrx_with_a_sex_covariate_runs_on_autosomes(env, runner):
    """plink2 used to fail (exit 3) on chrX/Y variants with a 'sex' covariate."""
    import shutil

    geno = env.tmp / "g"
    geno.mkdir()
    for ext in ("bed", "fam"):
        shutil.copy(f"{env.bfile}.{ext}", geno / f"c.{ext}")
    bim = pd.read_csv(f"{env.bfile}.bim", sep="\t", header=None, dtype=str)
    bim.loc[:39, 0] = "X"
    bim.loc[40:49, 0] = "Y"
    bim.to_csv(geno / "c.bim", sep="\t", header=False, index=False)
    res = runner.invoke(app, ["gwas", "--bfile", str(geno / "c"), "--pheno",
                              str(env.gen / "pheno.tsv"), "--covar", str(env.gen / "covar.tsv"),
                              "--engine", "plink2", "--set", "pca.n_pcs=0", "--out",
                              str(env.tmp / "out")])
    assert res.exit_code == 0, res.output
    assert "50 variants on chromosomes other than 1-22" in " ".join(res.output.split())
    ss = pd.read_csv(env.tmp / "out" / "LATENT.tsv.gz", sep="\t", dtype={"chromosome": str})
    assert not ss["chromosome"].isin(["X", "Y", "23", "24"]).any()


@pytest.mark.external
def test_leading_zero_ids_are_named_not_just_counted(env, runner):
    pheno = _pheno(env, lambda p: p.assign(IID=p["IID"].where(p.index % 2 == 0,
                                                              "0" + p["IID"])))
    res = runner.invoke(app, [*_gwas(env, pheno), "--pheno-name", "LATENT"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "150 phenotyped sample(s) have no genotypes" in text
    assert "leading zeros" in text and "'0sub-" in text


def test_run_only_a_first_stage_on_a_fresh_folder(env, runner):
    """--only features on a fresh folder runs features and stops there (later stages are
    'not selected'), instead of failing on them."""
    import json

    study = env.text("study.yaml", f"cohort: {{manifest: {env.sim / 'cohort.tsv'}, "
                                   f"bfile: {env.sim / 'genotypes' / 'cohort'}}}\n"
                                   "skip: [train, embed]\n")
    out = env.tmp / "run"
    res = runner.invoke(app, ["run", str(study), "--out", str(out), "--only", "features"])
    assert res.exit_code == 0, res.output
    stages = json.loads((out / "run.json").read_text())["stages"]
    assert stages["features"]["status"] == "ran"
    assert {s["status"] for k, s in stages.items() if k != "features"} == {"not selected"}
    assert (out / "features" / "features.parquet").exists() and not (out / "gwas").exists()


@pytest.mark.external
@pytest.mark.parametrize("engine", ["plink2", pytest.param("hail", marks=pytest.mark.hail)])
def test_multi_allelic_vcf_record_is_left_out_and_said(shared_dir, tmp_path, runner, engine):
    """A record with ALT 'G,T' used to crash the PLINK 2 engine (TypeError, exit 1); both
    engines leave it out and say so. With two --exclude lists (their union is left out,
    as PLINK 2 reads them) the multi-allelic count is still 1: the Hail engine used to
    count the excluded variants as multi-allelic, and a repeated --exclude kept only the
    last list (issue 30)."""
    import json

    import numpy as np

    lines = (shared_dir / "fixtures/genotypes/sample.vcf").read_text().split("\n")
    body = [i for i, line in enumerate(lines) if line and not line.startswith("#")]
    fields = lines[body[4]].split("\t")
    fields[4] += ",T"
    lines[body[4]] = "\t".join(fields)
    vcf = tmp_path / "multi.vcf"
    vcf.write_text("\n".join(lines))
    ids = next(line for line in lines if line.startswith("#CHROM")).split("\t")[9:]
    pd.DataFrame({"IID": ids, "Y": np.random.default_rng(0).normal(size=len(ids))}).to_csv(
        tmp_path / "p.tsv", sep="\t", index=False)
    excluded = [lines[body[k]].split("\t")[2] for k in (6, 7)]
    for name, vid in zip("ab", excluded, strict=True):
        (tmp_path / f"{name}.txt").write_text(vid + "\n")
    out = tmp_path / "out"
    res = runner.invoke(app, ["gwas", "--vcf", str(vcf), "--pheno", str(tmp_path / "p.tsv"),
                              "--engine", engine, "--set", "pca.n_pcs=0", "--out", str(out),
                              "--exclude", str(tmp_path / "a.txt"),
                              "--exclude", str(tmp_path / "b.txt")])
    assert res.exit_code == 0, res.output
    assert "1 multi-allelic variants left out" in " ".join(res.output.split())
    report = json.loads((out / "gwas_report.json").read_text())
    assert report["qc"]["variants_not_biallelic"] == 1
    assert report["filters"]["removed"]["variants_removed_exclude"] == 2
    ss = pd.read_csv(out / "Y.tsv.gz", sep="\t")
    assert fields[2] not in set(ss["variant_id"])
    assert not set(excluded) & set(ss["rsid"].dropna())
    assert not ss["effect_allele"].str.contains(",").any()


def test_plink2_messages_show_the_users_names_beside_the_internal_ones():
    """PLINK 2 sees P1.., C1..: its error messages are shown with the user's names."""
    from gwas.engines.plink2 import _real_names

    text = _real_names("Error: 'P1' and C2 fail; P10 and C21 are not ours",
                       {"BAG <FS>": "P1"}, {"age": "C1", "sex": "C2"})
    assert text == "Error: 'P1 ('BAG <FS>')' and C2 ('sex') fail; P10 and C21 are not ours"
