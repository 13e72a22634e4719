"""Per-locus comparison of two BAGs: each lead locus of either, in both.

For every lead locus of ``a`` or ``b`` (``loci.tsv``), the lead variant's beta (95% CI)
and p in each BAG (from their summary statistics), whether the locus replicates in the
other BAG (its lead variant at p < 5e-8: genome-wide, p < 1e-5: suggestive), a forest
plot of the lead effects and the two regional plots stacked on one x axis (the other
BAG's p-values coloured by r^2 with the same lead).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gwas.plots import THRESHOLDS


def _lead_row(ssf: pd.DataFrame, chromosome: str, position: int) -> pd.Series | None:
    hit = ssf[(ssf["chromosome"].astype(str) == str(chromosome))
              & (ssf["base_pair_location"] == position)]
    return hit.iloc[0] if len(hit) else None


def replication(p: float, thresholds: tuple[float, float] = THRESHOLDS) -> str:
    """``genome-wide`` (p below the first threshold, 5e-8 by default), ``suggestive``
    (below the second, 1e-5), ``no`` or ``not tested``."""
    if p is None or not np.isfinite(p):
        return "not tested"
    gw, sugg = thresholds
    return "genome-wide" if p < gw else "suggestive" if p < sugg else "no"


def unique_leads(loci: pd.DataFrame) -> pd.DataFrame:
    """One row per lead variant (chromosome, position): a lead of both BAGs once, its
    ``phenotype`` then naming both (``BAG_FS, BAG_RNCE``), the first one's other fields."""
    if not len(loci):
        return loci
    key = loci["chromosome"].astype(str) + ":" + loci["position"].astype(str)
    found = loci.groupby(key, sort=False)["phenotype"].agg(lambda s: ", ".join(dict.fromkeys(s)))
    first = loci.assign(_key=key).drop_duplicates("_key")
    return first.assign(phenotype=first["_key"].map(found)).drop(columns="_key")


def locus_table(loci: pd.DataFrame, sumstats: dict[str, pd.DataFrame],
                thresholds: tuple[float, float] = THRESHOLDS) -> pd.DataFrame:
    """One row per (lead locus, BAG): the lead variant's estimate in that BAG.

    Parameters
    ----------
    loci
        ``loci.tsv`` rows of the compared phenotypes (``phenotype locus_id lead_variant
        chromosome position nearest_gene``).
    sumstats
        Phenotype -> GWAS-SSF table, for every compared phenotype.

    Returns
    -------
    DataFrame
        ``locus found_in lead_variant chromosome position phenotype beta standard_error
        ci_low ci_high p_value replicates`` (``replicates`` only on the other BAG's row).
    """
    rows = []
    for _, lo in unique_leads(loci).iterrows():
        name = f"{lo['nearest_gene'] or lo['lead_variant']} ({lo['lead_variant']})"
        for ph, ssf in sumstats.items():
            r = _lead_row(ssf, lo["chromosome"], int(lo["position"]))
            beta = float(r["beta"]) if r is not None else np.nan
            se = float(r["standard_error"]) if r is not None else np.nan
            p = float(r["p_value"]) if r is not None else np.nan
            rows.append({"locus": name, "found_in": lo["phenotype"],
                         "lead_variant": lo["lead_variant"], "chromosome": lo["chromosome"],
                         "position": int(lo["position"]), "phenotype": ph, "beta": beta,
                         "standard_error": se, "ci_low": beta - 1.96 * se,
                         "ci_high": beta + 1.96 * se, "p_value": p,
                         "replicates": "" if ph in lo["phenotype"].split(", ")
                         else replication(p, thresholds)})
    return pd.DataFrame(rows, columns=["locus", "found_in", "lead_variant", "chromosome",
                                       "position", "phenotype", "beta", "standard_error",
                                       "ci_low", "ci_high", "p_value", "replicates"])


def other_panel(region: pd.DataFrame, ssf: pd.DataFrame) -> pd.DataFrame:
    """The variants of ``region`` (one locus of one BAG) with the p-values of another BAG
    (``ssf``); r^2 with the lead is the region's (the same genotypes and samples)."""
    keyed = ssf.assign(position=ssf["base_pair_location"].astype("int64"),
                       chromosome=ssf["chromosome"].astype(str))[
        ["chromosome", "position", "p_value", "beta", "standard_error"]]
    out = region.drop(columns=["p_value", "beta", "standard_error"]).merge(
        keyed, on=["chromosome", "position"], how="inner")
    return out.drop_duplicates(["chromosome", "position"])


def compare_loci(a: str, b: str, loci: pd.DataFrame, sumstats: dict[str, pd.DataFrame],
                 regions: pd.DataFrame | None, window_kb: int, save,
                 thresholds: tuple[float, float] = THRESHOLDS) -> dict:
    """Table rows, forest plot and stacked regional plots of every lead locus of a or b.

    ``save(fig, name) -> relative path`` stores a figure (the report's ``_save``).
    """
    from gwas.locus_plots import forest, regional
    from rnce_bag.core.names import file_stem
    from rnce_bag.resources import load_gene_table

    lo = loci[loci["phenotype"].isin([a, b])].sort_values("p_value")
    table = locus_table(lo, {a: sumstats[a], b: sumstats[b]}, thresholds)
    if not len(table):
        return {"rows": [], "forest": None, "regional": []}
    forest_fig = save(forest(table, f"lead variants of {a} and {b} (95% CI)"),
                      f"forest_{file_stem(a)}_{file_stem(b)}")
    figs = []
    genes = load_gene_table("GRCh37")
    for _, r in lo.drop_duplicates(["chromosome", "position"]).iterrows():
        if regions is None:
            break
        reg = regions[(regions["phenotype"] == r["phenotype"])
                      & (regions["locus_id"] == r["locus_id"])]
        if not len(reg):
            continue
        other = b if r["phenotype"] == a else a
        panels = {r["phenotype"]: reg, other: other_panel(reg, sumstats[other])}
        fig = regional([(a, panels[a]), (b, panels[b])], genes, str(r["chromosome"]),
                       int(r["position"]), window_kb, thresholds=thresholds,
                       title=f"{r['phenotype']} lead {r['lead_variant']} "
                             f"({r['nearest_gene']}): {a} above, {b} below")
        figs.append({"src": save(fig, f"regional_{file_stem(a)}_{file_stem(b)}_"
                                      f"{file_stem(r['phenotype'])}_{r['locus_id']}"),
                     "alt": f"{a} and {b} at {r['lead_variant']}"})
    rows = [{"locus": t["locus"], "found in": t["found_in"], "BAG": t["phenotype"],
             "beta (95% CI)": f"{t['beta']:.3g} ({t['ci_low']:.3g}, {t['ci_high']:.3g})",
             "p": f"{t['p_value']:.2g}", "replicates": t["replicates"]}
            for _, t in table.iterrows()]
    return {"rows": rows, "forest": forest_fig, "regional": figs,
            "columns": ["locus", "found in", "BAG", "beta (95% CI)", "p", "replicates"]}
