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


Source = Path | tuple[Path, ...]


def parse_representation_args(items: list[str]) -> dict[str, Source]:
    """``["FS=path", "RNCE=path", "FS_RNCE=FS+RNCE"]`` -> ``{"FS": path, ...}`` with checks.

    ``NAME=A+B`` (A and B names given in the same list, and no file of that name) is
    the concatenation of those representations' columns: a tuple of their paths.
    """
    raw: dict[str, str] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise InputError(f"--features {item!r}: expected NAME=PATH, e.g. FS=features.parquet")
        if not _NAME_RE.match(name):
            raise InputError(f"--features {item!r}: NAME must start with a letter and use "
                             f"letters, digits and _ only")
        if name in raw:
            raise InputError(f"--features: representation name {name!r} given twice")
        raw[name] = path
    if not raw:
        raise InputError("give at least one --features NAME=PATH")
    reps: dict[str, Source] = {}
    for name, path in raw.items():
        parts = path.split("+")
        if len(parts) > 1 and not Path(path).exists():
            bad = [p for p in parts if p not in raw or "+" in raw[p]]
            if bad:
                raise InputError(f"--features {name}={path}: {bad[0]!r} is not a "
                                 "representation given by NAME=PATH",
                                 hint="combine representations given in the same command, "
                                      "e.g. --features FS=f.parquet --features RNCE=e.parquet "
                                      "--features FS_RNCE=FS+RNCE")
            reps[name] = tuple(Path(raw[p]) for p in parts)
        else:
            reps[name] = Path(path)
    return reps


def source_paths(reps: dict[str, Source]) -> list[Path]:
    """Every file behind ``reps``, once (for provenance)."""
    out: list[Path] = []
    for src in reps.values():
        for p in (src if isinstance(src, tuple) else (src,)):
            if p not in out:
                out.append(p)
    return out


def load_representation(name: str, path: Source, iids: pd.Series
                        ) -> tuple[np.ndarray, list[str], pd.Series | None, list[str]]:
    """Features of ``iids`` (in that order) from a feature or embedding table.

    A tuple of paths is their column-wise concatenation (column names prefixed with the
    part's file stem; eTIV from the first part that has it).

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
    if isinstance(path, tuple):
        parts = [load_representation(name, p, iids) for p in path]
        etiv = next((e for _, _, e, _ in parts if e is not None), None)
        cols = [f"{p.stem}:{c}" for p, (_, cs, _, _) in zip(path, parts, strict=True)
                for c in cs]
        dropped = [f"{p.stem}:{c}" for p, (_, _, _, ds) in zip(path, parts, strict=True)
                   for c in ds]
        return np.hstack([x for x, _, _, _ in parts]), cols, etiv, dropped
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
