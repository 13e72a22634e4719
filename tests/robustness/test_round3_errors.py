"""Robustness round 3 (issue 27), the inputs that still crashed with exit 1: each is now
an exit 2 naming the file or value, through one rule per class (guarded readers, the YAML
depth bound, the full-disk rule, validated settings)."""

from __future__ import annotations

import errno
import gzip
import shutil
from pathlib import Path

import pytest

from cli.main import app
from rnce_bag.core.errors import ConfigError, InputError


def test_yaml_nested_beyond_the_bound_is_a_config_error(tmp_path):
    from rnce_bag.core.config import MAX_YAML_DEPTH, load_yaml, parse_override

    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match=f"nested deeper than {MAX_YAML_DEPTH} levels"):
        load_yaml(deep)
    with pytest.raises(ConfigError, match="nested deeper"):
        parse_override("qc.maf=" + "{a: " * 3000 + "1" + "}" * 3000)
    assert parse_override("pca.n_pcs=[1, [2]]") == (["pca", "n_pcs"], [1, [2]])


def test_a_full_disk_is_exit_2_naming_the_file_and_the_previous_run_stays(
        tiny_sim, runner, tmp_path, monkeypatch):
    import rnce_bag.core.io as io

    out = tmp_path / "f"
    args = ["features", "--manifest", str(tiny_sim / "cohort.tsv"), "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    before = (out / "features.parquet").read_bytes()

    def full(path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(io, "_fsync_file", full)
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    assert "no space left on device while writing" in res.output
    assert "previous outputs are intact" in res.output
    assert (out / "features.parquet").read_bytes() == before
    assert not list(out.glob(".*.partial"))


def test_a_full_disk_outside_the_atomic_writers_is_exit_2_too(tiny_sim, runner, tmp_path,
                                                              monkeypatch):
    import rnce_bag.imaging.features as features

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "/scratch/x.tmp")

    monkeypatch.setattr(features, "build_features", full)
    res = runner.invoke(app, ["features", "--manifest", str(tiny_sim / "cohort.tsv"),
                              "--out", str(tmp_path / "f")])
    assert res.exit_code == 2 and "while writing /scratch/x.tmp" in res.output, res.output


def test_truncated_gzipped_summary_statistics_name_the_file(complete_sim, tmp_path):
    from gwas.sumstats import read_sumstats

    text = "chromosome\tbase_pair_location\teffect_allele\tother_allele\tbeta\n" + \
        "".join(f"1\t{i}\tA\tG\t0.1\n" for i in range(1, 5000))
    whole = gzip.compress(text.encode())
    cut = tmp_path / "trait.tsv.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match=f"'{cut}' cannot be read.*truncated"):
        read_sumstats(cut)


def test_a_vcf_gz_that_is_not_gzip_is_refused(tmp_path):
    from gwas.run import GenotypeInput

    vcf = tmp_path / "x.vcf.gz"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    with pytest.raises(InputError, match="is named .gz but is not gzip"):
        GenotypeInput(vcf=str(vcf)).check()


def test_a_negative_seed_is_refused(runner, tmp_path):
    res = runner.invoke(app, ["simulate", "--preset", "tiny", "--seed", "-1", "--out",
                              str(tmp_path / "s")])
    assert res.exit_code == 2 and "seed" in res.output, res.output
    assert not (tmp_path / "s").exists()


def test_an_etiv_of_nan_names_the_file(tiny_sim, tmp_path):
    from rnce_bag.imaging.freesurfer import subject_features

    first = next(p for p in sorted((tiny_sim / "freesurfer").iterdir()) if p.is_dir())
    stats = tmp_path / "stats"
    shutil.copytree(first / "stats", stats)
    aseg = stats / "aseg.stats"
    lines = [("# Measure EstimatedTotalIntraCranialVol, eTIV, Estimated Total Intracranial "
              "Volume, nan, mm^3") if "EstimatedTotalIntraCranialVol" in ln else ln
             for ln in aseg.read_text().splitlines()]
    aseg.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="eTIV .* is nan, not a positive volume"):
        subject_features(stats)


def test_compare_with_an_empty_name_is_exit_2(runner, tmp_path):
    (tmp_path / "run").mkdir()
    res = runner.invoke(app, ["compare", "--run", str(tmp_path / "run"), "--a", "", "--b",
                              "BAG_FS"])
    assert res.exit_code == 2 and "one is empty" in res.output, res.output


def test_a_run_json_that_is_not_an_object_is_never_trusted(tmp_path):
    from rnce_bag.core.outdir import read_run_record, recorded_command

    (tmp_path / "run.json").write_text("[1, 2]")
    assert read_run_record(tmp_path) == {} and recorded_command(tmp_path) is None


@pytest.mark.parametrize("value", [".nan", "7", "-0.1"])
def test_a_study_validates_grm_cutoff_as_the_h2_stage_does(repo_root, value):
    from pipeline.study import StudyConfig
    from rnce_bag.core.config import load_config

    with pytest.raises(ConfigError, match="grm_cutoff"):
        load_config(repo_root / "configs/study/tiny.yaml", StudyConfig,
                    [f"grm_cutoff={value}"])


def test_an_unreachable_spark_master_is_exit_2_in_seconds():
    import time

    from gwas.engines.hail import check_master_reachable

    tic = time.perf_counter()
    with pytest.raises(InputError, match="no Spark master answers there"):
        check_master_reachable("spark://127.0.0.1:9", timeout=2.0)
    assert time.perf_counter() - tic < 10
    check_master_reachable("local[2]")  # not checked: runs here


def test_gwas_chr_x_says_the_scan_is_autosomal(complete_sim, runner, tmp_path):
    res = runner.invoke(app, ["gwas", "--bfile", str(complete_sim / "genotypes/cohort"),
                              "--pheno", str(complete_sim / "pheno.tsv"), "--chr", "X",
                              "--engine", "plink2", "--out", str(tmp_path / "g")])
    assert res.exit_code == 2 and "autosomes (1-22) only" in res.output, res.output
    assert not Path(tmp_path / "g").exists()


def test_a_stage_model_refusing_a_study_value_is_exit_2_before_any_stage_runs(
        repo_root, runner, tmp_path, monkeypatch):
    import pipeline.plan
    from gwas.stages import H2Params

    def plan(study, study_dir, root):  # a value only the h2 stage's own model refuses
        return [H2Params(out=root / "h2", pheno=root / "p.tsv", grm_cutoff=7)]

    monkeypatch.setattr(pipeline.plan, "plan", plan)
    res = runner.invoke(app, ["run", str(repo_root / "configs/study/tiny.yaml"), "--out",
                              str(tmp_path / "run")])
    assert res.exit_code == 2 and "[grm_cutoff]" in res.output, res.output
    assert not (tmp_path / "run").exists()
