"""Suggestive loci and one pair of thresholds (issue 30, item 2): a BAG with nothing at
the genome-wide threshold gets a labelled table and regional plots of its suggestive
signals, and the thresholds a GWAS ran with are the ones its loci, plot lines and
comparison classes use."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.external


@pytest.fixture(scope="module")
def strict_gwas(complete_sim, tmp_path_factory):
    """LATENT at a genome-wide threshold nothing reaches (1e-30), suggestive 1e-4."""
    from gwas.stages import GwasParams, run_gwas_stage

    out = tmp_path_factory.mktemp("strict") / "gwas"
    run_gwas_stage(GwasParams(
        out=out, bfile=str(complete_sim / "genotypes/cohort"), pheno=complete_sim / "pheno.tsv",
        pheno_name=["LATENT"], overrides=["engine=plink2", "pca.n_pcs=0",
                                          "genome_wide_p=1e-30", "suggestive_p=1e-4",
                                          "region_window_kb=100"]))
    return out


def test_a_bag_without_genome_wide_loci_gets_its_suggestive_ones(strict_gwas):
    from gwas.stages import GWAS
    from rnce_bag.core.outputs import read_output

    assert read_output(GWAS, "loci", strict_gwas).empty
    sugg = read_output(GWAS, "suggestive_loci", strict_gwas)
    assert 1 <= len(sugg) <= 10 and (sugg["p_value"] < 1e-4).all()
    assert sugg["locus_id"].tolist() == [f"suggestive{i + 1}" for i in range(len(sugg))]
    assert sugg["p_value"].is_monotonic_increasing  # the strongest first
    regions = read_output(GWAS, "regions", strict_gwas)
    assert set(regions["locus_id"]) == set(sugg["locus_id"])


def test_the_report_labels_them_and_draws_the_runs_thresholds(strict_gwas, tmp_path):
    from report.page import build_report, thresholds

    assert thresholds(strict_gwas) == (1e-30, 1e-4)
    page = build_report(strict_gwas, tmp_path / "report").read_text()
    assert "No locus reached p &lt; 1e-30. Suggestive loci (p &lt; 0.0001" in page
    assert "regional plot of LATENT at suggestive suggestive1" in page
    assert "5e-8" not in page.split("<h2>GWAS")[-1].split("<h2>")[0]


def test_plot_lines_and_classes_follow_the_thresholds_given():
    from gwas.locus_compare import replication
    from gwas.plots import manhattan

    ssf = pd.DataFrame({"chromosome": ["1", "1", "2"], "base_pair_location": [10, 20, 30],
                        "p_value": [1e-3, 0.5, 0.2]})
    fig = manhattan(ssf, thresholds=(1e-12, 1e-6))
    lines = sorted(round(float(line.get_ydata()[0]), 6) for line in fig.axes[0].lines)
    assert lines == [6.0, 12.0]
    assert replication(1e-9, (1e-12, 1e-6)) == "suggestive"
    assert replication(1e-9) == "genome-wide"  # the default pair: 5e-8, 1e-5
    assert replication(np.nan) == "not tested"
