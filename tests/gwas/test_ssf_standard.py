"""Summary statistics other tools read as they are (issue 30, item 6): BGZF with a tabix
index (htslib through pysam), GWAS-SSF metadata as the standard defines it, and the GWAS
Catalog's own validator (``gwas-ssf validate`` of gwas-sumstats-tools, installed by ``make
setup`` in a venv of its own) run on the GWAS output."""

from __future__ import annotations

import hashlib
import subprocess

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.external


@pytest.fixture(scope="module")
def gwas_out(complete_sim, tmp_path_factory):
    from gwas.config import GwasConfig
    from gwas.run import GenotypeInput, run_gwas

    out = tmp_path_factory.mktemp("ssf") / "gwas"
    cfg = GwasConfig.model_validate({"engine": "plink2", "pca": {"n_pcs": 2}})
    run_gwas(GenotypeInput(bfile=str(complete_sim / "genotypes/cohort")),
             complete_sim / "pheno.tsv", ["LATENT"], complete_sim / "covar.tsv", None, cfg, out)
    return out


def _validator(repo_root):
    exe = repo_root / ".venv" / "tools" / "gwas-ssf" / "bin"
    if not (exe / "gwas-ssf").exists():
        pytest.skip("gwas-sumstats-tools not installed: make setup installs it")
    return exe


def test_bgzf_with_a_tabix_index_reads_a_region_back(gwas_out):
    import pysam

    path = gwas_out / "LATENT.tsv.gz"
    assert path.read_bytes()[12:14] == b"BC"  # BGZF's extra field, not plain gzip
    assert (gwas_out / "LATENT.tsv.gz.tbi").exists()
    table = pd.read_csv(path, sep="\t", dtype={"chromosome": str})
    chrom = table["chromosome"].iloc[len(table) // 2]
    on = table[table["chromosome"] == chrom]
    lo, hi = int(on["base_pair_location"].quantile(0.25)), \
        int(on["base_pair_location"].quantile(0.75))
    want = on[(on["base_pair_location"] >= lo) & (on["base_pair_location"] <= hi)]
    with pysam.TabixFile(str(path)) as tbx:
        rows = [r.split("\t") for r in tbx.fetch(chrom, lo - 1, hi)]  # 0-based half-open
    assert len(rows) == len(want) > 10
    assert [int(r[1]) for r in rows] == want["base_pair_location"].tolist()


def test_metadata_as_the_standard_defines_it(gwas_out, repo_root):
    meta = yaml.safe_load((gwas_out / "LATENT-meta.yaml").read_text())
    data = (gwas_out / "LATENT.tsv.gz").read_bytes()
    assert meta["data_file_md5sum"] == hashlib.md5(data).hexdigest()  # noqa: S324
    assert meta["samples"] == [{"sample_size": 300}] and "sample_size" not in meta
    assert "file_md5sum" not in meta and "covariates" not in meta
    assert meta["adjusted_covariates"][-2:] == ["PC1", "PC2"]
    exe = _validator(repo_root)
    check = ("import sys, yaml\n"
             "from gwas_sumstats_tools.schema.metadata import SumStatsMetadata\n"
             "m = SumStatsMetadata(**yaml.safe_load(open(sys.argv[1])))\n"
             "print('valid', m.file_type, m.samples[0].sample_size)\n")
    res = subprocess.run([str(exe / "python"), "-c", check, str(gwas_out / "LATENT-meta.yaml")],
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0 and "valid GWAS-SSF v1.0 300" in res.stdout, res.stderr[-2000:]


def test_the_gwas_catalog_validator_accepts_the_output(gwas_out, repo_root):
    exe = _validator(repo_root)
    res = subprocess.run([str(exe / "gwas-ssf"), "validate", "LATENT.tsv.gz", "--min-rows",
                          "1000", "--infer-from-metadata"], cwd=gwas_out, capture_output=True,
                         text=True, timeout=300, check=False)
    said = " ".join(res.stdout.split())
    assert res.returncode == 0 and "Validation status: True" in said, said[-3000:]
