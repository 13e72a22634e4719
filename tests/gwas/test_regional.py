"""Regional association plots: the data the GWAS writes (r2 with each lead from the
genotypes it used) and what the figure draws (bins, lead, genes, window)."""

import numpy as np
import pandas as pd
import pytest

from gwas.locus_plots import R2_COLOURS, forest, regional
from gwas.regions import centimorgans, genes_in_window, locus_region, r2_bin, recombination_rate

pytestmark = pytest.mark.external


@pytest.fixture(scope="module")
def gwas_dir(complete_sim, tmp_path_factory):
    from gwas.config import GwasConfig
    from gwas.run import GenotypeInput, run_gwas

    out = tmp_path_factory.mktemp("regional") / "gwas"
    cfg = GwasConfig.model_validate({"engine": "plink2", "pca": {"n_pcs": 2},
                                     "genome_wide_p": 1e-4, "region_window_kb": 200})
    run_gwas(GenotypeInput(bfile=str(complete_sim / "genotypes/cohort")),
             complete_sim / "pheno.tsv", ["LATENT"], complete_sim / "covar.tsv", None, cfg, out)
    return out


def _numpy_r2(complete_sim, gwas_dir, positions, lead):
    """r2 with the lead by numpy on the samples the GWAS kept (independent of gwas.loci)."""
    from gwas.plink_io import BedReader

    reader = BedReader(complete_sim / "genotypes/cohort")
    kept = pd.read_csv(gwas_dir / "covariates.tsv", sep="\t", dtype={"IID": str})["IID"]
    samples = np.flatnonzero(reader.fam["IID"].astype(str).isin(kept).to_numpy())
    chrom_rows = reader.bim.reset_index()
    rows = [int(chrom_rows.loc[chrom_rows["position"] == p, "index"].iloc[0])
            for p in positions]
    lead_row = int(chrom_rows.loc[chrom_rows["position"] == lead, "index"].iloc[0])
    g = reader.read(np.array([lead_row, *rows]), samples)
    return np.array([np.corrcoef(g[0], x)[0, 1] ** 2 for x in g[1:]])


def test_regions_hold_every_variant_of_the_window_with_r2_to_the_lead(gwas_dir,
                                                                        complete_sim):
    from gwas.stages import GWAS
    from rnce_bag.core.outputs import read_output

    loci = read_output(GWAS, "loci", gwas_dir)
    regions = read_output(GWAS, "regions", gwas_dir)
    assert len(loci) >= 1 and set(regions["locus_id"]) == set(loci["locus_id"])
    lo = loci.iloc[0]
    reg = regions[regions["locus_id"] == lo["locus_id"]]
    assert (reg["position"] - lo["position"]).abs().max() <= 200_000
    ssf = pd.read_csv(gwas_dir / "LATENT.tsv.gz", sep="\t", dtype={"chromosome": str})
    window = ssf[(ssf["chromosome"] == str(lo["chromosome"]))
                 & ((ssf["base_pair_location"] - lo["position"]).abs() <= 200_000)]
    assert len(reg) == len(window)  # every tested variant of the window, no other
    assert reg.loc[reg["is_lead"], "position"].tolist() == [lo["position"]]
    np.testing.assert_allclose(reg["r2"], _numpy_r2(complete_sim, gwas_dir, reg["position"],
                                                    lo["position"]), atol=1e-8)


def test_regional_plot_draws_bins_lead_genes_and_window(gwas_dir, complete_sim):
    from gwas.stages import GWAS
    from rnce_bag.core.outputs import read_output
    from rnce_bag.resources import load_gene_table

    loci = read_output(GWAS, "loci", gwas_dir)
    regions = read_output(GWAS, "regions", gwas_dir)
    busiest = regions["locus_id"].value_counts().index[0]  # the dense IRAG1 panel
    lo = loci.set_index("locus_id").loc[busiest].rename(None)
    lo["locus_id"] = busiest
    reg = regions[regions["locus_id"] == busiest]
    genes = load_gene_table("GRCh37")
    fig = regional([("LATENT", reg)], genes, str(lo["chromosome"]), int(lo["position"]), 200)
    ax = fig.axes[0]
    track = next(a for a in fig.axes if "Mb" in a.get_xlabel())  # (twinx axes come last)
    want = r2_bin(_numpy_r2(complete_sim, gwas_dir, reg["position"], lo["position"]))
    lead = reg["is_lead"].to_numpy()
    for coll in ax.collections:
        gid = coll.get_gid()
        x = np.round(coll.get_offsets()[:, 0] * 1e6).astype(int)
        if gid == "lead":
            assert x.tolist() == [lo["position"]]
            continue
        b = int(gid.removeprefix("r2bin"))
        expected = reg["position"].to_numpy()[(want == b) & ~lead]
        assert sorted(x) == sorted(expected), gid
        assert np.allclose(coll.get_facecolor()[0][:3],
                           np.array([int(R2_COLOURS[b][i:i + 2], 16) for i in (1, 3, 5)]) / 255)
    drawn = {c.get_gid() for c in ax.collections}
    assert "lead" in drawn and len(drawn - {"lead"}) >= 3, drawn  # several r2 bins
    start, end = lo["position"] - 200_000, lo["position"] + 200_000
    assert np.allclose(track.get_xlim(), (max(start, 0) / 1e6, end / 1e6))
    in_window = genes_in_window(genes, str(lo["chromosome"]), max(start, 0), end)
    names = {t.get_text() for t in track.texts}
    assert set(in_window["symbol"]) <= names
    assert "Mb, GRCh37" in track.get_xlabel()


def test_gene_track_rows_do_not_overlap():
    genes = pd.DataFrame({"chromosome": "1", "start": [100, 150, 5_000, 100_000],
                          "stop": [20_000, 30_000, 9_000, 120_000], "strand": "+",
                          "symbol": ["A", "B", "C", "D"]})
    g = genes_in_window(genes, "1", 0, 240_000)
    assert g.set_index("symbol")["track"].to_dict() == {"A": 0, "B": 1, "C": 2, "D": 0}


def test_recombination_rate_from_bim_centimorgans():
    reg = pd.DataFrame({"position": [1_000_000, 1_500_000, 2_000_000],
                        "cm": [1.0, 1.5, 3.5]})
    mids, rate = recombination_rate(reg)
    np.testing.assert_allclose(mids, [1_250_000, 1_750_000])
    np.testing.assert_allclose(rate, [1.0, 4.0])
    assert recombination_rate(reg.assign(cm=np.nan))[0].size == 0


def test_bim_maps_in_morgans_are_read_as_centimorgans():
    """A .bim holding Morgans (as many pipelines write it) drew a recombination axis 100x
    too low (issue 30); the unit is told from the implied rate per chromosome."""
    pos = np.linspace(1e6, 51e6, 200)
    morgans = np.linspace(0.0, 0.6, 200)  # 60 cM over 50 Mb: 1.2 cM/Mb
    cm, unit = centimorgans(pos, morgans)
    assert unit == "Morgans"
    np.testing.assert_allclose(cm[1:], morgans[1:] * 100)
    assert np.isnan(cm[0])  # 0 is PLINK's 'no map'
    cm, unit = centimorgans(pos, morgans * 100)
    assert unit == "cM" and np.allclose(cm[1:], morgans[1:] * 100)
    assert centimorgans(pos, np.zeros(200))[1] == "none"

    class Reader:  # a fileset whose .bim has Morgans
        bim = pd.DataFrame({"chromosome": "17", "position": pos.astype(int), "cm": morgans})

        def read(self, rows, samples):
            rng = np.random.default_rng(0)
            return rng.integers(0, 3, (len(rows), 50)).astype(float)

    ssf = pd.DataFrame({"chromosome": "17", "base_pair_location": pos.astype(int),
                        "variant_id": [f"v{i}" for i in range(200)], "rsid": None,
                        "beta": 0.1, "standard_error": 0.05, "p_value": 0.01})
    reg = locus_region(ssf, Reader(), "17", int(pos[100]), window_kb=3000)
    _, rate = recombination_rate(reg)
    np.testing.assert_allclose(rate, 1.2, rtol=1e-4)  # integer bp positions


def test_regional_legend_lists_every_bin_and_the_lead_hides_no_neighbour():
    """Every r2 bin is in the key even when no variant falls in it, and the lead's diamond
    is hollow, on top: a variant in complete LD at the same height stays visible."""
    reg = pd.DataFrame({"position": [1_000_000, 1_010_000, 1_020_000],
                        "p_value": [1e-3, 1e-9, 1e-9], "r2": [0.1, 1.0, 1.0],
                        "cm": np.nan, "is_lead": [False, True, False], "rsid": "rs1",
                        "variant_id": "v"})
    genes = pd.DataFrame({"chromosome": [], "start": [], "stop": [], "strand": [],
                          "symbol": []})
    fig = regional([("BAG", reg)], genes, "1", 1_010_000, 100)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["0.8-1.0", "0.6-0.8", "0.4-0.6", "0.2-0.4", "0.0-0.2", "lead"]
    drawn = {c.get_gid() for c in ax.collections}
    assert {"r2bin0", "r2bin4", "lead"} <= drawn
    diamond = next(c for c in ax.collections if c.get_gid() == "lead")
    assert diamond.get_facecolor().size == 0 or diamond.get_facecolor()[0][3] == 0
    partner = next(c for c in ax.collections if c.get_gid() == "r2bin4")
    assert diamond.get_zorder() > partner.get_zorder()


def test_forest_plot_draws_each_estimate_with_its_ci():
    t = pd.DataFrame({"locus": ["MAPT", "MAPT"], "phenotype": ["BAG_FS", "BAG_RNCE"],
                      "beta": [0.5, 0.2], "standard_error": [0.1, 0.05],
                      "p_value": [1e-9, 1e-4]})
    import warnings

    with warnings.catch_warnings():  # compare used to print pandas' FutureWarning (issue 30)
        warnings.simplefilter("error", FutureWarning)
        ax = forest(t).axes[0]
    from matplotlib.container import ErrorbarContainer

    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert [c.get_label() for c in bars] == ["BAG_FS", "BAG_RNCE"]
    spans = [seg[1, 0] - seg[0, 0] for c in bars for seg in c.lines[2][0].get_segments()]
    np.testing.assert_allclose(spans, [0.392, 0.196])


def test_locus_table_reports_each_lead_in_both_bags_and_replication():
    from gwas.locus_compare import locus_table, other_panel, replication

    ssf = {ph: pd.DataFrame({"chromosome": ["17", "17", "11"],
                             "base_pair_location": [44_000_000, 44_100_000, 10_600_000],
                             "beta": b, "standard_error": [0.1, 0.1, 0.1], "p_value": p})
           for ph, b, p in (("BAG_FS", [0.6, 0.1, 0.3], [1e-9, 0.3, 2e-6]),
                            ("BAG_RNCE", [0.5, 0.0, 0.05], [3e-8, 0.9, 0.6]))}
    loci = pd.DataFrame({"phenotype": ["BAG_FS", "BAG_FS"], "locus_id": ["locus1", "locus2"],
                         "lead_variant": ["rs1", "rs3"], "chromosome": ["17", "11"],
                         "position": [44_000_000, 10_600_000], "p_value": [1e-9, 2e-6],
                         "nearest_gene": ["MAPT", "IRAG1"]})
    t = locus_table(loci, ssf).set_index(["lead_variant", "phenotype"])
    assert t.loc[("rs1", "BAG_RNCE"), "replicates"] == "genome-wide"
    assert t.loc[("rs3", "BAG_RNCE"), "replicates"] == "no"
    assert t.loc[("rs1", "BAG_FS"), "replicates"] == ""  # its own BAG
    np.testing.assert_allclose(t.loc[("rs1", "BAG_RNCE"), ["ci_low", "ci_high"]].astype(float),
                               [0.304, 0.696])
    assert [replication(x) for x in (1e-9, 1e-6, 0.1, np.nan)] == [
        "genome-wide", "suggestive", "no", "not tested"]
    region = pd.DataFrame({"chromosome": "17", "position": [44_000_000, 44_100_000],
                           "variant_id": ["a", "b"], "rsid": ["rs1", "rs2"],
                           "beta": [0.6, 0.1], "standard_error": 0.1, "p_value": [1e-9, 0.3],
                           "r2": [1.0, 0.3], "cm": np.nan, "is_lead": [True, False]})
    other = other_panel(region, ssf["BAG_RNCE"])
    assert other["p_value"].tolist() == [3e-8, 0.9] and other["r2"].tolist() == [1.0, 0.3]


def test_a_lead_of_both_bags_is_one_locus():
    from gwas.locus_compare import locus_table

    ssf = {ph: pd.DataFrame({"chromosome": ["17"], "base_pair_location": [44_000_000],
                             "beta": [0.5], "standard_error": [0.1], "p_value": [1e-9]})
           for ph in ("BAG_FS", "BAG_RNCE")}
    loci = pd.DataFrame({"phenotype": ["BAG_FS", "BAG_RNCE"], "locus_id": ["locus1"] * 2,
                         "lead_variant": ["rs1"] * 2, "chromosome": ["17"] * 2,
                         "position": [44_000_000] * 2, "p_value": [1e-9] * 2,
                         "nearest_gene": ["MAPT"] * 2})
    t = locus_table(loci, ssf)
    assert len(t) == 2 and set(t["found_in"]) == {"BAG_FS, BAG_RNCE"}
    assert set(t["replicates"]) == {""}  # a lead in both: nothing to replicate
