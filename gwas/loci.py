"""Lead loci: LD clumping of summary statistics and the genes at each locus.

Clumping (PLINK's algorithm): take the most significant remaining variant with
p < ``p_lead`` as a lead; every remaining variant within ``window_kb`` whose r^2 with the
lead (from the genotypes) exceeds ``r2`` joins its clump; repeat. A locus spans its
clumped variants; genes overlapping the span and the gene nearest the lead come from
the bundled gene table (GRCh37 or GRCh38, current HGNC symbols: MRVI1 -> IRAG1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gwas.config import CLUMP_R2, CLUMP_WINDOW_KB, GENOME_WIDE_P
from gwas.plink_io import BedReader
from rnce_bag.resources import load_gene_table


def ld_r2(lead: np.ndarray, others: np.ndarray) -> np.ndarray:
    """r^2 between a (n,) genotype vector and rows of (k, n), NaNs mean-imputed."""
    def fill(a):
        m = np.nanmean(a, axis=-1, keepdims=True)
        return np.where(np.isnan(a), m, a)

    x = fill(lead[None, :])[0]
    y = fill(others)
    x = x - x.mean()
    y = y - y.mean(axis=1, keepdims=True)
    denom = np.sqrt((x**2).sum() * (y**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (y @ x) / denom
    return np.nan_to_num(r**2)


def clump(ssf: pd.DataFrame, reader: BedReader, p_lead: float = GENOME_WIDE_P,
          r2: float = CLUMP_R2, window_kb: int = CLUMP_WINDOW_KB, samples: np.ndarray | None = None,
          max_loci: int | None = None) -> pd.DataFrame:
    """Clump ``ssf`` (GWAS-SSF) with LD from ``reader``; one row per locus, the strongest
    first (greedy by p), at most ``max_loci``.

    Returns
    -------
    DataFrame
        ``locus_id lead_variant chromosome position p_value start end n_variants``.
    """
    bim = reader.bim
    row_of = {(str(c), int(p)): i for i, (c, p) in enumerate(zip(bim["chromosome"],
                                                                  bim["position"], strict=True))}
    sig = ssf[ssf["p_value"] < p_lead].sort_values("p_value")
    taken: set[int] = set()
    rows = []
    for _, lead in sig.iterrows():
        if lead.name in taken:
            continue
        if max_loci is not None and len(rows) >= max_loci:
            break
        chrom, pos = str(lead["chromosome"]), int(lead["base_pair_location"])
        near = ssf[(ssf["chromosome"] == chrom)
                   & ((ssf["base_pair_location"] - pos).abs() <= window_kb * 1000)]
        near = near[~near.index.isin(taken)]
        members = [lead.name]
        if (chrom, pos) in row_of:
            cand = [(i, row_of.get((chrom, int(b)))) for i, b in
                    zip(near.index, near["base_pair_location"], strict=True)]
            cand = [(i, r) for i, r in cand if r is not None and i != lead.name]
            if cand:
                g = reader.read(np.array([row_of[(chrom, pos)]] + [r for _, r in cand]),
                                samples)
                r2s = ld_r2(g[0], g[1:])
                members += [i for (i, _), v in zip(cand, r2s, strict=True) if v > r2]
        taken.update(members)
        span = ssf.loc[members, "base_pair_location"]
        rows.append({"lead_variant": lead["rsid"] if pd.notna(lead["rsid"]) else
                     lead["variant_id"], "chromosome": chrom, "position": pos,
                     "p_value": float(lead["p_value"]), "start": int(span.min()),
                     "end": int(span.max()), "n_variants": len(members)})
    out = pd.DataFrame(rows, columns=["lead_variant", "chromosome", "position", "p_value",
                                      "start", "end", "n_variants"])
    out.insert(0, "locus_id", [f"locus{i + 1}" for i in range(len(out))])
    return out


def annotate_genes(loci: pd.DataFrame, build: str = "GRCh37", flank_kb: int = 0) -> pd.DataFrame:
    """Add ``genes`` (overlapping the locus span +/- flank) and ``nearest_gene`` (to the lead)."""
    genes = load_gene_table(build)
    out = loci.copy()
    overlapping, nearest, distance = [], [], []
    for _, row in loci.iterrows():
        g = genes[genes["chromosome"] == str(row["chromosome"])]
        lo, hi = row["start"] - flank_kb * 1000, row["end"] + flank_kb * 1000
        hit = g[(g["stop"] >= lo) & (g["start"] <= hi)]
        overlapping.append(",".join(sorted(hit["symbol"].unique())) if len(hit) else "")
        if len(g):
            d = np.maximum(0, np.maximum(g["start"] - row["position"], row["position"] - g["stop"]))
            k = int(np.argmin(d.to_numpy()))
            nearest.append(g["symbol"].iloc[k])
            distance.append(int(d.iloc[k]))
        else:
            nearest.append("")
            distance.append(-1)
    out["genes"] = overlapping
    out["nearest_gene"] = nearest
    out["nearest_gene_distance"] = distance
    return out
