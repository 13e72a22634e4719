import json

import numpy as np
import pandas as pd
import pytest

from gwas import plots


def _ssf(n, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"chromosome": rng.integers(1, 23, n).astype(str),
                         "base_pair_location": rng.integers(1, 200_000_000, n),
                         "p_value": rng.uniform(size=n)})


def test_thinning_keeps_every_significant_point_and_is_deterministic():
    s = _ssf(500_000)
    s.loc[:99, "p_value"] = 1e-9
    t1, t2 = plots.thin(s), plots.thin(s)
    assert t1.index.equals(t2.index)
    assert (s["p_value"] <= 0.01).sum() == (t1["p_value"] <= 0.01).sum()
    assert 0.08 < (t1["p_value"] > 0.01).sum() / (s["p_value"] > 0.01).sum() < 0.12


@pytest.mark.slow
def test_two_million_variants_are_thinned_and_rasterised(tmp_path):
    """What keeps a biobank Manhattan plot fast, checked on what is drawn (not a clock):
    about a tenth of the p > 0.01 points, every p <= 0.01 point, one rasterised scatter."""
    s = _ssf(2_000_000)
    s.loc[:999, "p_value"] = 1e-3
    fig = plots.manhattan(s)
    points = sum(len(c.get_offsets()) for c in fig.axes[0].collections)
    significant = int((s["p_value"] <= 0.01).sum())
    assert significant + 0.08 * (len(s) - significant) < points \
        < significant + 0.12 * (len(s) - significant)
    assert all(c.get_rasterized() for c in fig.axes[0].collections)
    fig.savefig(tmp_path / "m.png", dpi=100)
    assert (tmp_path / "m.png").stat().st_size > 10_000


def test_figures_return_figures():
    s = _ssf(5000)
    loci = pd.DataFrame({"chromosome": [s["chromosome"][0]], "position":
                         [s["base_pair_location"][0]], "p_value": [1e-9],
                         "nearest_gene": ["MAPT"], "lead_variant": ["rs1"]})
    fig = plots.manhattan(s, loci, "X")
    assert any(t.get_text() == "MAPT" for t in fig.axes[0].texts)
    assert "lambda GC" in plots.qq(s["p_value"].to_numpy()).axes[0].texts[0].get_text()
    assert len(plots.miami(s, _ssf(5000, 1), "A", "B").axes) == 2
    h = pd.DataFrame({"phenotype": ["A", "B"], "method": ["greml"] * 2, "h2": [0.4, 0.3],
                      "h2_se": [0.05, 0.07]})
    ax = plots.h2_bars(h).axes[0]
    assert [round(b.get_height(), 6) for b in ax.patches] == [0.4, 0.3]  # the estimates
    from matplotlib.container import ErrorbarContainer

    err = next(c for c in ax.containers if isinstance(c, ErrorbarContainer))
    spans = [seg[1, 1] - seg[0, 1] for seg in err.lines[2][0].get_segments()]
    np.testing.assert_allclose(spans, [0.1, 0.14])  # +/- one SE
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A\ngreml", "B\ngreml"]
    rg = pd.DataFrame({"p1": ["A", "A"], "p2": ["B", "C"], "rg": [0.8, -0.3]})
    ax = plots.rg_heatmap(rg).axes[0]
    mat = ax.images[0].get_array()
    np.testing.assert_allclose(mat, [[1, 0.8, -0.3], [0.8, 1, 0], [-0.3, 0, 1]])
    assert {t.get_text() for t in ax.texts} >= {"0.80", "-0.30", "1.00"}


@pytest.mark.external
def test_report_and_compare(runner, run_folder, tmp_path):
    from cli.main import app

    res = runner.invoke(app, ["report", "--run", str(run_folder), "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    figs = tmp_path / "r" / "figures"
    record = json.loads((tmp_path / "r/run.json").read_text())
    stale = figs / "regional_BAG_OLD_locus9.png"  # as if an earlier build had drawn it
    stale.write_bytes(b"old")
    record["files"].append("figures/" + stale.name)
    (tmp_path / "r/run.json").write_text(json.dumps(record))
    mine = figs / "my_notes.png"  # a user's file, not in the report's record
    mine.write_bytes(b"mine")
    res = runner.invoke(app, ["report", "--run", str(run_folder), "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    assert not stale.exists()  # a locus that is gone leaves no figure behind
    assert mine.read_bytes() == b"mine"  # what the report did not write stays
    html = (tmp_path / "r/index.html").read_text()
    for section in ("GWAS", "SNP heritability", "Genetic correlation", "Cell-type enrichment",
                    "BAG_FS vs BAG_RNCE"):
        assert f"<h2>{section}</h2>" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # the cell-type table says which trait each row is of (issue 30; here the enrich folder
    # has no run record, so its name stands in)
    assert ">trait</th>" in html and ">enrich</td>" in html
    assert "http://" not in html and "https://" not in html
    for img in ("manhattan_BAG_FS.png", "qq_BAG_RNCE.png", "h2.png", "miami_BAG_FS_BAG_RNCE.png",
                "celltypes.png"):
        assert (tmp_path / "r/figures" / img).stat().st_size > 1000
        assert (tmp_path / "r/figures" / img.replace(".png", ".svg")).exists()
    res = runner.invoke(app, ["compare", "--run", str(run_folder), "--a", "BAG_FS", "--b",
                              "BAG_RNCE", "--out", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "c/compare.json").read_text())
    quantities = [r["quantity"] for r in data["rows"]]
    assert "lambda GC" in quantities and "h2 (greml)" in quantities and "rg (greml)" in \
        quantities
    per_locus = data["per_locus"]["rows"]  # each lead of either BAG, in both
    assert per_locus and {r["BAG"] for r in per_locus} == {"BAG_FS", "BAG_RNCE"}
    assert {r["replicates"] for r in per_locus} <= {"", "genome-wide", "suggestive", "no"}
    assert (tmp_path / "c" / data["per_locus"]["forest"]).stat().st_size > 1000
    stacked = data["per_locus"]["regional"]
    assert stacked and all((tmp_path / "c" / f["src"]).exists() for f in stacked)
    page = (tmp_path / "c/index.html").read_text()
    assert "Each lead locus in both BAGs" in page and "forest_BAG_FS_BAG_RNCE.png" in page
    res = runner.invoke(app, ["compare", "--run", str(run_folder), "--a", "BAG_FS", "--b",
                              "BAG_NOPE", "--out", str(tmp_path / "c2")])
    assert res.exit_code == 2 and "no GWAS in the run has both" in res.output


def test_report_missing_run_exit_2(runner, tmp_path):
    from cli.main import app

    res = runner.invoke(app, ["report", "--run", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "not found" in res.output


def test_compare_bags_unit(tmp_path):
    """compare_bags on hand-made tables: loci within 500 kb merge into one shared locus,
    the h2 difference and its SE, rg, and AUCs in the order asked for (a probe pair stored
    the other way round flips its sign)."""
    from gwas.sumstats import to_ssf, write_ssf
    from report.page import compare_bags

    g = tmp_path / "gwas"
    g.mkdir()
    for name, seed in (("BAG_FS", 0), ("BAG_RNCE", 1)):
        s = _ssf(2000, seed)
        ssf = to_ssf(s.assign(effect_allele="A", other_allele="G", beta=0.1,
                              standard_error=0.05, effect_allele_frequency=0.3, rsid=None,
                              n=500), name)
        write_ssf(ssf, g / f"{name}.tsv.gz", {"trait_description": [name]})
    pd.DataFrame({"phenotype": ["BAG_FS", "BAG_RNCE", "BAG_RNCE"],
                  "locus_id": ["locus1", "locus1", "locus2"],
                  "lead_variant": ["rs1", "rs2", "rs3"], "chromosome": ["17", "17", "2"],
                  "position": [44_000_000, 44_300_000, 5_000_000],
                  "p_value": [1e-9, 1e-8, 1e-10], "genes": ["MAPT", "MAPT", "X"],
                  "nearest_gene": ["MAPT", "MAPT", "X"]}
                 ).to_csv(g / "loci.tsv", sep="\t", index=False)
    pd.DataFrame({"phenotype": ["BAG_FS", "BAG_RNCE"], "n_samples": 500, "n_variants": 2000,
                  "lambda_gc": [1.01, 1.02], "mean_chi2": [1.0, 1.0], "n_genome_wide": [3, 5],
                  "min_p": [1e-9, 1e-10]}).to_csv(g / "summary.tsv", sep="\t", index=False)
    h2 = tmp_path / "heritability.tsv"
    pd.DataFrame({"phenotype": ["BAG_FS", "BAG_RNCE"], "method": ["greml"] * 2,
                  "backend": "embedded", "h2": [0.42, 0.24], "h2_se": [0.03, 0.04],
                  "status": "ok"}).to_csv(h2, sep="\t", index=False)
    rg = tmp_path / "rg.tsv"
    pd.DataFrame({"p1": ["BAG_FS"], "p2": ["BAG_RNCE"], "method": ["greml"], "rg": [0.87],
                  "rg_se": [0.07], "p": [1e-20], "n": [500], "status": ["ok"]}
                 ).to_csv(rg, sep="\t", index=False)
    probe = tmp_path / "probe"
    probe.mkdir()
    pd.DataFrame({"task": ["conversion_2y"], "rep_a": ["RNCE"], "rep_b": ["FS"],
                  "auc_a": [0.62], "auc_b": [0.52], "auc_diff": [0.10], "p_delong": [0.007]}
                 ).to_csv(probe / "probe_pairs.tsv", sep="\t", index=False)
    found = {"gwas": [g], "heritability": [h2], "rg": [rg], "probe": [probe]}
    out = compare_bags(found, "BAG_FS", "BAG_RNCE", tmp_path / "fig")
    rows = {r["quantity"]: r for r in out["rows"]}
    assert rows["lead loci"]["BAG_FS"] == "1" and rows["lead loci"]["difference"] == "1 shared"
    assert rows["h2 (greml)"]["difference"] == \
        "+0.180 (SE 0.050, assuming independent estimates)"
    # rg is the pair's: in the pair's column (it used to sit under BAG_FS), with the tests
    # of rg = 0 and of rg = 1 (Wald: 2 * sf(0.13 / 0.07) = 0.0633)
    assert rows["rg (greml)"]["BAG_FS"] == rows["rg (greml)"]["BAG_RNCE"] == ""
    assert rows["rg (greml)"]["difference"] == \
        "rg 0.870 (SE 0.070); p(rg = 0) 1e-20, p(rg = 1) 0.06329"
    auc = rows["AUC conversion_2y"]
    assert (auc["BAG_FS"], auc["BAG_RNCE"]) == ("0.52", "0.62")
    assert auc["difference"].startswith("-0.100")
    loci = {(x["chromosome"], x["found in"]) for x in out["loci"]}
    assert loci == {("17", "BAG_FS, BAG_RNCE"), ("2", "BAG_RNCE")}
    assert (tmp_path / "fig").is_dir() and any((tmp_path / "fig").iterdir())
    # with the joint bivariate fit's SE of the difference in rg.tsv, that SE is used: the
    # two BAGs' estimates are correlated (issue 30: 0.302 joint against 0.451 independent)
    pd.read_csv(rg, sep="\t").assign(h2_diff_se=[0.03]).to_csv(rg, sep="\t", index=False)
    rows = {r["quantity"]: r for r in compare_bags(found, "BAG_FS", "BAG_RNCE",
                                                   tmp_path / "fig2")["rows"]}
    assert rows["h2 (greml)"]["difference"] == "+0.180 (SE 0.030, joint bivariate GREML)"
    # with the bivariate fit's own h2s, the difference is theirs (at small n they differ
    # from the univariate fits': 0.125 / 0.053 vs 0.163 / 0.000 on 1000 Genomes)
    pd.read_csv(rg, sep="\t").assign(h2_1=[0.40], h2_2=[0.25]).to_csv(rg, sep="\t",
                                                                       index=False)
    rows = {r["quantity"]: r for r in compare_bags(found, "BAG_FS", "BAG_RNCE",
                                                   tmp_path / "fig3")["rows"]}
    assert rows["h2 (greml)"]["difference"] == \
        "+0.150 (SE 0.030; joint bivariate GREML, whose h2 are 0.400 and 0.250)"


def test_headline_figure_draws_mae_h2_and_rg_per_representation():
    t = pd.DataFrame({"representation": ["FS", "RNCE", "ORACLE_HIDDEN (oracle: reads truth)"],
                      "mae": [3.7, 4.1, 5.0], "h2": [0.42, 0.24, 0.5],
                      "h2_se": [0.06, 0.06, 0.05], "rg": [np.nan, 0.87, 0.6],
                      "rg_se": [np.nan, 0.07, 0.1]})
    fig = plots.headline(t)
    mae, h2, rg = fig.axes
    assert [round(b.get_width(), 6) for b in mae.patches] == [3.7, 4.1, 5.0]
    assert [round(b.get_width(), 6) for b in h2.patches] == [0.42, 0.24, 0.5]
    assert [b.get_hatch() for b in h2.patches] == ["", "", "//"]  # the oracle row marked
    assert [x.get_text() for x in mae.get_yticklabels()] == list(t["representation"])
    points = np.asarray(rg.lines[0].get_xdata(), dtype=float)
    np.testing.assert_allclose(points, [0.87, 0.6])  # FS has no rg with itself
    assert "rg with FS-BAG" in rg.get_xlabel()
