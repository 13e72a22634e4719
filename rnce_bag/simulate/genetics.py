"""Planted genetic architecture: causal variants, effect sizes, genetic value.

All causal variants lie inside real gene intervals (bundled GRCh37 gene table): one
in MAPT and one in IRAG1 with large effects, the others spread over genes specific
to oligodendrocytes and astrocytes (``celltype_fraction``) or over other genes.
Effects are drawn on the standardised-genotype scale and rescaled so that the
genetic value has exactly variance ``h2`` in the sample.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnce_bag.core.errors import InputError
from rnce_bag.simulate.celltypes import TARGET_CELL_TYPES
from rnce_bag.simulate.config import GeneticsConfig
from rnce_bag.simulate.genome import PLANTED_LOCI

_LOCUS_TARGET_MAF = {"MAPT": 0.22, "IRAG1": 0.30}


def _genes_with_variants(variants: pd.DataFrame, genes: pd.DataFrame) -> pd.DataFrame:
    """Pairs (variant row, gene symbol) for variants inside gene intervals."""
    rows = []
    for chrom, vsub in variants.groupby("chromosome", sort=False):
        pos = vsub["position"].to_numpy()
        idx = vsub.index.to_numpy()
        gsub = genes[genes["chromosome"] == chrom]
        left = np.searchsorted(pos, gsub["start"].to_numpy(), "left")
        right = np.searchsorted(pos, gsub["stop"].to_numpy(), "right")
        for sym, lo, hi in zip(gsub["symbol"], left, right, strict=True):
            rows.extend((idx[k], sym) for k in range(lo, hi))
    return pd.DataFrame(rows, columns=["row", "gene"])


def choose_causal(variants: pd.DataFrame, genes: pd.DataFrame, specific: dict[str, list[str]],
                  cfg: GeneticsConfig, rng: np.random.Generator) -> pd.DataFrame:
    """Choose the causal variants and their target share of variance.

    Parameters
    ----------
    variants
        All written variants with ``chromosome position maf`` (sorted by position
        within chromosome), index = variant row.
    genes
        Gene table ``chromosome start stop symbol``.
    specific
        Cell type -> its specific gene symbols.
    cfg
        Genetic architecture.
    rng
        Random generator.

    Returns
    -------
    DataFrame
        ``row gene category variance`` per causal variant; MAPT and IRAG1 first.
    """
    pairs = _genes_with_variants(variants, genes)
    maf = variants["maf"]
    out = []
    used_rows: set[int] = set()
    for locus in PLANTED_LOCI:
        cand = pairs[pairs["gene"] == locus.gene]["row"].to_numpy()
        ok = cand[maf.loc[cand].to_numpy() >= cfg.causal_min_maf] if cand.size else cand
        if ok.size == 0:
            ok = cand[maf.loc[cand].to_numpy() >= 0.01] if cand.size else cand
        if ok.size == 0:
            raise InputError(
                f"no common variant inside {locus.gene} (chr{locus.chromosome}:"
                f"{locus.start}-{locus.stop}) to plant the locus on",
                hint="raise genotypes.n_variants or genotypes.locus_sim_fraction",
            )
        best = ok[np.argmin(np.abs(maf.loc[ok].to_numpy() - _LOCUS_TARGET_MAF[locus.name]))]
        var = cfg.mapt_variance if locus.name == "MAPT" else cfg.irag1_variance
        out.append((int(best), locus.gene, locus.name, var))
        used_rows.add(int(best))

    # keep the other causal variants out of the planted loci's neighbourhoods
    near_locus = np.zeros(len(variants), dtype=bool)
    pos = variants["position"].to_numpy()
    chrom = variants["chromosome"].to_numpy()
    for locus in PLANTED_LOCI:
        near_locus |= (chrom == locus.chromosome) & (pos > locus.start - 1_000_000) & (
            pos < locus.stop + 1_000_000)
    eligible = pairs[(maf.loc[pairs["row"]].to_numpy() >= cfg.causal_min_maf)
                     & ~near_locus[variants.index.get_indexer(pairs["row"])]]
    target_genes = {g for ct in TARGET_CELL_TYPES for g in specific.get(ct, [])}
    gene_ct = {g: ct for ct in TARGET_CELL_TYPES for g in specific.get(ct, [])}
    n_other = cfg.n_causal - len(out)
    n_ct = int(round(cfg.celltype_fraction * n_other))
    in_target = eligible[eligible["gene"].isin(target_genes)]
    not_target = eligible[~eligible["gene"].isin(target_genes)]

    def pick(pool: pd.DataFrame, k: int, label) -> None:
        pool = pool[~pool["row"].isin(used_rows)].drop_duplicates("gene")
        pool = pool.drop_duplicates("row")
        take = pool.iloc[rng.permutation(len(pool))[:k]]
        for row, gene in zip(take["row"], take["gene"], strict=True):
            out.append((int(row), gene, label(gene), np.nan))
            used_rows.add(int(row))

    pick(in_target, n_ct, lambda g: f"celltype:{gene_ct[g]}")
    pick(not_target, cfg.n_causal - len(out), lambda g: "other")
    if len(out) < cfg.n_causal:
        pick(in_target, cfg.n_causal - len(out), lambda g: f"celltype:{gene_ct[g]}")
    df = pd.DataFrame(out, columns=["row", "gene", "category", "variance"])
    rest = cfg.h2 - cfg.mapt_variance - cfg.irag1_variance
    n_rest = int(df["variance"].isna().sum())
    weights = rng.exponential(1.0, n_rest)
    df.loc[df["variance"].isna(), "variance"] = rest * weights / weights.sum()
    return df


def genetic_value(dosage: np.ndarray, variance: np.ndarray, h2: float,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Genetic value with sample variance exactly ``h2``.

    Parameters
    ----------
    dosage
        A1 counts of the causal variants, shape (n_samples, n_causal), no missing.
    variance
        Target share of variance per causal variant, shape (n_causal,).
    h2
        Variance of the returned genetic value.
    rng
        Random generator (effect signs).

    Returns
    -------
    g : ndarray, shape (n_samples,)
        Centred genetic value, ``g.var() == h2``.
    beta_std : ndarray, shape (n_causal,)
        Effect per standardised genotype.
    beta_allele : ndarray, shape (n_causal,)
        Effect per copy of A1.
    """
    x = dosage.astype(np.float64)
    mean = x.mean(axis=0)
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    z = (x - mean) / sd
    beta = np.sqrt(variance) * rng.choice([-1.0, 1.0], size=variance.size)
    g = z @ beta
    scale = np.sqrt(h2 / g.var()) if h2 > 0 else 0.0
    g = (g - g.mean()) * scale
    beta_std = beta * scale
    return g, beta_std, beta_std / sd


def white_matter_ageing(dosage: np.ndarray, variance: np.ndarray, g: np.ndarray, cfg,
                        rng: dict[str, np.random.Generator]) -> dict[str, np.ndarray]:
    """The white-matter ageing factor: heritable, genetically correlated with ``g``.

    ``g_w = sqrt(h2_w / h2) (rho g + sqrt(1 - rho^2) g2)`` where ``g2`` comes from a
    second set of effects on the same causal variants (so the loci are shared), made
    exactly orthogonal to ``g`` and scaled to variance ``h2``: the sample genetic
    correlation is ``rho`` and ``Var(g_w) = h2_w``. The factor adds environment of
    variance ``1 - h2_w``.

    Parameters
    ----------
    dosage, variance
        As for :func:`genetic_value`; shapes (n_samples, n_causal) and (n_causal,).
    g
        The latent factor's genetic value, shape (n_samples,), variance ``cfg.h2``.
    cfg
        :class:`~rnce_bag.simulate.config.GeneticsConfig`.
    rng
        The simulator's streams (``wm_effects``, ``wm_environment``).

    Returns
    -------
    dict of ndarray, shape (n_samples,)
        ``wm_genetic_value``, ``wm_environment``, ``wm_factor``.
    """
    n = g.size
    if cfg.h2_wm > 0 and cfg.h2 > 0:
        g2, _, _ = genetic_value(dosage, variance, 1.0, rng["wm_effects"])
        g2 = g2 - g * (g2 @ g) / (g @ g)  # exactly orthogonal to g
        g2 *= np.sqrt(cfg.h2 / g2.var())
        gw = np.sqrt(cfg.h2_wm / cfg.h2) * (cfg.rho_wm * g
                                             + np.sqrt(1 - cfg.rho_wm**2) * g2)
    else:
        rng["wm_effects"].random()  # keep the stream's use independent of the setting
        gw = np.zeros(n)
    e = rng["wm_environment"].normal(0, np.sqrt(1 - cfg.h2_wm), n)
    return {"wm_genetic_value": gw, "wm_environment": e, "wm_factor": gw + e}
