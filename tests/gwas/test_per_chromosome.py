"""Per-chromosome genotype files (``{chrom}`` templates) against the merged fileset.

A tiny cohort split by chromosome with PLINK 2 must give the same QC counts, ancestry PCs,
summary statistics and loci as the merged files, with both engines; the GRM (h2/rg) and
the LD reference (enrich) read across the files as one. Tolerances: the same data in the
same order, so sums of the same numbers: 1e-10 relative (PLINK 2's printed output is
identical text); Hail sums over other partitions, 1e-8 relative, PCs up to their sign.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gwas.config import GwasConfig
from gwas.run import GenotypeInput, run_gwas

pytestmark = pytest.mark.external


def _cfg(engine: str, n_pcs: int = 2) -> GwasConfig:
    # a lenient "genome-wide" threshold: loci at n = 300, so clumping is compared too
    return GwasConfig.model_validate({"engine": engine, "pca": {"n_pcs": n_pcs},
                                      "genome_wide_p": 1e-4,
                                      "hail": {"spark_master": "local[2]",
                                               "driver_memory_gb": 2}})


@pytest.fixture(scope="module")
def split(complete_sim, tmp_path_factory) -> Path:
    """``split/chr{1..22}.bed/.bim/.fam`` cut from the merged fileset."""
    out = tmp_path_factory.mktemp("split")
    merged = complete_sim / "genotypes" / "cohort"
    chroms = pd.read_csv(f"{merged}.bim", sep="\t", header=None)[0].astype(str).unique()
    for c in chroms:
        subprocess.run([shutil.which("plink2"), "--bfile", str(merged), "--chr", c,
                        "--make-bed", "--out", str(out / f"chr{c}")], check=True,
                       capture_output=True)
    return out


def _gwas(sim, geno: GenotypeInput, engine: str, out: Path) -> dict:
    return run_gwas(geno, sim / "pheno.tsv", None, sim / "covar.tsv", None, _cfg(engine), out)


def _same_run(a: Path, b: Path, ra: dict, rb: dict, loci: bool = True, rtol: float = 1e-10
              ) -> None:
    assert ra["qc"] == rb["qc"]
    pa, pb = (pd.read_csv(x / "pcs.tsv", sep="\t").drop(columns="IID").to_numpy()
              for x in (a, b))
    sign = np.sign((pa * pb).sum(axis=0))  # a PC is defined up to its sign
    np.testing.assert_allclose(pa, pb * sign, rtol=1e-5, atol=1e-6)
    for name in ("LATENT", "NOISE"):
        sa, sb = (pd.read_csv(x / f"{name}.tsv.gz", sep="\t") for x in (a, b))
        assert len(sa) == len(sb) > 1500
        pd.testing.assert_frame_equal(sa, sb, rtol=rtol)
    la, lb = (pd.read_csv(x / "loci.tsv", sep="\t") for x in (a, b))
    # LATENT has loci: clumping reads LD across the files (PLINK 1 input only)
    assert (len(la) > 0) == loci
    pd.testing.assert_frame_equal(la, lb)


def test_plink2_engine_split_equals_merged(complete_sim, split, tmp_path):
    merged = GenotypeInput(bfile=str(complete_sim / "genotypes" / "cohort"))
    ra = _gwas(complete_sim, merged, "plink2", tmp_path / "merged")
    rb = _gwas(complete_sim, GenotypeInput(bfile=str(split / "chr{chrom}")), "plink2",
               tmp_path / "split")
    assert rb["genotype_files"] == 22 and rb["chromosomes_missing"] == []
    assert (tmp_path / "split" / "work" / "assoc.22.P1.glm.linear").exists()  # per file
    _same_run(tmp_path / "merged", tmp_path / "split", ra, rb)


@pytest.mark.hail
@pytest.mark.slow
@pytest.mark.extended
def test_hail_engine_split_equals_merged(complete_sim, split, tmp_path):
    merged = GenotypeInput(bfile=str(complete_sim / "genotypes" / "cohort"))
    ra = _gwas(complete_sim, merged, "hail", tmp_path / "merged")
    rb = _gwas(complete_sim, GenotypeInput(bfile=str(split / "chr{chrom}")), "hail",
               tmp_path / "split")
    assert rb["genotype_files"] == 22
    # Spark sums in another partition order: equal to rounding (and PCs up to sign)
    _same_run(tmp_path / "merged", tmp_path / "split", ra, rb, rtol=1e-8)


def test_missing_chromosome_is_reported(complete_sim, split, tmp_path, caplog):
    part = tmp_path / "part"
    part.mkdir()
    for f in split.glob("chr*"):
        if not f.name.startswith("chr22."):
            (part / f.name).symlink_to(f)
    with caplog.at_level("WARNING"):
        rep = _gwas(complete_sim, GenotypeInput(bfile=str(part / "chr{chrom}")), "plink2",
                    tmp_path / "out")
    assert rep["chromosomes_missing"] == ["22"] and rep["genotype_files"] == 21
    assert "chromosome(s) 22" in caplog.text
    ssf = pd.read_csv(tmp_path / "out" / "LATENT.tsv.gz", sep="\t", dtype={"chromosome": str})
    assert "22" not in set(ssf["chromosome"]) and "21" in set(ssf["chromosome"])


def test_template_errors(split, tmp_path):
    from gwas.genotype_files import expand
    from rnce_bag.core.errors import InputError

    with pytest.raises(InputError, match="no file for any chromosome"):
        GenotypeInput(bfile=str(tmp_path / "none{chrom}")).check()
    (tmp_path / "chr3.bed").write_bytes(b"")
    with pytest.raises(InputError, match="chromosome 3 has some of its files"):
        expand(str(tmp_path / "chr{chrom}"), (".bed", ".bim", ".fam"))
    # samples must agree across the files
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in split.glob("chr*"):
        (bad / f.name).symlink_to(f)
    fam = pd.read_csv(split / "chr2.fam", sep=r"\s+", header=None)
    (bad / "chr2.fam").unlink()
    fam.iloc[::-1].to_csv(bad / "chr2.fam", sep="\t", header=False, index=False)
    with pytest.raises(InputError, match="chr2.fam: the samples"):
        GenotypeInput(bfile=str(bad / "chr{chrom}")).check()


def test_vcf_template_equals_merged_vcf(complete_sim, split, tmp_path):
    plink2 = shutil.which("plink2")
    merged = complete_sim / "genotypes" / "cohort"
    subprocess.run([plink2, "--bfile", str(merged), "--export", "vcf", "bgz", "id-paste=iid",
                    "--out", str(tmp_path / "all")], check=True, capture_output=True)
    for c in range(1, 23):
        subprocess.run([plink2, "--bfile", str(split / f"chr{c}"), "--export", "vcf", "bgz",
                        "id-paste=iid", "--out", str(tmp_path / f"chr{c}")], check=True,
                       capture_output=True)
    ra = _gwas(complete_sim, GenotypeInput(vcf=str(tmp_path / "all.vcf.gz")), "plink2",
               tmp_path / "merged")
    rb = _gwas(complete_sim, GenotypeInput(vcf=str(tmp_path / "chr{chrom}.vcf.gz")), "plink2",
               tmp_path / "split")
    assert rb["genotype_files"] == 22
    _same_run(tmp_path / "merged", tmp_path / "split", ra, rb, loci=False)


def test_grm_and_readers_across_files(complete_sim, split, tmp_path):
    from gwas.heritability.run import build_grm
    from gwas.plink_io import BedReader, open_bed

    merged = str(complete_sim / "genotypes" / "cohort")
    one, many = BedReader(merged), open_bed(str(split / "chr{chrom}"))
    pd.testing.assert_frame_equal(one.bim, many.bim)
    rows = np.array([5, 1999, 0, 700, 701, 1200])  # across files, out of order
    np.testing.assert_array_equal(one.read(rows, np.arange(0, 300, 3)),
                                  many.read(rows, np.arange(0, 300, 3)))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ga, ia, ma, _ = build_grm(merged, None, tmp_path / "a")
    gb, ib, mb, _ = build_grm(str(split / "chr{chrom}"), None, tmp_path / "b")
    assert ma == mb == 2000
    pd.testing.assert_frame_equal(ia, ib)
    np.testing.assert_allclose(ga, gb, rtol=1e-10, atol=1e-12)


def test_ld_scores_per_chromosome(split, tmp_path):
    """LD scores over a template: each chromosome scored alone (as ldsc.py on chr@), the
    tables concatenated in genome order and M summed."""
    import pyldsc

    from gwas.heritability.ldsc import cohort_ld_scores

    cohort_ld_scores(str(split / "chr{chrom}"), tmp_path / "all")
    got = pd.read_csv(tmp_path / "all.l2.ldscore.gz", sep="\t")
    parts = [pyldsc.estimate_ldscore(str(split / f"chr{c}"), ld_wind_cm=1.0, maf=0.01,
                                     yes_really=True) for c in range(1, 23)]
    want = pd.concat([p["ldscore"] for p in parts], ignore_index=True)
    assert list(got["SNP"]) == list(want["SNP"])
    np.testing.assert_allclose(got["L2"], want["L2"], atol=5e-4)  # printed to 3 decimals
    assert int((tmp_path / "all.l2.M").read_text()) == sum(int(p["M"][0]) for p in parts)


def test_cli_h2_gwas_enrich_take_templates(complete_sim, split, tmp_path, runner):
    from cli.main import app

    template = str(split / "chr{chrom}")
    res = runner.invoke(app, ["h2", "--bfile", template, "--pheno",
                              str(complete_sim / "pheno.tsv"), "--pheno-name", "LATENT",
                              "--grm-cutoff", "0", "--out", str(tmp_path / "h2")])
    assert res.exit_code == 0, res.output
    ref = runner.invoke(app, ["h2", "--bfile", str(complete_sim / "genotypes" / "cohort"),
                              "--pheno", str(complete_sim / "pheno.tsv"), "--pheno-name",
                              "LATENT", "--grm-cutoff", "0", "--out", str(tmp_path / "h2ref")])
    assert ref.exit_code == 0, ref.output
    a, b = (pd.read_csv(tmp_path / d / "heritability.tsv", sep="\t") for d in ("h2", "h2ref"))
    np.testing.assert_allclose(a["h2"], b["h2"], rtol=1e-6)
    run_dir = tmp_path / "gw"
    res = runner.invoke(app, ["gwas", "--bfile", template, "--pheno",
                              str(complete_sim / "pheno.tsv"), "--pheno-name", "LATENT",
                              "--out", str(run_dir), "--set", "pca.n_pcs=0"])
    assert res.exit_code == 0, res.output
    # no --engine: auto picks PLINK 2 on one machine and says so (issue 30)
    assert "engine: plink2 (auto: one machine" in res.output
    res = runner.invoke(app, ["enrich", "--sumstats", str(run_dir / "LATENT.tsv.gz"),
                              "--bfile", template, "--celltypes",
                              str(complete_sim / "expression" / "celltype_specificity.tsv"),
                              "--out", str(tmp_path / "en")])
    assert res.exit_code == 0, res.output
    genes = pd.read_csv(tmp_path / "en" / "genes.tsv", sep="\t")
    assert len(genes) > 10


def test_study_cohort_takes_a_template(split, tmp_path):
    """cohort.bfile 'chr{chrom}' reaches every genetic stage as the template, and every
    per-chromosome file enters the stage keys (a changed chromosome reruns them)."""
    from pipeline.plan import plan
    from pipeline.study import StudyConfig

    study = StudyConfig.model_validate({"cohort": {"manifest": "m.tsv",
                                                   "bfile": str(split / "chr{chrom}")}})
    stages = {s.name: s for s in plan(study, tmp_path, tmp_path / "run")}
    gwas = stages["gwas"]
    assert gwas.params.bfile == str(split / "chr{chrom}")
    assert {p.name for p in gwas.inputs} >= {f"chr{c}.{e}" for c in range(1, 23)
                                              for e in ("bed", "bim", "fam")}


def test_bgen_template_equals_merged_bgen(complete_sim, split, tmp_path):
    """UK Biobank's layout: one BGEN per chromosome, one .sample for all."""
    plink2 = shutil.which("plink2")
    merged = complete_sim / "genotypes" / "cohort"
    export = ["--export", "bgen-1.2", "bits=8", "ref-first", "id-paste=iid"]
    subprocess.run([plink2, "--bfile", str(merged), *export, "--out", str(tmp_path / "all")],
                   check=True, capture_output=True)
    for c in range(1, 23):
        subprocess.run([plink2, "--bfile", str(split / f"chr{c}"), *export, "--out",
                        str(tmp_path / f"chr{c}")], check=True, capture_output=True)
    ra = _gwas(complete_sim, GenotypeInput(bgen=str(tmp_path / "all.bgen"),
                                           sample=str(tmp_path / "all.sample")),
               "plink2", tmp_path / "merged")
    rb = _gwas(complete_sim, GenotypeInput(bgen=str(tmp_path / "chr{chrom}.bgen"),
                                           sample=str(tmp_path / "chr1.sample")),
               "plink2", tmp_path / "split")
    assert rb["genotype_files"] == 22 and "variants_removed_info" in rb["qc"]
    _same_run(tmp_path / "merged", tmp_path / "split", ra, rb, loci=False)
