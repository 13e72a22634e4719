"""Figures of one locus: LocusZoom-style regional plots and a forest plot of lead effects.

Pure functions from tables to matplotlib ``Figure`` objects (the report saves them).
Colours: LocusZoom's five r^2 bins (blue to red, distinguishable in the common forms of
colour blindness by lightness as well as hue), grey where r^2 is unknown, the lead a
purple diamond. Artists carry a ``gid`` (``r2bin0``..``r2bin4``, ``r2unknown``, ``lead``,
``gene:<symbol>``) so that tests can read what was drawn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gwas.config import REGION_WINDOW_KB
from gwas.plots import THRESHOLDS, _plt
from gwas.regions import R2_EDGES, genes_in_window, r2_bin, recombination_rate

R2_COLOURS = ("#2c7bb6", "#8ecae6", "#4daf4a", "#fdae61", "#d7191c")
UNKNOWN_COLOUR = "#b0b0b0"
LEAD_COLOUR = "#7b3294"
R2_LABELS = tuple(f"{lo:.1f}-{hi:.1f}" for lo, hi in zip((0.0, *R2_EDGES), (*R2_EDGES, 1.0),
                                                         strict=True))


def _association_panel(ax, region: pd.DataFrame, name: str, legend: bool,
                       thresholds: tuple[float, float] = THRESHOLDS) -> None:
    pos = region["position"].to_numpy(dtype=float) / 1e6
    y = -np.log10(np.clip(region["p_value"].to_numpy(dtype=float), 1e-300, 1))
    lead = region["is_lead"].astype(bool).to_numpy()
    bins = r2_bin(region["r2"].to_numpy(dtype=float))
    for b, colour, label in ((-1, UNKNOWN_COLOUR, "not in genotypes"),
                             *zip(range(5), R2_COLOURS, R2_LABELS, strict=True)):
        m = (bins == b) & ~lead
        if m.any():
            ax.scatter(pos[m], y[m], s=16, c=colour, edgecolors="#555555", linewidths=0.2,
                       label=label, gid="r2unknown" if b < 0 else f"r2bin{b}", zorder=2)
    if lead.any():
        # on top, but hollow: variants in complete LD with the lead (same p) stay visible
        ax.scatter(pos[lead], y[lead], marker="D", s=70, facecolors="none",
                   edgecolors=LEAD_COLOUR, linewidths=1.6, gid="lead", zorder=5)
        ax.scatter(pos[lead], y[lead], s=10, c=LEAD_COLOUR, gid="lead", zorder=5)
        r = region[lead].iloc[0]
        ax.annotate(str(r["rsid"] if isinstance(r["rsid"], str) else r["variant_id"]),
                    (pos[lead][0], y[lead][0]), xytext=(6, 4), textcoords="offset points",
                    fontsize=8)
    for thr, style in zip(thresholds, ("-", "--"), strict=True):
        ax.axhline(-np.log10(thr), color="#7f7f7f", lw=0.7, ls=style, zorder=1)
    ax.set_ylabel(f"{name}\n-log10 p")
    ax.set_ylim(0, max(float(np.nanmax(y)) if len(y) else 1, -np.log10(thresholds[0])) * 1.12)
    mids, rate = recombination_rate(region)
    if len(mids):
        rax = ax.twinx()
        rax.plot(mids / 1e6, rate, color="#3182bd", lw=0.8, alpha=0.7, gid="recombination")
        rax.set_ylabel("recombination (cM/Mb)", fontsize=8, color="#3182bd")
        rax.set_ylim(0, max(float(rate.max()) * 1.1, 1e-6))
    if legend:  # every bin, drawn or not, as LocusZoom's key does
        from matplotlib.lines import Line2D

        def key(colour: str, label: str, marker: str = "o", face: str | None = None):
            return Line2D([], [], ls="", marker=marker, markersize=5, label=label,
                          markerfacecolor=face or colour, markeredgecolor=colour
                          if face == "none" else "#555555", markeredgewidth=0.6)

        handles = [key(c, lab) for c, lab in zip(R2_COLOURS[::-1], R2_LABELS[::-1],
                                                  strict=True)]
        if (bins < 0).any():
            handles.append(key(UNKNOWN_COLOUR, "not in genotypes"))
        handles.append(key(LEAD_COLOUR, "lead", "D", "none"))
        ax.legend(handles=handles, title="r2 with lead", fontsize=7, title_fontsize=7,
                  loc="upper left", frameon=False, ncol=2)


def _gene_track(ax, genes: pd.DataFrame, chromosome: str, start: int, end: int) -> None:
    g = genes_in_window(genes, chromosome, start, end)
    arrow = (end - start) / 1e6 / 80
    for _, r in g.iterrows():
        lo, hi = max(r["start"], start) / 1e6, min(r["stop"], end) / 1e6
        y = -float(r["track"])
        ax.plot([lo, hi], [y, y], color="#333333", lw=3, solid_capstyle="butt",
                gid=f"gene:{r['symbol']}")
        tip, back = (hi, hi - arrow) if r["strand"] == "+" else (lo, lo + arrow)
        ax.annotate("", xy=(tip + (arrow if r["strand"] == "+" else -arrow), y),
                    xytext=(back, y), arrowprops={"arrowstyle": "-|>", "color": "#333333",
                                                  "lw": 0.8})
        ax.text((lo + hi) / 2, y - 0.38, str(r["symbol"]), ha="center", va="top",
                fontsize=7, style="italic", gid=f"gene:{r['symbol']}")
    n = int(g["track"].max()) + 1 if len(g) else 1
    ax.set_ylim(-n + 0.1, 0.6)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if not len(g):
        ax.text(0.5, 0.5, "no genes in the window", transform=ax.transAxes, ha="center",
                fontsize=7, color="#777777")


def regional(panels: list[tuple[str, pd.DataFrame]], genes: pd.DataFrame, chromosome: str,
             lead_position: int, window_kb: int = REGION_WINDOW_KB, title: str = "",
             build: str = "GRCh37", thresholds: tuple[float, float] = THRESHOLDS):
    """Regional association plot(s) on one x axis, a gene track below.

    Parameters
    ----------
    panels
        ``(phenotype, region)`` pairs, one panel each (top to bottom); ``region`` is one
        locus of ``regions.tsv.gz`` (``position p_value r2 cm is_lead rsid variant_id``).
    genes
        The bundled gene table (``chromosome start stop strand symbol``).
    """
    plt = _plt()
    n = len(panels)
    fig, axes = plt.subplots(n + 1, 1, figsize=(7.5, 2.6 * n + 1.4), sharex=True,
                             gridspec_kw={"height_ratios": [3] * n + [1.3]})
    start, end = lead_position - window_kb * 1000, lead_position + window_kb * 1000
    for i, (name, region) in enumerate(panels):
        _association_panel(axes[i], region, name, legend=i == 0, thresholds=thresholds)
    _gene_track(axes[-1], genes, chromosome, max(start, 0), end)
    axes[-1].set_xlim(max(start, 0) / 1e6, end / 1e6)
    axes[-1].set_xlabel(f"chromosome {chromosome} (Mb, {build})")
    if title:
        axes[0].set_title(title)
    fig.subplots_adjust(hspace=0.08)
    return fig


def forest(table: pd.DataFrame, title: str = ""):
    """Lead-variant effects with 95% CIs, one row per (locus, phenotype).

    ``table``: ``locus phenotype beta standard_error p_value`` (one row each).
    """
    plt = _plt()
    t = table.reset_index(drop=True)
    phenos = list(dict.fromkeys(t["phenotype"]))
    colours = dict(zip(phenos, ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e"),
                       strict=False))
    fig, ax = plt.subplots(figsize=(6.5, 0.32 * len(t) + 1.2))
    y = np.arange(len(t))[::-1]
    # arrays, not Series: matplotlib calls float() on one-element Series (a pandas
    # FutureWarning in every compare)
    beta = t["beta"].to_numpy(dtype=float)
    half = 1.96 * t["standard_error"].to_numpy(dtype=float)
    for ph in phenos:
        m = (t["phenotype"] == ph).to_numpy()
        ax.errorbar(beta[m], y[m], xerr=[half[m], half[m]], fmt="o", color=colours[ph], ms=4,
                    capsize=2, label=ph, gid=ph)
    ax.axvline(0, color="#555555", lw=0.7)
    ax.set_yticks(y, [f"{a} ({b})" for a, b in zip(t["locus"], t["phenotype"], strict=True)],
                  fontsize=7)
    ax.set_xlabel("beta per effect allele, 95% CI (phenotype units: years for a BAG)")
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    if title:
        ax.set_title(title)
    return fig
