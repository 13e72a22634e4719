"""Data files shipped with rnce-bag (gene tables); see PROVENANCE.md beside them."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

GENE_TABLES = {"GRCh37": "NCBI37.3.gene.loc", "GRCh38": "NCBI38.gene.loc"}

#: Symbols in the bundled NCBI tables (c. 2015) renamed by HGNC since.
SYMBOL_UPDATES = {"MRVI1": "IRAG1", "C9orf72": "C9orf72", "FAM63A": "MINDY1",
                  "KIAA0226": "RUBCN", "C10orf2": "TWNK"}


def gene_table_path(build: str = "GRCh37") -> Path:
    """Path of the bundled gene table for ``build`` (GRCh37 or GRCh38)."""
    if build not in GENE_TABLES:
        raise ValueError(f"'gene_table_path': parameter 'build': expected one of "
                         f"{sorted(GENE_TABLES)}, found {build!r}")
    return Path(str(resources.files(__package__) / "genes" / GENE_TABLES[build]))


def load_gene_table(build: str = "GRCh37"):
    """Bundled genes as a DataFrame ``entrez chromosome start stop strand symbol``.

    Coordinates are 1-based inclusive; chromosomes are strings (``1``..``22``,
    ``X``, ``Y``); symbols are updated to current HGNC names (``MRVI1`` -> ``IRAG1``),
    the old symbol kept in ``alias``.
    """
    import pandas as pd

    df = pd.read_csv(gene_table_path(build), sep="\t", header=None, dtype={1: str},
                     names=["entrez", "chromosome", "start", "stop", "strand", "symbol"])
    df["alias"] = df["symbol"].where(df["symbol"].isin(SYMBOL_UPDATES), "")
    df["symbol"] = df["symbol"].replace(SYMBOL_UPDATES)
    return df
