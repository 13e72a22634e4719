"""Regional association data around each lead locus (for LocusZoom-style plots).

For a lead variant, every variant of the summary statistics within +/- ``window_kb``
with its r^2 to the lead, computed from the genotypes (and samples) the GWAS used, and
its genetic map position in centimorgans (NaN where the fileset has none). A ``.bim``
holds Morgans or centimorgans (PLINK accepts either): :func:`centimorgans` tells them
apart per chromosome by the implied recombination rate. The
GWAS stage writes these rows for every lead locus (``regions.tsv.gz``), so the report and
``compare`` draw regional plots without the genotypes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gwas.config import REGION_WINDOW_KB
from gwas.loci import ld_r2

#: upper edges of LocusZoom's r^2 bins: [0, 0.2), [0.2, 0.4), ..., [0.8, 1]
R2_EDGES = (0.2, 0.4, 0.6, 0.8)
REGION_COLUMNS = ["phenotype", "locus_id", "lead_variant", "chromosome", "position",
                  "variant_id", "rsid", "beta", "standard_error", "p_value", "r2", "cm",
                  "is_lead"]


def r2_bin(r2: np.ndarray) -> np.ndarray:
    """Bin index 0..4 of each r^2 (LocusZoom's five bins); -1 where r^2 is unknown."""
    r2 = np.asarray(r2, dtype=float)
    out = np.digitize(r2, R2_EDGES)
    return np.where(np.isnan(r2), -1, out)


#: a chromosome whose .bim map implies less than this many "cM" per Mb holds Morgans: human
#: maps average about 1.2 cM/Mb per chromosome (0.9-2.5), Morgans read as cM 0.009-0.025
MORGANS_BELOW_CM_PER_MB = 0.2


def centimorgans(position: np.ndarray, genetic: np.ndarray) -> tuple[np.ndarray, str]:
    """A chromosome's ``.bim`` genetic positions in centimorgans, and the unit found.

    Parameters
    ----------
    position, genetic : ndarray, shape (m,)
        Base-pair and genetic positions of one chromosome's variants (0 = no map).

    Returns
    -------
    (ndarray of shape (m,), str)
        Centimorgans (NaN where unmapped) and ``"cM"``, ``"Morgans"`` or ``"none"``.
    """
    g = np.where(np.asarray(genetic, float) > 0, np.asarray(genetic, float), np.nan)
    ok = ~np.isnan(g)
    if ok.sum() < 2:
        return g, "none"
    span_mb = np.ptp(np.asarray(position, float)[ok]) / 1e6
    span = np.nanmax(g) - np.nanmin(g)
    if span_mb <= 0 or span <= 0:
        return g, "none"
    if span / span_mb < MORGANS_BELOW_CM_PER_MB:
        return g * 100, "Morgans"
    return g, "cM"


def locus_region(ssf: pd.DataFrame, reader, chromosome: str, position: int,
                 window_kb: int = REGION_WINDOW_KB, samples: np.ndarray | None = None
                 ) -> pd.DataFrame:
    """Variants of ``ssf`` within ``window_kb`` of the lead at ``chromosome:position``.

    Parameters
    ----------
    ssf
        GWAS-SSF table (one row per variant).
    reader
        :class:`gwas.plink_io.BedReader` (or ``MultiBedReader``) of the GWAS genotypes.
    samples
        Row indices into the reader's ``.fam`` of the samples the GWAS used.

    Returns
    -------
    DataFrame, shape (n_window, 10)
        ``chromosome position variant_id rsid beta standard_error p_value r2 cm is_lead``,
        sorted by position; ``r2`` is NaN for a variant not found in the genotypes.
    """
    chrom = str(chromosome)
    near = ssf[(ssf["chromosome"].astype(str) == chrom)
               & ((ssf["base_pair_location"] - position).abs() <= window_kb * 1000)]
    near = near.sort_values("base_pair_location")
    bim = reader.bim
    on_chrom = bim[bim["chromosome"].astype(str) == chrom]
    row_of = dict(zip(on_chrom["position"].astype(int), on_chrom.index, strict=True))
    cm, _unit = centimorgans(on_chrom["position"].to_numpy(), on_chrom["cm"].to_numpy())
    cm_of = dict(zip(on_chrom["position"].astype(int), cm, strict=True))
    rows = np.array([row_of.get(int(p), -1) for p in near["base_pair_location"]])
    r2 = np.full(len(near), np.nan)
    lead_row = row_of.get(int(position))
    if lead_row is not None:
        have = rows >= 0
        g = reader.read(np.concatenate([[lead_row], rows[have]]), samples)
        r2[have] = ld_r2(g[0], g[1:])
    cm = np.array([cm_of.get(int(p), np.nan) for p in near["base_pair_location"]])
    is_lead = near["base_pair_location"].to_numpy() == position
    r2[is_lead] = 1.0
    return pd.DataFrame({
        "chromosome": chrom, "position": near["base_pair_location"].to_numpy(dtype="int64"),
        "variant_id": near["variant_id"].to_numpy(), "rsid": near["rsid"].to_numpy(),
        "beta": near["beta"].to_numpy(dtype=float),
        "standard_error": near["standard_error"].to_numpy(dtype=float),
        "p_value": near["p_value"].to_numpy(dtype=float), "r2": r2,
        "cm": cm, "is_lead": is_lead})


def recombination_rate(region: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """cM/Mb between consecutive mapped variants: (midpoints in bp, rates); empty when
    the fileset carries no genetic map (all cM 0 or missing)."""
    m = region.dropna(subset=["cm"]).sort_values("position")
    pos, cm = m["position"].to_numpy(dtype=float), m["cm"].to_numpy(dtype=float)
    if len(m) < 2 or np.ptp(cm) == 0:
        return np.array([]), np.array([])
    dp = np.diff(pos)
    keep = dp > 0
    rate = np.diff(cm)[keep] / (dp[keep] / 1e6)
    return (pos[:-1][keep] + pos[1:][keep]) / 2, np.clip(rate, 0, None)


def genes_in_window(genes: pd.DataFrame, chromosome: str, start: int, end: int
                    ) -> pd.DataFrame:
    """Genes of the bundled table overlapping ``[start, end]``, with a track row each
    (greedy packing: names and bodies of genes in one row do not overlap)."""
    g = genes[(genes["chromosome"].astype(str) == str(chromosome)) & (genes["stop"] >= start)
              & (genes["start"] <= end)].sort_values("start").copy()
    # a gene occupies its body or its label (about 1/12 of the window), whichever is wider
    label = (end - start) / 12
    ends: list[float] = []
    track = []
    for s, e in zip(g["start"], g["stop"], strict=True):
        mid = (max(s, start) + min(e, end)) / 2
        left, right = min(s, mid - label / 2), max(e, mid + label / 2)
        for i, last in enumerate(ends):
            if left > last:
                ends[i] = right
                track.append(i)
                break
        else:
            ends.append(right)
            track.append(len(ends) - 1)
    g["track"] = track
    return g
