"""Synthetic single-cell specificity table in FUMA format.

``GENE`` (symbol) then mean log2 expression per brain cell type then ``Average``.
A disjoint set of genes is made specific to each cell type (strongly up in it), so
that causal variants placed near oligodendrocyte and astrocyte genes give an
enrichment that a gene-property analysis can recover.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CELL_TYPES: tuple[str, ...] = ("astrocytes", "endothelial", "microglia", "neurons",
                               "oligodendrocytes", "OPC")
TARGET_CELL_TYPES: tuple[str, ...] = ("oligodendrocytes", "astrocytes")


def specificity_table(genes: list[str], rng: np.random.Generator,
                      specific_fraction: float = 0.08) -> tuple[pd.DataFrame, dict]:
    """Expression table and the genes made specific to each cell type.

    Parameters
    ----------
    genes
        Unique gene symbols, shape (g,).
    rng
        Random generator.
    specific_fraction
        Share of genes specific to each cell type.

    Returns
    -------
    table : DataFrame, shape (g, 2 + n_cell_types)
        ``GENE``, one column per cell type, ``Average`` (log2 scale, 4 decimals).
    specific : dict
        Cell type -> list of its specific genes.
    """
    g = len(genes)
    base = rng.gamma(2.0, 1.2, g)
    expr = base[:, None] + rng.normal(0, 0.35, (g, len(CELL_TYPES)))
    order = rng.permutation(g)
    k = int(round(specific_fraction * g))
    specific = {}
    for j, ct in enumerate(CELL_TYPES):
        idx = order[j * k:(j + 1) * k]
        expr[idx, j] += rng.uniform(2.0, 4.0, idx.size)
        specific[ct] = sorted(genes[i] for i in idx)
    expr = np.clip(expr, 0, None)
    table = pd.DataFrame(np.round(expr, 4), columns=list(CELL_TYPES))
    table.insert(0, "GENE", genes)
    table["Average"] = np.round(expr.mean(axis=1), 4)
    return table, specific
