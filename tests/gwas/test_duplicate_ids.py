"""Public PLINK files with ambiguous variant IDs: '.', one rsID on several records, a record
repeated. The PLINK 2 engine keys such inputs on chromosome:position:alleles (as Hail
always does) instead of refusing them; the results equal a run on the same variants with
unique IDs (PLINK 2's printed precision: identical text), with the rsid NA where it
names no single variant, and the counts in the run report.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from gwas.config import GwasConfig
from gwas.run import GenotypeInput, run_gwas

pytestmark = pytest.mark.external
STATS = ["chromosome", "base_pair_location", "effect_allele", "other_allele", "beta",
         "standard_error", "effect_allele_frequency", "p_value", "n"]


def _cfg(engine: str, n_pcs: int = 2) -> GwasConfig:
    return GwasConfig.model_validate({"engine": engine, "pca": {"n_pcs": n_pcs},
                                      "hail": {"spark_master": "local[2]",
                                               "driver_memory_gb": 2}})


def _copy(src: Path, dst: Path, edit) -> str:
    for e in ("bed", "fam"):
        shutil.copyfile(f"{src}.{e}", f"{dst}.{e}")
    bim = pd.read_csv(f"{src}.bim", sep="\t", header=None, dtype=str)
    edit(bim).to_csv(f"{dst}.bim", sep="\t", header=False, index=False)
    return str(dst)


@pytest.fixture(scope="module")
def ambiguous(complete_sim, tmp_path_factory):
    """(clean, ambiguous) filesets of the same variants: the ambiguous one has rsID
    'rsdup' on rows 3 and 10, '.' on rows 5 and 8 (all on chromosome 1)."""
    d = tmp_path_factory.mktemp("dup")
    src = complete_sim / "genotypes" / "cohort"

    def edit(bim):
        bim = bim.copy()
        bim.loc[[2, 9], 1] = "rsdup"
        bim.loc[[4, 7], 1] = "."
        return bim

    return str(src), _copy(src, d / "amb", edit)


def _gwas(sim, bfile, engine, out, n_pcs=2, **kw):
    return run_gwas(GenotypeInput(bfile=bfile), sim / "pheno.tsv", None, sim / "covar.tsv",
                    None, _cfg(engine, n_pcs), out, **kw)


def test_plink2_keys_ambiguous_ids_on_alleles(complete_sim, ambiguous, tmp_path):
    clean, amb = ambiguous
    ra = _gwas(complete_sim, clean, "plink2", tmp_path / "clean")
    rb = _gwas(complete_sim, amb, "plink2", tmp_path / "amb")
    bim = pd.read_csv(f"{clean}.bim", sep="\t", header=None)
    touched = set(bim.loc[[2, 4, 7, 9], 1])
    tested = int(pd.read_csv(tmp_path / "clean" / "LATENT.tsv.gz", sep="\t")["rsid"]
                 .isin(touched).sum())  # those that pass QC
    assert tested >= 1
    assert rb["qc"]["variants_ids_shared"] == 4 and rb["qc"]["variants_without_rsid"] == tested
    assert rb["qc"]["variants_duplicate_removed"] == 0
    assert {k: v for k, v in rb["qc"].items() if k.startswith(("samples", "variants_in",
                                                                "variants_out"))} == \
        {k: v for k, v in ra["qc"].items() if k.startswith(("samples", "variants_in",
                                                             "variants_out"))}
    for name in ("LATENT", "NOISE"):
        a, b = (pd.read_csv(tmp_path / d / f"{name}.tsv.gz", sep="\t")
                for d in ("clean", "amb"))
        pd.testing.assert_frame_equal(a[STATS], b[STATS])
        assert b.loc[a["rsid"].isin(touched), "rsid"].isna().all()
        untouched = ~a["rsid"].isin(touched)
        assert (a.loc[untouched, "rsid"] == b.loc[untouched, "rsid"]).all()  # IDs kept


def test_repeated_record_is_removed_and_counted(complete_sim, tmp_path):
    """A record repeated (same ID, chromosome, position, alleles: files concatenated twice):
    keyed on alleles, the first is kept, as PLINK 2's --rm-dup force-first."""
    plink2 = shutil.which("plink2")
    src = complete_sim / "genotypes" / "cohort"
    bim = pd.read_csv(f"{src}.bim", sep="\t", header=None, dtype=str)
    dropped = bim.loc[3, 1]
    bim.loc[3, [0, 1, 3, 4, 5]] = bim.loc[2, [0, 1, 3, 4, 5]].to_numpy()  # row 4 repeats 3
    for e in ("bed", "fam"):
        shutil.copyfile(f"{src}.{e}", tmp_path / f"rep.{e}")
    bim.to_csv(tmp_path / "rep.bim", sep="\t", header=False, index=False)
    rep = _gwas(complete_sim, str(tmp_path / "rep"), "plink2", tmp_path / "out")
    assert rep["qc"]["variants_duplicate_removed"] == 1
    # reference: bare PLINK 2 on the input without the repeat
    (tmp_path / "x.txt").write_text(f"{dropped}\n")
    subprocess.run([plink2, "--bfile", str(src), "--exclude", str(tmp_path / "x.txt"),
                    "--make-bed", "--out", str(tmp_path / "ref")], check=True,
                   capture_output=True)
    ref = _gwas(complete_sim, str(tmp_path / "ref"), "plink2", tmp_path / "refout")
    assert rep["qc"]["variants_out"] == ref["qc"]["variants_out"]
    a, b = (pd.read_csv(tmp_path / d / "LATENT.tsv.gz", sep="\t") for d in ("refout", "out"))
    pd.testing.assert_frame_equal(a[STATS], b[STATS])


def test_extract_with_a_shared_id_keeps_every_record(complete_sim, ambiguous, tmp_path):
    """PLINK semantics: --extract rsdup keeps both records named rsdup."""
    from gwas.filters import Filters

    _, amb = ambiguous
    (tmp_path / "keep.txt").write_text("rsdup\n")
    rep = _gwas(complete_sim, amb, "plink2", tmp_path / "out", n_pcs=0,
                filters=Filters(extract=tmp_path / "keep.txt"))
    assert rep["filters"]["removed"]["variants_removed_extract"] == 2000 - 2
    assert rep["qc"]["variants_in"] == 2  # both records reached QC, keyed on their alleles


@pytest.mark.hail
@pytest.mark.slow
@pytest.mark.extended
def test_hail_clears_the_same_rsids(complete_sim, ambiguous, tmp_path):
    _, amb = ambiguous
    rep = _gwas(complete_sim, amb, "hail", tmp_path / "hail")
    ssf = pd.read_csv(tmp_path / "hail" / "LATENT.tsv.gz", sep="\t")
    assert rep["qc"]["variants_without_rsid"] == ssf["rsid"].isna().sum() >= 1
    assert "." not in set(ssf["rsid"].dropna()) and "rsdup" not in set(ssf["rsid"].dropna())
