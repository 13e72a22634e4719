"""Representations of the cohort: FreeSurfer feature tables or embedding tables.

Commands that compare representations (``brain-age``, ``probe``) take them as
``--features NAME=PATH``; this module parses those arguments and loads each table
aligned to the manifest's subjects.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from rnce_bag.core.errors import InputError
from rnce_bag.core.schema import read_table, validate_frame

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def parse_representation_args(items: list[str]) -> dict[str, Path]:
    """``["FS=path", "RNCE=path"]`` -> ``{"FS": path, ...}`` with checks."""
    reps: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise InputError(f"--features {item!r}: expected NAME=PATH, e.g. FS=features.parquet")
        if not _NAME_RE.match(name):
            raise InputError(f"--features {item!r}: NAME must start with a letter and use "
                             f"letters, digits and _ only")
        if name in reps:
            raise InputError(f"--features: representation name {name!r} given twice")
        reps[name] = Path(path)
    if not reps:
        raise InputError("give at least one --features NAME=PATH")
    return reps


def load_representation(name: str, path: Path, iids: pd.Series
                        ) -> tuple[np.ndarray, list[str], pd.Series | None, list[str]]:
    """Features of ``iids`` (in that order) from a feature or embedding table.

    Returns
    -------
    X : ndarray, shape (n, p)
    columns : list of str
        The p feature names kept.
    etiv : Series or None
        eTIV by IID when the table has it.
    dropped : list of str
        Columns that are zero for every subject (structures FreeSurfer did not find).

    Raises
    ------
    InputError
        Subjects missing from the table, or a constant (non-zero) column.
    """
    raw = read_table(path)
    schema = "embeddings" if any(re.fullmatch(r"z\d+", str(c)) for c in raw.columns) else \
        "freesurfer_features"
    df = validate_frame(raw, schema, source=str(path),
                        header_lines=None if path.suffix == ".parquet" else 1)
    missing = iids[~iids.isin(df["IID"])]
    if len(missing):
        raise InputError(f"{path}: representation {name} lacks {len(missing)} subject(s) of the "
                         f"manifest, e.g. {', '.join(missing.head(5))}",
                         hint="compute it for every manifest subject or drop them from the "
                              "manifest")
    df = df.set_index("IID").loc[iids.to_numpy()]
    etiv = df["eTIV"].copy() if "eTIV" in df.columns else None
    cols = [c for c in df.columns if c != "eTIV" or schema == "freesurfer_features"]
    x = df[cols].to_numpy(dtype=np.float64)
    sd = x.std(axis=0)
    zero = (sd == 0) & (np.abs(x).max(axis=0) == 0)
    const = (sd == 0) & ~zero
    if const.any():
        col = cols[int(np.flatnonzero(const)[0])]
        raise InputError(f"{path}, column '{col}': constant across all {len(df)} subjects "
                         f"({x[0, cols.index(col)]!r}); it carries no information",
                         hint="remove the column, or check how the representation was made")
    if zero.all():
        raise InputError(f"{path}: every column of representation {name} is zero")
    keep = [c for c, z in zip(cols, zero, strict=True) if not z]
    dropped = [c for c, z in zip(cols, zero, strict=True) if z]
    return x[:, ~zero], keep, etiv, dropped
