"""Genome-build detection from known SNPs and chromosome lengths."""

import pandas as pd
import pytest

from gwas.genome_build import build_evidence, check_build
from rnce_bag.core.errors import InputError


def _ssf(rows):
    return pd.DataFrame(rows, columns=["chromosome", "base_pair_location", "rsid"])


def test_known_snps_decide_the_build():
    hg38 = _ssf([("19", 44908684, "rs429358"), ("16", 53786615, "rs9939609"),
                 ("1", 1000, "rs1")])
    assert len(build_evidence(hg38)["GRCh38"]) == 2 and not build_evidence(hg38)["GRCh37"]
    with pytest.raises(InputError, match="look like GRCh38.*rs429358") as err:
        check_build(hg38, "GRCh37", "x.tsv")
    assert "--build GRCh38" in err.value.hint
    assert check_build(hg38, "GRCh38", "x.tsv")["GRCh38"]
    hg37 = _ssf([("19", 45411941, "rs429358")])
    with pytest.raises(InputError, match="look like GRCh37"):
        check_build(hg37, "GRCh38", "x.tsv")


def test_chromosome_lengths():
    # past the end of chr1 in GRCh38 (248,956,422) but inside GRCh37 (249,250,621)
    ssf = _ssf([("1", 249_100_000, "."), ("2", 5, ".")])
    with pytest.raises(InputError, match="past its end in GRCh38"):
        check_build(ssf, "GRCh38", "x.tsv")
    check_build(ssf, "GRCh37", "x.tsv")
    # chr17 is longer in GRCh38
    with pytest.raises(InputError, match="look like GRCh38"):
        check_build(_ssf([("chr17", 82_000_000, ".")]), "GRCh37", "x.tsv")


def test_no_evidence_accepts_the_declaration_and_bad_build_name():
    assert check_build(_ssf([("3", 1000, "rs1")]), "GRCh38", "x") == {"GRCh37": [],
                                                                       "GRCh38": []}
    with pytest.raises(InputError, match="expected one of"):
        check_build(_ssf([("3", 1000, "rs1")]), "hg19", "x")
