"""Robustness round 3 (issue 27): one test per class of defect, each through the rule that
now handles it (the file-system contract itself is in ``test_fs_contract.py``).

- inputs that say who they are: BGEN sample IDs, sample lists read with one rule,
  malformed ranges, a phenotype among the covariates, autosomes-only GRMs;
- stage reuse that checks outputs (``pipeline.runner.reusable``);
- child tools ended with their process group (``rnce_bag.core.tools.run_tool``);
- the guarded text reader (``rnce_bag.core.textfile``) and covariate finiteness.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli.main import app
from gwas.filters import (
    Filters,
    filter_samples,
    parse_chromosomes,
    read_sample_list,
    read_variant_list,
)
from rnce_bag.core.errors import InputError

SAMPLES = pd.DataFrame({"FID": ["f1", "f2", "f3"], "IID": ["a", "b", "c"]})


# --- sample and variant lists: one reading rule ----------------------------------------

def test_a_utf8_bom_is_not_glued_to_the_first_id(tmp_path):
    p = tmp_path / "keep.txt"
    p.write_bytes(b"\xef\xbb\xbfa\nb\n")
    assert read_sample_list(p)["IID"].tolist() == ["a", "b"]


@pytest.mark.parametrize("content, match", [
    (b"f1 a\nb\n", "line 2: 1 column"),
    (b"a,b\n", "comma or semicolon"),
    (b"a\n\xe9b\n", "line 2: byte 0xe9 is not UTF-8"),
    (b"\xff\xfea\x00\n\x00", "encoded as UTF-16"),
    (b"\x1f\x8b\x08\x00broken", "cannot be decompressed"),
])
def test_sample_lists_that_cannot_be_read_name_file_and_line(tmp_path, content, match):
    p = tmp_path / "keep.txt"
    p.write_bytes(content)
    with pytest.raises(InputError, match=match) as err:
        read_sample_list(p, "--keep list")
    assert str(p) in err.value.message


def test_a_gzipped_list_is_read(tmp_path):
    p = tmp_path / "keep.txt.gz"
    p.write_bytes(gzip.compress(b"f1 a\nf3 c\n"))
    keep, counts = filter_samples(SAMPLES, Filters(keep=p))
    assert keep.tolist() == [True, False, True] and counts["listed_unmatched_keep"] == 0


def test_a_list_that_matches_nobody_is_an_error_and_partial_matches_are_counted(tmp_path):
    other = tmp_path / "withdrawn.txt"
    other.write_text("x1 a\nx2 b\n")  # IIDs right, FIDs of another file: matches nobody
    with pytest.raises(InputError, match="none of its 2 entries names a genotyped sample"):
        filter_samples(SAMPLES, Filters(remove=other))
    some = tmp_path / "some.txt"
    some.write_text("a\nzz\nyy\n")
    keep, counts = filter_samples(SAMPLES, Filters(remove=some))
    assert keep.tolist() == [False, True, True]
    assert counts == {"listed_unmatched_remove": 2, "samples_removed_remove": 1}


@pytest.mark.parametrize("line, match", [("chr1:5000000-2000000", "ends before it starts"),
                                         ("1:5,000,000-6,000,000", "cannot read the range"),
                                         ("1:5000-", "cannot read the range")])
def test_malformed_ranges_are_errors(tmp_path, line, match):
    p = tmp_path / "ex.txt"
    p.write_text(f"rs1\n{line}\n")
    with pytest.raises(InputError, match=f"line 2: .*{match}"):
        read_variant_list(p)


def test_a_huge_chromosome_range_is_refused_before_it_is_expanded():
    tic = time.perf_counter()
    with pytest.raises(InputError, match="beyond chromosome 95"):
        parse_chromosomes("1-999999999")
    assert time.perf_counter() - tic < 1.0


# --- BGEN: the stored sample IDs against --sample --------------------------------------

def test_bgen_sample_order_differing_from_the_sample_file_is_an_error(shared_dir, tmp_path):
    from gwas.genotype_files import bgen_sample_ids
    from gwas.run import GenotypeInput

    src = shared_dir / "fixtures/genotypes"
    bgen, sample = src / "example.8bits.bgen", src / "example.sample"
    stored = bgen_sample_ids(bgen)
    assert stored[:2] == ["sample_001", "sample_002"] and len(stored) == 500
    GenotypeInput(bgen=str(bgen), sample=str(sample)).check()  # the file's own: fine
    lines = sample.read_text().splitlines()
    lines[2], lines[3] = lines[3], lines[2]  # two people swapped
    swapped = tmp_path / "swapped.sample"
    swapped.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="sample 1 stored in the BGEN is 'sample_001', but "
                                         "line 3 of --sample"):
        GenotypeInput(bgen=str(bgen), sample=str(swapped)).check()
    empty = tmp_path / "empty.sample"
    empty.write_text("")
    with pytest.raises(InputError, match="is empty"):
        GenotypeInput(bgen=str(bgen), sample=str(empty)).check()


# --- a phenotype among its covariates; covariates checked like phenotypes ----------------

def test_the_phenotype_file_as_covariates_is_an_error(complete_sim, runner, tmp_path):
    pheno = complete_sim / "pheno.tsv"
    res = runner.invoke(app, ["h2", "--bfile", str(complete_sim / "genotypes/cohort"),
                              "--pheno", str(pheno), "--covar", str(pheno), "--grm-cutoff", "0",
                              "--out", str(tmp_path / "h2")])
    assert res.exit_code == 2, res.output
    assert "holds the same values as the phenotype 'LATENT'" in res.output
    assert not (tmp_path / "h2" / "heritability.tsv").exists()


def test_a_copied_phenotype_column_among_covariates_is_an_error():
    from gwas.inputs import match_samples

    rng = np.random.default_rng(0)
    ids = [f"s{i}" for i in range(40)]
    y = rng.normal(size=40)
    pheno = pd.DataFrame({"IID": ids, "BAG": y})
    covar = pd.DataFrame({"IID": ids, "age": rng.normal(size=40), "copy": y})
    with pytest.raises(InputError, match="column 'copy' holds the same values as the "
                                         "phenotype 'BAG'"):
        match_samples(ids, pheno, covar)
    match_samples(ids, pheno, covar.drop(columns="copy"))  # fine without it


@pytest.mark.parametrize("value", ["inf", "-inf", "1e308"])
def test_covariates_must_be_finite_and_of_a_usable_scale(tmp_path, value):
    from gwas.inputs import load_covariates

    p = tmp_path / "covar.tsv"
    p.write_text("IID\tage\n" + "".join(f"s{i}\t{50 + i}\n" for i in range(5)) +
                 f"s9\t{value}\n")
    with pytest.raises(InputError, match="row 6 .*column 'age'"):
        load_covariates(p)


# --- GRM: autosomes only ----------------------------------------------------------------

def test_grm_from_a_fileset_with_x_uses_autosomes_only(complete_sim, tmp_path):
    from gwas.heritability.run import build_grm

    src = complete_sim / "genotypes/cohort"
    for ext in (".bed", ".fam"):
        shutil.copy(f"{src}{ext}", tmp_path / f"g{ext}")
    bim = pd.read_csv(f"{src}.bim", sep="\t", header=None, dtype=str)
    bim.iloc[:150, 0] = "X"
    bim.to_csv(tmp_path / "g.bim", sep="\t", header=False, index=False)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    mat, _, m, _ = build_grm(str(tmp_path / "g"), None, tmp_path / "a")
    assert m == len(bim) - 150
    auto = tmp_path / "auto.txt"
    auto.write_text("\n".join(bim.iloc[150:, 1]) + "\n")
    ref, _, m_ref, _ = build_grm(str(src), None, tmp_path / "b", filters=Filters(extract=auto))
    assert m_ref == m
    np.testing.assert_allclose(mat, ref, atol=1e-6)


# --- stage reuse that checks outputs --------------------------------------------------------

def test_a_stage_is_reused_only_while_its_outputs_are_what_its_stamp_vouches_for(
        tiny_sim, tmp_path):
    from pipeline.runner import Stage, run_stages
    from rnce_bag.stages import FeaturesParams

    manifest = tiny_sim / "cohort.tsv"
    stage = Stage("features", "features",
                  FeaturesParams(out=tmp_path / "x", manifest=manifest), [manifest])
    root = tmp_path / "run"
    lines: list[str] = []

    def status() -> str:
        return run_stages([stage], root, echo=lines.append)["stages"]["features"]["status"]

    assert status() == "ran"
    assert status() == "cached"
    table = root / "features" / "features.parquet"
    pd.read_parquet(table).head(3).to_parquet(table)  # something else wrote here
    assert status() == "ran"
    assert "not reused: its outputs changed since it ran (features.parquet)" in lines[-2]
    assert status() == "cached"
    (root / "features" / ".stage.json").write_text("")  # a corrupt stamp: recompute
    assert status() == "ran" and "its stamp" in lines[-2] and "unreadable" in lines[-2]
    record = json.loads((root / "run.json").read_text())
    assert record["command"] == "run" and record["status"] == "ok"


def test_a_study_will_not_write_into_another_commands_folder(tmp_path):
    from pipeline.runner import run_stages

    (tmp_path / "run.json").write_text(json.dumps({"command": "gwas", "status": "ok"}))
    before = (tmp_path / "run.json").read_text()
    with pytest.raises(InputError, match="holds the output of 'rnce-bag gwas'"):
        run_stages([], tmp_path, echo=lambda _: None)
    assert (tmp_path / "run.json").read_text() == before


# --- child tools end with their process group ---------------------------------------------

def test_a_tools_whole_process_group_ends_when_the_caller_stops(tmp_path):
    from rnce_bag.core.tools import run_tool

    pidfile = tmp_path / "pid"
    # a wrapper script that starts the real work in the background and waits, as
    # Debian's plink2 wrapper does
    script = f"sleep 60 & echo $! > {pidfile}; wait"
    with pytest.raises(subprocess.TimeoutExpired):
        run_tool(["sh", "-c", script], timeout=1.0)
    pid = int(pidfile.read_text())
    time.sleep(0.2)
    assert not running(pid)


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a killed orphan may linger as a zombie until
    init reaps it: that one no longer runs)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def test_run_tool_returns_what_subprocess_run_returns():
    from rnce_bag.core.tools import run_tool

    proc = run_tool(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "out\n", "err\n")


def test_a_lock_file_that_is_a_link_is_never_written_through(tmp_path):
    from rnce_bag.core.outdir import folder_lock

    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    (tmp_path / "out").mkdir()
    os.symlink(target, tmp_path / "out" / ".lock")
    with pytest.raises(InputError, match="never writes through a link"):
        with folder_lock(tmp_path / "out"):
            pass
    assert target.read_text() == "keep me\n"


def test_guarded_reader_messages(tmp_path):
    from rnce_bag.core.textfile import read_text_file

    p = tmp_path / "x"
    with pytest.raises(InputError, match="not found"):
        read_text_file(p, "--keep list")
    p.mkdir()
    with pytest.raises(InputError, match="is a folder"):
        read_text_file(p, "--keep list")
    q = tmp_path / "bin"
    q.write_bytes(b"ab\n\x00cd")
    with pytest.raises(InputError, match="line 2: a NUL byte"):
        read_text_file(q, "list")
    assert Path(q).exists()
