"""Figures from tables: Manhattan, QQ, Miami, h2 bars, rg heatmap, brain age, probes.

Every function takes tables (pandas) and returns a matplotlib ``Figure``; nothing is
saved here (the report saves PNG at 200 dpi and SVG). Large GWAS: points with
p > 0.01 are thinned deterministically (a fixed fraction chosen by a hash of the
position, the same on every run); points with p <= 0.01 are never thinned, and the
scatter is rasterised so 10 million variants plot in seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from gwas.config import GENOME_WIDE_P as GENOME_WIDE
from gwas.config import SUGGESTIVE_P as SUGGESTIVE

#: (genome-wide, suggestive) p thresholds; a GWAS run's own (its config's ``genome_wide_p``
#: and ``suggestive_p``) are passed down wherever lines are drawn or loci classed
THRESHOLDS = (GENOME_WIDE, SUGGESTIVE)
COLOURS = ("#1f4e79", "#7fa7d1")


#: one font scale for every figure (the report shows each at the same px per inch), and
#: the Okabe-Ito colour cycle (distinguishable in the common colour-vision deficiencies)
STYLE = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 8,
         "ytick.labelsize": 8, "legend.fontsize": 8, "figure.titlesize": 10,
         "axes.prop_cycle": None}
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000")


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from cycler import cycler

    plt.rcParams.update({**STYLE, "axes.prop_cycle": cycler(color=OKABE_ITO)})
    return plt


def thin(ssf: pd.DataFrame, keep_fraction: float = 0.1, max_p_kept: float = 0.01
         ) -> pd.DataFrame:
    """Deterministic thinning: all variants with p <= ``max_p_kept`` plus a fixed
    ``keep_fraction`` of the others (selected by a hash of chromosome and position)."""
    p = ssf["p_value"].to_numpy(dtype=float)
    strong = ~(p > max_p_kept)
    if keep_fraction >= 1:
        return ssf
    key = (pd.util.hash_pandas_object(ssf[["chromosome", "base_pair_location"]], index=False)
           .to_numpy() % 10_000) / 10_000
    return ssf[strong | (key < keep_fraction)]


def _genome_x(ssf: pd.DataFrame) -> tuple[np.ndarray, list[tuple[str, float]], np.ndarray]:
    chrom = ssf["chromosome"].astype(str)
    order = {str(i): i for i in range(1, 23)} | {"X": 23, "Y": 24, "MT": 25}
    rank = chrom.map(order).fillna(99).to_numpy()
    pos = ssf["base_pair_location"].to_numpy(dtype=float)
    x = np.zeros(len(ssf))
    ticks = []
    offset = 0.0
    for r in np.unique(rank):
        m = rank == r
        span = pos[m].max()
        x[m] = offset + pos[m]
        ticks.append((chrom[m].iloc[0], offset + span / 2))
        offset += span * 1.02
    return x, ticks, rank


def manhattan(ssf: pd.DataFrame, loci: pd.DataFrame | None = None, title: str = "",
              ax=None, invert: bool = False, thin_fraction: float = 0.1,
              thresholds: tuple[float, float] = THRESHOLDS):
    """Manhattan plot; lead loci labelled with their genes (``loci`` from loci.tsv);
    lines at the (genome-wide, suggestive) ``thresholds``."""
    plt = _plt()
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(11, 3.6))
    data = thin(ssf, thin_fraction) if len(ssf) > 200_000 else ssf
    x, ticks, rank = _genome_x(data)
    y = -np.log10(np.clip(data["p_value"].to_numpy(dtype=float), 1e-300, 1))
    colours = np.where(rank % 2 == 1, COLOURS[0], COLOURS[1])
    ax.scatter(x, -y if invert else y, c=colours, s=4, linewidths=0, rasterized=True)
    for thr, style, colour in zip(thresholds, ("-", "--"), ("#c0392b", "#7f8c8d"),
                                  strict=True):
        v = -np.log10(thr)
        ax.axhline(-v if invert else v, color=colour, lw=0.8, ls=style)
    ax.set_xticks([t[1] for t in ticks], [t[0] for t in ticks], fontsize=7)
    ax.set_ylabel("-log10(p)" if not invert else "log10(p)")
    ax.set_xlabel("chromosome")
    ax.set_xlim(0, x.max() * 1.01 if len(x) else 1)
    if loci is not None and len(loci):
        lookup = dict(zip(zip(data["chromosome"].astype(str),
                              data["base_pair_location"].astype(int), strict=True), x, strict=True))
        for _, lo in loci.iterrows():
            key = (str(lo["chromosome"]), int(lo["position"]))
            if key not in lookup:
                continue
            ly = -np.log10(max(float(lo["p_value"]), 1e-300))
            label = lo.get("nearest_gene") or lo.get("lead_variant")
            ax.annotate(str(label), (lookup[key], -ly if invert else ly), fontsize=7,
                        xytext=(0, -10 if invert else 4), textcoords="offset points",
                        ha="center", style="italic")
    if title:
        ax.set_title(title)
    return fig if fig is not None else ax.figure


def qq(p: np.ndarray, title: str = "", ax=None):
    """QQ plot of -log10 p with lambda GC and a 95% band (beta order statistics)."""
    plt = _plt()
    from gwas.sumstats import lambda_gc

    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
    p = np.sort(np.asarray(p, dtype=float)[np.isfinite(p)])
    n = p.size
    k = np.arange(1, n + 1)
    exp = -np.log10(k / (n + 1))
    obs = -np.log10(np.clip(p, 1e-300, 1))
    keep = (p <= 0.01) | (k % max(1, n // 20_000) == 0)
    band = np.flatnonzero(keep)
    band = band[:: max(1, band.size // 5_000)]  # the band is smooth: 5,000 points suffice
    lo = -np.log10(stats.beta.ppf(0.975, k[band], n - k[band] + 1))
    hi = -np.log10(stats.beta.ppf(0.025, k[band], n - k[band] + 1))
    ax.fill_between(exp[band], lo, hi, color="#d5dbdb", lw=0)
    ax.scatter(exp[keep], obs[keep], s=4, c=COLOURS[0], linewidths=0, rasterized=True)
    top = max(exp.max() if n else 1, 1)
    ax.plot([0, top], [0, top], color="#c0392b", lw=0.8)
    ax.set_xlabel("expected -log10 p")
    ax.set_ylabel("observed -log10 p")
    ax.text(0.05, 0.92, f"lambda GC = {lambda_gc(p):.3f}", transform=ax.transAxes)
    if title:
        ax.set_title(title)
    return fig if fig is not None else ax.figure


def miami(a: pd.DataFrame, b: pd.DataFrame, name_a: str, name_b: str,
          loci_a: pd.DataFrame | None = None, loci_b: pd.DataFrame | None = None,
          shared: list[tuple[str, int]] | None = None,
          thresholds: tuple[float, float] = THRESHOLDS):
    """``a`` up, ``b`` down; shared loci marked by vertical lines."""
    plt = _plt()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 5.5), sharex=True)
    manhattan(a, loci_a, ax=top, thresholds=thresholds)
    manhattan(b, loci_b, ax=bottom, invert=True, thresholds=thresholds)
    top.set_ylabel(f"{name_a}\n-log10 p")
    bottom.set_ylabel(f"{name_b}\nlog10 p")
    if shared:
        x, _, _ = _genome_x(thin(a) if len(a) > 200_000 else a)
        data = thin(a) if len(a) > 200_000 else a
        lookup = dict(zip(zip(data["chromosome"].astype(str),
                              data["base_pair_location"].astype(int), strict=True), x, strict=True))
        for key in shared:
            if key in lookup:
                for ax in (top, bottom):
                    ax.axvline(lookup[key], color="#e67e22", lw=0.8, alpha=0.7)
    fig.subplots_adjust(hspace=0.05)
    return fig


def h2_bars(table: pd.DataFrame):
    """h2 with SE per phenotype and method (heritability.tsv)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    t = table.dropna(subset=["h2"])
    labels = [f"{p}\n{m}" for p, m in zip(t["phenotype"], t["method"], strict=True)]
    ax.bar(range(len(t)), t["h2"], yerr=t["h2_se"], color=COLOURS[0], capsize=4)
    ax.set_xticks(range(len(t)), labels, fontsize=8)
    ax.set_ylabel("SNP heritability (h2)")
    ax.axhline(0, color="black", lw=0.6)
    return fig


def kinship(pairs: pd.DataFrame, cutoff: float):
    """KING-robust kinship of the related pairs a GWAS listed (relatives.tsv): a
    histogram, KING's degree boundaries dotted, the removal cutoff red."""
    from gwas.relatedness import DEGREE_BOUNDS

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    k = pairs["kinship"].astype(float).to_numpy()
    ax.hist(k, bins=np.linspace(min(0.03, k.min(initial=0.03)), max(0.55, k.max(initial=0)),
                                60), color=COLOURS[0])
    for bound, deg in DEGREE_BOUNDS:
        ax.axvline(bound, color="grey", ls=":", lw=0.8)
        ax.text(bound, ax.get_ylim()[1] * 0.95, " " + ("3rd", "2nd", "1st")[3 - deg]
                if deg else " dup/MZ", fontsize=7, color="grey", va="top")
    ax.axvline(cutoff, color="#c0392b", lw=1.2, label=f"removal cutoff {cutoff:g}")
    ax.set_xlabel("KING-robust kinship")
    ax.set_ylabel("pairs")
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    return fig


def rg_heatmap(rg: pd.DataFrame):
    """Genetic correlations as a heatmap (rg.tsv), values written in the cells."""
    plt = _plt()
    names = sorted(set(rg["p1"]) | set(rg["p2"]))
    mat = np.eye(len(names))
    for _, r in rg.iterrows():
        i, j = names.index(r["p1"]), names.index(r["p2"])
        mat[i, j] = mat[j, i] = r["rg"]
    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 2, 1.2 * len(names) + 1))
    im = ax.imshow(mat, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{mat[i, j]:.2f}", ha="center", va="center", fontsize=8)
    fig.colorbar(im, ax=ax, label="rg")
    fig.tight_layout()
    return fig


def brain_age(figure_data: pd.DataFrame, rep: str):
    """Predicted vs chronological age before and after bias correction, and BAG by
    diagnosis (figure_data.tsv of ``rnce-bag brain-age``)."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
    age = figure_data["age"]
    for ax, col, label in ((axes[0], f"pred_raw_{rep}", "uncorrected"),
                           (axes[1], f"pred_{rep}", "bias-corrected")):
        ax.scatter(age, figure_data[col], s=4, alpha=0.5, c=COLOURS[0], rasterized=True)
        lims = [age.min(), age.max()]
        ax.plot(lims, lims, color="#c0392b", lw=0.8)
        ax.set_xlabel("chronological age (years)")
        ax.set_ylabel(f"predicted age, {label} (years)")
        r = np.corrcoef(figure_data[col] - age, age)[0, 1]
        ax.set_title(f"{rep}: corr(BAG, age) = {r:+.2f}")
    groups = [g for g in ("CN", "MCI", "AD") if g in set(figure_data["diagnosis"])]
    axes[2].boxplot([figure_data.loc[figure_data["diagnosis"] == g, f"bag_{rep}"]
                     for g in groups], tick_labels=groups)
    axes[2].axhline(0, color="black", lw=0.6)
    axes[2].set_ylabel("brain age gap (years)")
    fig.tight_layout()
    return fig


def probe_aucs(scores: pd.DataFrame):
    """AUC with 95% DeLong CI per task and representation (probe.tsv)."""
    plt = _plt()
    tasks = list(dict.fromkeys(scores["task"]))
    reps = list(dict.fromkeys(scores["representation"]))
    fig, ax = plt.subplots(figsize=(1.8 * len(tasks) + 2, 4))
    width = 0.8 / max(len(reps), 1)
    for k, rep in enumerate(reps):
        s = scores[scores["representation"] == rep].set_index("task").reindex(tasks)
        xs = np.arange(len(tasks)) + k * width
        ax.bar(xs, s["auc"], width, label=rep,
               yerr=[s["auc"] - s["ci_low"], s["ci_high"] - s["auc"]], capsize=3)
    ax.set_xticks(np.arange(len(tasks)) + width * (len(reps) - 1) / 2, tasks)
    ax.set_ylim(0.4, 1.0)
    ax.axhline(0.5, color="black", lw=0.6, ls="--")
    ax.set_ylabel("AUC (95% DeLong CI)")
    ax.legend()
    return fig


def celltype_bars(table: pd.DataFrame):
    """-log10 p per cell type (celltypes.tsv), one panel per dataset and method, with the
    Bonferroni threshold (0.05 / number of cell types) as a line."""
    plt = _plt()
    keys = ["trait", "dataset", "method"] if "trait" in table.columns else ["dataset", "method"]
    groups = list(table.groupby(keys, sort=False))
    fig, axes = plt.subplots(len(groups), 1, figsize=(7, 2.6 * len(groups)), squeeze=False)
    for ax, (key, t) in zip(axes[:, 0], groups, strict=True):
        *trait, dataset, method = key
        t = t.sort_values("p_value")
        y = -np.log10(np.clip(t["p_value"].to_numpy(dtype=float), 1e-300, 1))
        ax.barh(t["cell_type"].astype(str), y, color=COLOURS[0])
        ax.axvline(-np.log10(0.05 / len(t)), color="#c0392b", lw=0.8, ls="--",
                   label="Bonferroni 0.05")
        ax.invert_yaxis()
        ax.set_xlabel("-log10 p (one-sided)")
        ax.set_title(f"{trait[0] + ': ' if trait else ''}{dataset} ({method})", fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


#: Okabe-Ito colours: FS-BAG, learned representations, oracle rows (ceilings, not methods)
HEADLINE_COLOURS = {"reference": "#E69F00", "method": "#0072B2", "oracle": "#999999"}


def headline(table: pd.DataFrame, reference: str = "FS"):
    """The answer first: per representation, brain-age MAE, GREML h2 (+/- SE) and rg with
    the reference BAG (95% CI), one horizontal bar or point per row of
    :func:`report.headline.headline_table`; oracle rows grey and hatched."""
    plt = _plt()
    t = table.reset_index(drop=True)
    names = t["representation"].astype(str).tolist()
    kind = ["oracle" if "oracle" in n else "reference" if n == reference else "method"
            for n in names]
    colours = [HEADLINE_COLOURS[k] for k in kind]
    y = np.arange(len(t))[::-1]
    fig, axes = plt.subplots(1, 3, figsize=(10, 0.42 * len(t) + 1.6), sharey=True)
    panels = (("mae", None, "brain-age MAE (years)"), ("h2", "h2_se", "SNP h2 (GREML, +/- SE)"))
    for ax, (col, se, label) in zip(axes[:2], panels, strict=True):
        v = pd.to_numeric(t.get(col), errors="coerce") if col in t else pd.Series(np.nan,
                                                                                    t.index)
        err = pd.to_numeric(t[se], errors="coerce") if se and se in t else None
        bars = ax.barh(y, v.fillna(0), xerr=None if err is None else err.fillna(0),
                       color=colours, capsize=3, gid=col)
        for bar, k in zip(bars, kind, strict=True):
            bar.set_hatch("//" if k == "oracle" else "")
        ax.set_xlabel(label)
    rg = pd.to_numeric(t["rg"], errors="coerce") if "rg" in t else pd.Series(np.nan, t.index)
    rg_se = pd.to_numeric(t["rg_se"], errors="coerce") if "rg_se" in t else rg * np.nan
    ax = axes[2]
    has = rg.notna().to_numpy()
    ax.errorbar(rg[has], y[has], xerr=1.96 * rg_se[has].fillna(0), fmt="o", color="#333333",
                ms=4, capsize=2, gid="rg")
    ax.axvline(0, color="#777777", lw=0.6)
    ax.axvline(1, color="#777777", lw=0.6, ls=":")
    ax.set_xlim(-1.05, 1.25)
    ax.set_xlabel(f"rg with {reference}-BAG (95% CI)")
    axes[0].set_yticks(y, names)
    fig.tight_layout()
    return fig
