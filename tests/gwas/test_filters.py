"""--keep/--remove/--extract/--exclude/--chr: PLINK's semantics, both engines, and bare
PLINK 2 with the same flags as the reference."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd
import pytest

from cli.main import app
from gwas.filters import (
    Filters,
    filter_samples,
    filter_variants,
    parse_chromosomes,
    read_sample_list,
    read_variant_list,
)
from rnce_bag.core.errors import InputError


def test_parse_chromosomes():
    assert parse_chromosomes("1-3,X,chr22, 23") == {"1", "2", "3", "X", "22"}
    for bad in ("3-1", "a-b", " , "):
        with pytest.raises(InputError):
            parse_chromosomes(bad)


def test_sample_lists_in_plink_formats(tmp_path):
    samples = pd.DataFrame({"FID": ["f1", "f2", "f3", "f4"], "IID": ["007", "7", "a", "b"]})
    two = tmp_path / "two.txt"
    two.write_text("#FID IID\nf1 007\nfX a\nf4 b\n")  # 'fX a' names no sample: FID differs
    one = tmp_path / "one.txt"
    one.write_text("IID\n7\n")
    assert read_sample_list(two)["IID"].tolist() == ["007", "a", "b"]
    keep, counts = filter_samples(samples, Filters(keep=two, remove=one))
    assert keep.tolist() == [True, False, False, True]
    assert counts == {"samples_removed_keep": 2, "samples_removed_remove": 0,
                      "listed_unmatched_keep": 1, "listed_unmatched_remove": 0}
    keep, _ = filter_samples(samples, Filters(remove=one))
    assert keep.tolist() == [True, False, True, True]  # '007' is not '7'
    empty = tmp_path / "e.txt"
    empty.write_text("\n")
    with pytest.raises(InputError, match="no sample"):
        read_sample_list(empty)


def test_variant_lists_ids_and_ranges(tmp_path):
    variants = pd.DataFrame({"chromosome": ["1", "1", "2", "chr2", "3"],
                             "position": [100, 200, 100, 300, 50],
                             "variant_id": ["rs1", "rs2", "rs3", "rs4", "rs5"]})
    lst = tmp_path / "x.txt"
    lst.write_text("rs1\n2:150-300\n# comment\nrs5 extra fields ignored\n")
    vl = read_variant_list(lst)
    assert vl.ids == {"rs1", "rs5"} and vl.ranges == [("2", 150, 300)]
    keep, counts = filter_variants(variants, Filters(extract=lst, chr="1-2"))
    assert keep.tolist() == [True, False, False, True, False]
    assert counts == {"variants_removed_chr": 1, "variants_removed_extract": 2}
    keep, counts = filter_variants(variants, Filters(exclude=lst))
    assert keep.tolist() == [False, True, True, False, False]
    with pytest.raises(InputError, match="leave no variant"):
        filter_variants(variants, Filters(chr="5"))


def _lists(sim, tmp):
    fam = pd.read_csv(sim / "genotypes/cohort.fam", sep=r"\s+", header=None, dtype=str)
    bim = pd.read_csv(sim / "genotypes/cohort.bim", sep=r"\s+", header=None, dtype=str)
    keep = tmp / "keep.txt"
    fam.iloc[:250, :2].to_csv(keep, sep=" ", index=False, header=False)
    remove = tmp / "remove.txt"  # with a header, as PLINK 2 reads it
    fam.iloc[240:260, :2].rename(columns={0: "#FID", 1: "IID"}).to_csv(remove, sep="\t",
                                                                       index=False)
    chroms = sorted(bim[0].unique(), key=int)
    pos = bim.loc[bim[0] == chroms[0], 3].astype(int)
    extract = tmp / "extract.txt"  # a range on the first chromosome + IDs on the others
    extract.write_text(f"{chroms[0]}:{pos.min()}-{int(pos.quantile(0.6))}\n"
                       + "\n".join(bim.loc[bim[0] != chroms[0], 1].iloc[::2]) + "\n")
    exclude = tmp / "exclude.txt"
    exclude.write_text("\n".join(bim[1].iloc[::7]) + "\n")
    return keep, remove, extract, exclude, chroms


@pytest.mark.external
def test_plink2_engine_filters_equal_bare_plink2(complete_sim, tmp_path, runner):
    keep, remove, extract, exclude, chroms = _lists(complete_sim, tmp_path)
    chr_arg = ",".join(chroms[:-1])  # every chromosome but the last
    bfile = str(complete_sim / "genotypes/cohort")
    out = tmp_path / "ours"
    res = runner.invoke(app, ["gwas", "--bfile", bfile, "--pheno",
                              str(complete_sim / "pheno.tsv"), "--pheno-name", "LATENT",
                              "--engine", "plink2", "--set", "pca.n_pcs=0", "--set",
                              "qc.hwe_p=0", "--set", "qc.maf=0", "--set",
                              "qc.variant_call_rate=0", "--set", "qc.sample_call_rate=0",
                              "--keep", str(keep), "--remove", str(remove), "--extract",
                              str(extract), "--exclude", str(exclude), "--chr", chr_arg,
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    report = json.loads((out / "gwas_report.json").read_text())
    removed = report["filters"]["removed"]
    assert removed["samples_removed_keep"] == 50 and removed["samples_removed_remove"] == 10
    assert removed["variants_removed_chr"] > 0 and removed["variants_removed_exclude"] > 0
    ours = pd.read_csv(out / "LATENT.tsv.gz", sep="\t")
    # bare PLINK 2 with the same flags (a range list goes to --extract range)
    lines = extract.read_text().split("\n")
    rng = tmp_path / "range.txt"
    c, span = lines[0].split(":")
    lo, hi = span.split("-")
    rng.write_text(f"{c}\t{lo}\t{hi}\tr1\n")
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(x for x in lines[1:] if x) + "\n")
    ph = pd.read_csv(complete_sim / "pheno.tsv", sep="\t")[["#FID", "IID", "LATENT"]]
    ph.to_csv(tmp_path / "p.tsv", sep="\t", index=False, na_rep="NA")
    base = ["plink2", "--bfile", bfile, "--keep", str(keep), "--remove", str(remove),
            "--chr", chr_arg, "--exclude", str(exclude), "--pheno", str(tmp_path / "p.tsv"),
            "--no-psam-pheno", "--glm", "allow-no-covars", "omit-ref",
            "cols=chrom,pos,ref,alt,a1freq,nobs,beta,se,tz,p"]
    parts = []
    for k, extra in enumerate((["--extract", "range", str(rng)], ["--extract", str(ids)])):
        subprocess.run([*base, *extra, "--out", str(tmp_path / f"bare{k}")], check=True,
                       capture_output=True)
        parts.append(pd.read_csv(tmp_path / f"bare{k}.LATENT.glm.linear", sep="\t"))
    bare = pd.concat(parts).drop_duplicates("ID")
    assert set(ours["rsid"]) == set(bare["ID"])
    m = ours.merge(bare, left_on="rsid", right_on="ID")
    np.testing.assert_allclose(m["beta"], m["BETA"], rtol=2e-5, atol=1e-8)
    np.testing.assert_allclose(m["p_value"], m["P"], rtol=1e-4)
    assert (m["n"] == m["OBS_CT"]).all() and m["n"].max() == 240


@pytest.mark.hail
@pytest.mark.external
def test_hail_engine_applies_the_same_filters(complete_sim, tmp_path):
    from gwas.config import GwasConfig
    from gwas.run import GenotypeInput, run_gwas

    keep, remove, extract, exclude, chroms = _lists(complete_sim, tmp_path)
    flt = Filters(keep, remove, extract, exclude, ",".join(chroms[:-1]))
    reports = {}
    for engine in ("plink2", "hail"):
        cfg = GwasConfig.model_validate({"engine": engine, "pca": {"n_pcs": 0},
                                         "hail": {"spark_master": "local[2]",
                                                  "driver_memory_gb": 2}})
        reports[engine] = run_gwas(GenotypeInput(bfile=str(complete_sim / "genotypes/cohort")),
                                   complete_sim / "pheno.tsv", ["LATENT"], None, None, cfg,
                                   tmp_path / engine, filters=flt)
    a, b = reports["plink2"], reports["hail"]
    assert a["filters"]["removed"] == b["filters"]["removed"]
    for key in ("variants_in", "variants_out", "samples_out"):
        assert a["qc"][key] == b["qc"][key], key
    x = pd.read_csv(tmp_path / "plink2" / "LATENT.tsv.gz", sep="\t").set_index("rsid")
    y = pd.read_csv(tmp_path / "hail" / "LATENT.tsv.gz", sep="\t").set_index("rsid")
    assert set(x.index) == set(y.index)
    np.testing.assert_allclose(x.loc[y.index, "beta"], y["beta"], rtol=2e-5, atol=1e-8)


@pytest.mark.external
def test_h2_with_filters_equals_h2_on_plink2_subset(complete_sim, tmp_path, runner):
    """GREML after --keep/--remove/--chr/--extract/--exclude equals GREML on the fileset
    bare PLINK 2 writes with the same flags."""
    keep, remove, _, exclude, chroms = _lists(complete_sim, tmp_path)
    bfile = str(complete_sim / "genotypes/cohort")
    flags = ["--keep", str(keep), "--remove", str(remove), "--exclude", str(exclude), "--chr",
             ",".join(chroms[:-1])]
    subprocess.run(["plink2", "--bfile", bfile, *flags, "--make-bed", "--out",
                    str(tmp_path / "sub")], check=True, capture_output=True)
    pheno = str(complete_sim / "pheno.tsv")
    tables = []
    for name, args in (("ours", ["--bfile", bfile, *flags]),
                       ("bare", ["--bfile", str(tmp_path / "sub")])):
        res = runner.invoke(app, ["h2", *args, "--pheno", pheno, "--pheno-name", "LATENT",
                                  "--grm-cutoff", "0", "--out", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        tables.append(pd.read_csv(tmp_path / name / "heritability.tsv", sep="\t"))
    a, b = tables
    assert a["n"].iloc[0] == b["n"].iloc[0] == 240 and a["m"].iloc[0] == b["m"].iloc[0]
    np.testing.assert_allclose(a["h2"], b["h2"], rtol=1e-5, atol=1e-6)
    # a GRM file is already summed over its variants: variant filters need --bfile
    res = runner.invoke(app, ["h2", "--grm", str(tmp_path / "ours" / "grm"), "--pheno", pheno,
                              "--extract", str(exclude), "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "need --bfile" in " ".join(res.output.split())


@pytest.mark.external
def test_enrich_tests_only_the_filtered_variants(complete_sim, tmp_path, runner):
    from gwas.config import GwasConfig
    from gwas.run import GenotypeInput, run_gwas

    run_gwas(GenotypeInput(bfile=str(complete_sim / "genotypes/cohort")),
             complete_sim / "pheno.tsv", ["LATENT"], None, None,
             GwasConfig.model_validate({"engine": "plink2", "pca": {"n_pcs": 0}}),
             tmp_path / "g")
    ssf = pd.read_csv(tmp_path / "g/LATENT.tsv.gz", sep="\t", dtype={"chromosome": str})
    first = sorted(ssf["chromosome"].unique(), key=int)[0]
    base = ["enrich", "--sumstats", str(tmp_path / "g/LATENT.tsv.gz"), "--bfile",
            str(complete_sim / "genotypes/cohort"), "--celltypes",
            str(complete_sim / "expression/celltype_specificity.tsv")]
    genes = {}
    for name, extra in (("all", []), ("one", ["--chr", first])):
        res = runner.invoke(app, [*base, *extra, "--out", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        genes[name] = pd.read_csv(tmp_path / name / "genes.tsv", sep="\t",
                                  dtype={"chromosome": str})
    assert set(genes["one"]["chromosome"]) == {first}
    assert 0 < len(genes["one"]) < len(genes["all"])
    kept = genes["all"][genes["all"]["chromosome"] == first]
    pd.testing.assert_frame_equal(kept.reset_index(drop=True),
                                  genes["one"].reset_index(drop=True))


@pytest.mark.external
def test_enrich_keep_chooses_the_ld_reference_samples(complete_sim, tmp_path, runner):
    """enrich --keep/--remove: the gene test's LD comes from those samples only (issue 30:
    enrich had no sample filters for its LD reference); LDSC-SEG, which scores LD on the
    whole fileset, refuses them."""
    from gwas.config import GwasConfig
    from gwas.enrichment import gene_analysis, gene_windows
    from gwas.plink_io import open_bed
    from gwas.run import GenotypeInput, run_gwas
    from gwas.sumstats import read_sumstats

    bfile = str(complete_sim / "genotypes/cohort")
    run_gwas(GenotypeInput(bfile=bfile), complete_sim / "pheno.tsv", ["LATENT"], None, None,
             GwasConfig.model_validate({"engine": "plink2", "pca": {"n_pcs": 0}}),
             tmp_path / "g")
    reader = open_bed(bfile)
    half = reader.fam.iloc[::2]
    (tmp_path / "half.txt").write_text("".join(f"{i}\n" for i in half["IID"]))
    base = ["enrich", "--sumstats", str(tmp_path / "g/LATENT.tsv.gz"), "--bfile", bfile,
            "--celltypes", str(complete_sim / "expression/celltype_specificity.tsv")]
    res = runner.invoke(app, [*base, "--keep", str(tmp_path / "half.txt"), "--out",
                              str(tmp_path / "e")])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(tmp_path / "e/genes.tsv", sep="\t", dtype={"chromosome": str})
    want = gene_analysis(read_sumstats(tmp_path / "g/LATENT.tsv.gz"), reader,
                         gene_windows("GRCh37", 35, 10), samples=np.arange(0, len(reader.fam), 2))
    np.testing.assert_allclose(got["p"], want["p"], rtol=1e-5)  # genes.tsv: 6 digits
    everyone = gene_analysis(read_sumstats(tmp_path / "g/LATENT.tsv.gz"), reader,
                             gene_windows("GRCh37", 35, 10))
    assert not np.allclose(everyone["p"], want["p"], rtol=1e-6)  # the samples mattered
    res = runner.invoke(app, [*base, "--keep", str(tmp_path / "half.txt"), "--ldsc-seg",
                              "--out", str(tmp_path / "f")])
    assert res.exit_code == 2 and "LDSC-SEG scores LD on the whole --bfile" in \
        " ".join(res.output.split())
