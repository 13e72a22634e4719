"""report.headline on a hand-made run folder."""

from __future__ import annotations

import json

import pandas as pd

from report.headline import format_headline, headline_table


def _tsv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)


def test_headline_lines_up_every_stage(tmp_path):
    run = tmp_path
    (run / "brain_age").mkdir()
    (run / "brain_age" / "metrics.json").write_text(json.dumps({"representations": {
        "FS": {"train_uncorrected": {"mae": 3.5}},
        "RNCE": {"train_uncorrected": {"mae": 4.25}}}}))
    greml = {"method": "greml", "backend": "embedded", "status": "ok"}
    _tsv(run / "h2" / "heritability.tsv", [
        {"phenotype": "BAG_FS", "h2": 0.4, "h2_se": 0.05, **greml},
        {"phenotype": "BAG_RNCE", "h2": 0.3, "h2_se": 0.06, **greml}])
    _tsv(run / "rg_fs_rnce" / "rg.tsv", [{"p1": "BAG_FS", "p2": "BAG_RNCE", "method": "greml",
                                          "rg": 1.0, "rg_se": 0.1, "p": 1e-9, "n": 500,
                                          "status": "ok; rg at the boundary"}])
    gwas = {"n_samples": 500, "n_variants": 1000, "lambda_gc": 1.0, "mean_chi2": 1.0,
            "min_p": 1e-9}
    _tsv(run / "gwas" / "summary.tsv", [{"phenotype": "BAG_FS", "n_genome_wide": 3, **gwas},
                                        {"phenotype": "BAG_RNCE", "n_genome_wide": 0, **gwas}])
    _tsv(run / "gwas" / "loci.tsv", [{"phenotype": "BAG_FS", "locus_id": "locus1",
                                      "lead_variant": "rs1", "chromosome": "17",
                                      "position": 44_000_000, "p_value": 1e-9,
                                      "genes": "MAPT", "nearest_gene": "MAPT"}])
    _tsv(run / "enrich_fs" / "celltypes.tsv", [
        {"dataset": "d", "cell_type": c, "beta": 0.1, "beta_se": 0.1, "p_value": p,
         "method": "gene-property"} for c, p in (("astro", 0.2), ("oligo", 0.01))])
    _tsv(run / "probe" / "probe.tsv", [
        {"task": "amyloid", "representation": r, "n": 100, "n_pos": 40, "auc": a,
         "ci_low": a - 0.1, "ci_high": a + 0.1, "balanced_accuracy": 0.6}
        for r, a in (("FS", 0.7), ("RNCE", 0.75))])
    _tsv(run / "probe" / "probe_pairs.tsv", [{"task": "amyloid", "rep_a": "FS",
                                              "rep_b": "RNCE", "auc_a": 0.7, "auc_b": 0.75,
                                              "auc_diff": -0.05, "p_delong": 0.03}])
    t = headline_table(run).set_index("representation")
    assert t.loc["FS", "h2"] == 0.4 and pd.isna(t.loc["FS", "rg"])
    assert t.loc["RNCE", "rg"] == 1.0 and t.loc["RNCE", "n_loci"] == 0
    assert t.loc["FS", "lead_loci"] == "MAPT" and t.loc["FS", "top_cell_type"].startswith("oligo")
    assert t.loc["RNCE", "p_amyloid"] == 0.03 and "p_amyloid" not in t.loc["FS"].dropna()
    text = format_headline(headline_table(run))
    lines = text.splitlines()
    assert lines[1].startswith("FS ") and "1 (MAPT)" in lines[1]
    assert "[rg at the boundary]" in lines[2] and "0.750 (p 0.03)" in lines[2]


def test_headline_without_brain_age_is_empty(tmp_path):
    assert headline_table(tmp_path).empty and format_headline(headline_table(tmp_path)) == ""
