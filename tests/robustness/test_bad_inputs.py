"""Bad input across the commands: exit code, a message naming the problem, and no
output left looking complete.

Each case builds its inputs from the tiny simulated cohort (or the small complete
one for genetics), runs one command through the CLI, and checks
``(exit code, message regex, the output that must not exist)``.
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli.main import app


@dataclass
class Env:
    tmp: Path
    sim: Path  # tiny cohort (images, FreeSurfer)
    feats: Path  # its features.parquet
    gen: Path  # complete cohort (genotypes, pheno.tsv, covar.tsv)

    def manifest(self, edit: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> Path:
        m = pd.read_csv(self.sim / "cohort.tsv", sep="\t")
        for col in ("t1_path", "freesurfer_dir"):
            m[col] = [str((self.sim / v).resolve()) for v in m[col]]
        if edit:
            m = edit(m)
        p = self.tmp / "manifest.tsv"
        m.to_csv(p, sep="\t", index=False, na_rep="NA")
        return p

    def features(self, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Path:
        f = edit(pd.read_parquet(self.feats))
        p = self.tmp / "bad_features.parquet"
        f.to_parquet(p, index=False)
        return p

    def text(self, name: str, content: str) -> Path:
        p = self.tmp / name
        p.write_text(content)
        return p

    @property
    def bfile(self) -> str:
        return str(self.gen / "genotypes" / "cohort")

    def sumstats(self) -> Path:
        """A small GWAS-SSF file on GRCh37 positions."""
        p = self.tmp / "ss.tsv"
        pd.DataFrame({"chromosome": ["1", "1"], "base_pair_location": [1000, 2000],
                      "effect_allele": ["A", "C"], "other_allele": ["G", "T"],
                      "beta": [0.1, -0.2], "standard_error": [0.05, 0.05],
                      "effect_allele_frequency": [0.3, 0.4], "p_value": [0.04, 0.001],
                      "rsid": ["rs429358", "rs2"], "n": [300, 300]}).to_csv(p, sep="\t",
                                                                            index=False)
        return p


def _dup_first(m: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([m, m.head(1)], ignore_index=True)


def _cp_sim(env: Env, rel: str) -> Path:
    """Copy of the tiny cohort's manifest with its subject folders (so files can be broken)."""
    dst = env.tmp / "sim"
    if not dst.exists():
        shutil.copytree(env.sim, dst, ignore=shutil.ignore_patterns("genotypes", "images"))
        (dst / "images").symlink_to(env.sim / "images")
    return dst / rel


def _truncate(path: Path, keep: int = 200) -> Path:
    data = path.read_bytes()[:keep]
    path.unlink()
    path.write_bytes(data)
    return path


def _bad_nifti(env: Env, kind: str, row: int = 0) -> Path:
    import nibabel as nib

    m = env.manifest()
    df = pd.read_csv(m, sep="\t")
    img = env.tmp / "bad.nii.gz"
    if kind == "truncated":
        img.write_bytes(gzip.compress(b"not a nifti at all" * 10))
    elif kind == "empty":
        img.write_bytes(b"")
    else:  # 4-D
        nib.save(nib.Nifti1Image(np.zeros((4, 4, 4, 2), np.float32), np.eye(4)), img)
    df.loc[df.index[row], "t1_path"] = str(img)
    df.to_csv(m, sep="\t", index=False, na_rep="NA")
    return m


def _train(env: Env, manifest: Path, feats: Path, *extra: str) -> list[str]:
    return ["train", "--manifest", str(manifest), "--features", str(feats), "--out",
            str(env.tmp / "out"), "--config", "configs/ssl/tiny.yaml", "--set",
            "data.spacing_mm=8", "--set", "encoder.width=2", "--set", "encoder.max_width=4",
            "--set", "stage1.max_steps=1", "--set", "stage2.max_steps=1", *extra]


def _brain_age(env: Env, feats: Path, manifest: Path | None = None, *extra: str) -> list[str]:
    return ["brain-age", "--manifest", str(manifest or env.sim / "cohort.tsv"), "--features",
            f"FS={feats}", "--out", str(env.tmp / "out"), "--set", "min_train_subjects=20",
            *extra]


def _gwas(env: Env, pheno: Path, *extra: str) -> list[str]:
    return ["gwas", "--bfile", env.bfile, "--pheno", str(pheno), "--engine", "plink2",
            "--out", str(env.tmp / "out"), "--set", "pca.n_pcs=0", *extra]


def _enrich(env: Env, celltypes: Path, sumstats: Path | None = None, *extra) -> list[str]:
    return ["enrich", "--sumstats", str(sumstats or env.sumstats()), "--bfile", env.bfile,
            "--celltypes", str(celltypes), "--out", str(env.tmp / "out"), *extra]


def _pheno(env: Env, edit) -> Path:
    p = pd.read_csv(env.gen / "pheno.tsv", sep="\t")
    p = edit(p)
    path = env.tmp / "pheno.tsv"
    p.to_csv(path, sep="\t", index=False, na_rep="NA")
    return path


def _unwritable(env: Env) -> Path:
    d = env.tmp / "locked"
    d.mkdir()
    (d / "file").write_text("x")
    return d / "file" / "sub"  # a path below a file can never be created


# (id, args builder, expected exit code, message regex, output that must not exist)
CASES: list[tuple[str, Callable[[Env], list[str]], int, str, str | None]] = [
    # --- features ------------------------------------------------------------------
    ("features-empty-manifest", lambda e: ["features", "--manifest", str(e.text(
        "m.tsv", "")), "--out", str(e.tmp / "out")], 2, r"m\.tsv.*empty|no columns|no rows",
     "out/features.parquet"),
    ("features-no-IID-column", lambda e: ["features", "--manifest", str(e.manifest(
        lambda m: m.drop(columns="IID"))), "--out", str(e.tmp / "out")], 2, r"IID",
     "out/features.parquet"),
    ("features-duplicated-IID", lambda e: ["features", "--manifest", str(e.manifest(
        _dup_first)), "--out", str(e.tmp / "out")], 2, r"sub-0001.*(duplicat|twice)|"
     r"(duplicat|twice).*sub-0001", "out/features.parquet"),
    ("features-missing-subject-dir", lambda e: ["features", "--manifest", str(e.manifest(
        lambda m: m.assign(freesurfer_dir=m["freesurfer_dir"].where(m.index > 0, "/nope")))),
        "--out", str(e.tmp / "out")], 2, r"/nope", "out/features.parquet"),
    ("features-truncated-aseg", lambda e: (
        _truncate(_cp_sim(e, "freesurfer/sub-0001/stats/aseg.stats"), 300),
        ["features", "--manifest", str(e.tmp / "sim" / "cohort.tsv"), "--out",
         str(e.tmp / "out")])[1], 2, r"aseg\.stats", "out/features.parquet"),
    ("features-unwritable-out", lambda e: ["features", "--manifest", str(e.manifest()),
                                           "--out", str(_unwritable(e))], 2,
     r"(writ|creat|director)", None),
    # --- brain-age -----------------------------------------------------------------
    ("brain-age-NaN-feature", lambda e: _brain_age(e, e.features(
        lambda f: f.assign(**{f.columns[3]: f[f.columns[3]].where(f.index != 5)}))), 2,
     r"(NaN|missing|empty).*row|row.*(NaN|missing|empty)", "out/bag.tsv"),
    ("brain-age-subject-missing", lambda e: _brain_age(e, e.features(lambda f: f.iloc[1:])),
     2, r"sub-0001", "out/bag.tsv"),
    ("brain-age-duplicated-feature-IID", lambda e: _brain_age(e, e.features(_dup_first)), 2,
     r"(duplicat|twice)", "out/bag.tsv"),
    ("brain-age-constant-feature", lambda e: _brain_age(e, e.features(
        lambda f: f.assign(**{f.columns[4]: 7.0}))), 2, r"constant", "out/bag.tsv"),
    ("brain-age-bad-features-syntax", lambda e: ["brain-age", "--manifest",
                                                 str(e.sim / "cohort.tsv"), "--features",
                                                 str(e.feats), "--out", str(e.tmp / "out")],
     2, r"NAME=PATH", "out/bag.tsv"),
    ("brain-age-unknown-config-key", lambda e: _brain_age(e, e.feats, None, "--set",
                                                          "regresor=ridge"), 2, r"regresor",
     "out/bag.tsv"),
    ("brain-age-bad-config-value", lambda e: _brain_age(e, e.feats, None, "--set",
                                                        "n_splits=1"), 2, r"n_splits",
     "out/bag.tsv"),
    ("brain-age-wrong-format-features", lambda e: _brain_age(e, e.text(
        "f.parquet", "this is not parquet")), 2, r"f\.parquet", "out/bag.tsv"),
    # --- gwas ----------------------------------------------------------------------
    ("gwas-pheno-without-IID", lambda e: _gwas(e, _pheno(e, lambda p: p.rename(
        columns={"IID": "ID", "#FID": "FAM"}))), 2, r"IID", "out/summary.tsv"),
    ("gwas-constant-phenotype", lambda e: _gwas(e, _pheno(e, lambda p: p.assign(LATENT=1.0)),
                                                "--pheno-name", "LATENT"), 2, r"constant",
     "out/summary.tsv"),
    ("gwas-no-sample-overlap", lambda e: _gwas(e, _pheno(e, lambda p: p.assign(
        IID="x" + p["IID"], **{"#FID": "x" + p["#FID"]}))), 2,
     r"(no|0) (sample|subject)s?|overlap|match", "out/summary.tsv"),
    ("gwas-missing-bfile", lambda e: ["gwas", "--bfile", str(e.tmp / "nothing"), "--pheno",
                                      str(e.gen / "pheno.tsv"), "--engine", "plink2", "--out",
                                      str(e.tmp / "out")], 2, r"nothing", "out/summary.tsv"),
    ("gwas-unknown-covariate", lambda e: _gwas(e, e.gen / "pheno.tsv", "--covar",
                                               str(e.gen / "covar.tsv"), "--covar-name",
                                               "age,height"), 2, r"height",
     "out/summary.tsv"),
    ("gwas-duplicated-pheno-IID", lambda e: _gwas(e, _pheno(e, _dup_first)), 2,
     r"(duplicat|twice)", "out/summary.tsv"),
    ("gwas-missing-plink2", "MISSING_TOOL", 3, r"plink2.*apt-get install plink2",
     "out/summary.tsv"),
    # --- h2 / rg -------------------------------------------------------------------
    ("h2-greml-without-pheno", lambda e: ["h2", "--bfile", e.bfile, "--out",
                                          str(e.tmp / "out")], 2, r"--pheno",
     "out/heritability.tsv"),
    ("h2-both-bfile-and-grm", lambda e: ["h2", "--bfile", e.bfile, "--grm", "x", "--pheno",
                                         str(e.gen / "pheno.tsv"), "--out",
                                         str(e.tmp / "out")], 2, r"exactly one of",
     "out/heritability.tsv"),
    # --- enrich --------------------------------------------------------------------
    ("enrich-no-gene-ids", lambda e: _enrich(e, e.text("ct.txt", "GENE\tA\tAverage\nfoo1\t1"
                                                                 "\t1\nbar2\t2\t2\n")), 2,
     r"gene ids", "out/celltypes.tsv"),
    ("enrich-duplicated-genes", lambda e: _enrich(e, e.text(
        "ct.txt", "GENE\tA\tAverage\nMAPT\t1\t1\nMAPT\t2\t2\nAPOE\t1\t1\n")), 2,
     r"MAPT.*(duplicat|twice)|(duplicat|twice).*MAPT", "out/celltypes.tsv"),
    ("enrich-non-numeric-expression", lambda e: _enrich(e, e.text(
        "ct.txt", "GENE\tA\tAverage\nMAPT\thigh\t1\nAPOE\t1\t1\n")), 2,
     r"(numeric|number).*A|A.*(numeric|number)", "out/celltypes.tsv"),
    ("enrich-missing-sumstats", lambda e: _enrich(e, e.gen / "expression" /
                                                  "celltype_specificity.tsv",
                                                  e.tmp / "BAG_X.tsv.gz"), 2,
     r"BAG_X\.tsv\.gz.*not found", "out/celltypes.tsv"),
    ("enrich-wrong-build", lambda e: _enrich(e, e.gen / "expression" / "celltype_specificity.tsv",
                                             _ss38(e)), 2, r"look like GRCh38",
     "out/celltypes.tsv"),
    # --- simulate ------------------------------------------------------------------
    ("simulate-unknown-preset", lambda e: ["simulate", "--preset", "huge", "--out",
                                           str(e.tmp / "out")], 2, r"huge", "out/cohort.tsv"),
    ("simulate-impossible-config", lambda e: ["simulate", "--preset", "tiny", "--out",
                                              str(e.tmp / "out"), "--set",
                                              "genetics.n_causal=5000"], 2, r"n_causal",
     "out/cohort.tsv"),
    # --- train / embed -------------------------------------------------------------
    ("train-truncated-nifti", lambda e: _train(e, _bad_nifti(e, "truncated"), e.feats), 2,
     r"bad\.nii\.gz", "out/model.pt"),
    ("train-4d-nifti", lambda e: _train(e, _bad_nifti(e, "4d"), e.feats), 2,
     r"bad\.nii\.gz.*(3D|4D|dimension)", "out/model.pt"),
    ("train-no-t1-column", lambda e: _train(e, e.manifest(lambda m: m.drop(columns="t1_path")),
                                            e.feats), 2, r"t1_path", "out/model.pt"),
    ("train-features-missing-subjects", lambda e: _train(e, e.manifest(), e.features(
        lambda f: f.iloc[3:])), 2, r"lack FreeSurfer", "out/model.pt"),
    ("train-batch-larger-than-cohort", lambda e: _train(e, e.manifest(lambda m: m.head(10)),
                                                        e.feats), 2, r"batch", "out/model.pt"),
    ("embed-corrupt-checkpoint", lambda e: ["embed", "--run", str(_corrupt_run(e)),
                                            "--manifest", str(e.sim / "cohort.tsv"), "--out",
                                            str(e.tmp / "out")], 2, r"model\.pt",
     "out/embeddings.parquet"),
    # --- config / run --------------------------------------------------------------
    ("config-yaml-syntax-error", lambda e: ["config", str(e.text("bad.yaml",
                                                                 "a: [1, 2\nb: 3\n")),
                                            "--kind", "brainage"], 2, r"bad\.yaml", None),
    ("config-python-tag-rejected", lambda e: ["config", str(e.text(
        "evil.yaml", "seed: !!python/object/apply:os.system ['echo hi']\n")), "--kind",
        "brainage"], 2, r"evil\.yaml", None),
    ("run-study-unknown-key", lambda e: ["run", str(e.text("s.yaml", "simulate: {}\nstagez: "
                                                                    "{}\n")), "--out",
                                         str(e.tmp / "out")], 2, r"stagez", "out/run.json"),
    ("run-study-without-genotypes", lambda e: ["run", str(e.text(
        "s.yaml", "cohort: {manifest: m.tsv}\n")), "--out", str(e.tmp / "out")], 2,
     r"exactly one of cohort.bfile", "out/run.json"),
    ("report-empty-run-folder", lambda e: ["report", "--run", str((e.tmp / "empty").mkdir()
                                                                  or e.tmp / "empty")], 2,
     r"nothing|no .*(output|result)", "empty/report/index.html"),
]


def _corrupt_run(env: Env) -> Path:
    run = env.tmp / "run"
    run.mkdir()
    (run / "model.pt").write_bytes(b"PK\x03\x04junk")
    return run


def _ss38(env: Env) -> Path:
    p = env.sumstats()
    df = pd.read_csv(p, sep="\t", dtype={"chromosome": str})
    df.loc[0, ["chromosome", "base_pair_location"]] = ["19", 44908684]
    df.to_csv(p, sep="\t", index=False)
    return p


@pytest.fixture()
def env(tiny_sim, tiny_features, complete_sim, tmp_path, repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    return Env(tmp_path, tiny_sim, tiny_features, complete_sim)


def test_at_least_thirty_cases():
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, env, runner, monkeypatch):
    name, build, code, message, must_not_exist = case
    if build == "MISSING_TOOL":
        real = shutil.which
        monkeypatch.setattr(shutil, "which", lambda n, *a, **k: None if n == "plink2"
                            else real(n, *a, **k))
        args = _gwas(env, env.gen / "pheno.tsv")
    else:
        args = build(env)
    check_case(runner, env, name, args, code, message, must_not_exist)


def check_case(runner, env: Env, name: str, args: list[str], code: int, message: str,
               must_not_exist: str | None) -> None:
    """Run one case: its exit code, a message matching ``message``, no traceback, and
    ``must_not_exist`` (relative to the case's folder) not left behind."""
    import re

    res = runner.invoke(app, args)
    output = " ".join(res.output.split())
    assert res.exit_code == code, f"{name}: exit {res.exit_code}\n{res.output[-2000:]}"
    assert "Traceback" not in res.output
    assert re.search(message, output, flags=re.I | re.S), f"{name}: {res.output[-2000:]}"
    if must_not_exist:
        assert not (env.tmp / must_not_exist).exists(), f"{name}: {must_not_exist} left"
