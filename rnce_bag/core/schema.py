"""Validation of tables against their declared schemas (:mod:`rnce_bag.core.tables`).

Shape convention: a table is a :class:`pandas.DataFrame` with one row per subject
(or per variant / locus / cell type) and named columns. Every stage reads its inputs
through :func:`read_table` or :func:`validate_frame`, which raise
:class:`~rnce_bag.core.errors.SchemaError` naming the file, the column and the first
bad row, with how to fix it. Rows are reported 1-based among data rows, plus the file
line for delimited text (header on line 1).

``pandas`` is imported inside functions so that importing this module stays cheap
(``rnce-bag --help`` must be instant).
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from rnce_bag.core.errors import SchemaError
from rnce_bag.core.tables import (  # noqa: F401 (the declarations, re-exported)
    NA_TOKENS,
    SCHEMAS,
    Column,
    Kind,
    TableSchema,
)

if TYPE_CHECKING:
    import pandas as pd


def get_schema(name: str) -> TableSchema:
    """Look up a registered schema by name."""
    try:
        return SCHEMAS[name]
    except KeyError:
        raise KeyError(
            f"'get_schema': parameter 'name': expected one of {sorted(SCHEMAS)}, found {name!r}"
        ) from None


def _where(source: str, row: int, header_lines: int | None) -> str:
    loc = f"row {row + 1}"
    if header_lines is not None:
        loc += f" (line {row + 1 + header_lines})"
    return f"{source}, {loc}"


def _coerce(
    raw: pd.Series, col: Column, name: str, source: str, header_lines: int | None
) -> pd.Series:
    import numpy as np
    import pandas as pd

    if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
        text = raw.astype("string").str.strip()
        missing = text.isna() | text.isin(NA_TOKENS)
    else:
        text = None
        missing = raw.isna()

    if col.kind == "str":
        values = (text if text is not None else raw.astype("string")).astype(object)
        values = values.where(~missing, None)
    else:
        numeric = pd.to_numeric(text.where(~missing) if text is not None else raw, errors="coerce")
        numeric = numeric.astype("float64")
        bad = numeric.isna() & ~missing
        if not bad.any():
            bad = pd.Series(~np.isfinite(numeric.to_numpy()) & ~missing.to_numpy(), index=raw.index)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise SchemaError(
                f"{_where(source, i, header_lines)}, column '{name}': expected a finite "
                f"{'number' if col.kind == 'float' else 'integer'}, found {raw.iloc[i]!r}",
                hint="fix or remove that value; write NA for a missing one",
            )
        if col.kind == "int":
            frac = (numeric % 1 != 0) & ~missing
            if frac.any():
                i = int(np.flatnonzero(frac.to_numpy())[0])
                raise SchemaError(
                    f"{_where(source, i, header_lines)}, column '{name}': expected an integer, "
                    f"found {raw.iloc[i]!r}"
                )
            values = numeric.astype("Int64")
        else:
            values = numeric

    if not col.nullable and missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        raise SchemaError(
            f"{_where(source, i, header_lines)}, column '{name}': missing value "
            f"({raw.iloc[i]!r}) where one is required",
            hint="fill it in or drop that row",
        )
    present = ~missing
    if col.choices is not None:
        bad = present & ~values.isin(list(col.choices))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise SchemaError(
                f"{_where(source, i, header_lines)}, column '{name}': expected one of "
                f"{', '.join(map(str, col.choices))}, found {raw.iloc[i]!r}"
            )
    if col.kind != "str" and (col.lo is not None or col.hi is not None):
        num = values.astype("float64")
        bad = present & (
            (num < col.lo if col.lo is not None else False)
            | (num > col.hi if col.hi is not None else False)
        )
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise SchemaError(
                f"{_where(source, i, header_lines)}, column '{name}': expected a value in "
                f"[{col.lo}, {col.hi}], found {raw.iloc[i]!r}"
            )
    if col.unique:
        dup = values.duplicated(keep="first") & present
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            first = int(np.flatnonzero((values == values.iloc[i]).to_numpy())[0])
            raise SchemaError(
                f"{_where(source, i, header_lines)}, column '{name}': duplicated value "
                f"{values.iloc[i]!r} (first seen in row {first + 1})",
                hint=f"each {name} must appear once; remove or rename the duplicate",
            )
    return values


def validate_frame(
    df: pd.DataFrame,
    schema: TableSchema | str,
    source: str = "<table>",
    header_lines: int | None = None,
) -> pd.DataFrame:
    """Check ``df`` against ``schema`` and return a copy with typed columns.

    Parameters
    ----------
    df
        Table, shape (n_rows, n_columns); values may still be text.
    schema
        A :class:`TableSchema` or the name of a registered one.
    source
        File name used in messages.
    header_lines
        Lines before the first data row in the file, to report file lines; ``None``
        when the table has no line structure (Parquet, in memory).

    Raises
    ------
    SchemaError
        Naming ``source``, the column and the first bad row.
    """
    import pandas as pd

    schema = get_schema(schema) if isinstance(schema, str) else schema
    names = [str(c) for c in df.columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SchemaError(
            f"{source}: duplicated column name(s) {', '.join(dupes)} in the {schema.name} table",
            hint="each column must appear once in the header",
        )
    missing = [c.name for c in schema.columns if c.required and c.name not in names]
    if missing:
        shown = ", ".join(names[:12]) + (" ..." if len(names) > 12 else "")
        raise SchemaError(
            f"{source}: missing required column(s) {', '.join(missing)} for the "
            f"{schema.name} table; found columns: {shown or '(none)'}",
            hint=f"rename or add the column(s); the {schema.name} table needs "
            + ", ".join(c.name for c in schema.columns if c.required),
        )
    if len(df) == 0 and not schema.allow_empty:
        raise SchemaError(f"{source}: the {schema.name} table has no data rows")
    out = {}
    n_pattern = 0
    exact = {c.name for c in schema.columns}
    for name in names:
        col = schema.column(name)
        if col is None:
            if not schema.allow_extra:
                raise SchemaError(
                    f"{source}: unexpected column '{name}' in the {schema.name} table",
                    hint="remove it or rename it to a documented column",
                )
            out[name] = df[name]
            continue
        if name not in exact:
            n_pattern += 1
        out[name] = _coerce(df[name], col, name, source, header_lines)
    if n_pattern < schema.min_pattern_columns:
        pats = ", ".join(p.name for p in schema.patterns)
        raise SchemaError(
            f"{source}: the {schema.name} table needs at least {schema.min_pattern_columns} "
            f"column(s) matching {pats}, found {n_pattern}"
        )
    return pd.DataFrame(out, index=df.index)


def _check_field_counts(p: Path, sep: str, n_cols: int, columns: list[str]) -> None:
    """Refuse a line with fewer fields than the header (pandas would fill them silently)."""
    import csv
    import gzip

    opener = gzip.open if p.suffix.lower() in (".gz", ".bgz") else open
    with opener(p, "rt", encoding="utf-8", errors="replace", newline="") as fh:
        rows = (csv.reader(fh) if sep == "," else
                (line.split() if sep != "\t" else line.rstrip("\r\n").split("\t")
                 for line in fh))
        for number, fields in enumerate(rows, start=1):
            if number == 1 or not fields or fields == [""]:
                continue
            if len(fields) < n_cols:
                raise SchemaError(f"{p}, line {number}: {len(fields)} field(s) where the "
                                  f"header has {n_cols}: no value for column "
                                  f"{columns[len(fields)]!r}",
                                  hint="give every line one value per column (write NA for "
                                       "a missing value)")


def read_table(
    path: str | os.PathLike[str], schema: TableSchema | str | None = None
) -> pd.DataFrame:
    """Read a TSV/CSV (optionally gzipped) or Parquet table and validate it.

    Delimiter: tab for ``.tsv``/``.txt``/PLINK files, comma for ``.csv``; whitespace
    is tolerated when a text file has no tab. All text cells are read as strings and
    converted by the schema, so ``NA`` and empty cells are missing and ``-9`` is not.
    """
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise SchemaError(f"table file '{p}' not found", hint="check the path")
    if p.is_dir():
        raise SchemaError(f"table path '{p}' is a directory, expected a file")
    suffixes = [s.lower() for s in p.suffixes]
    header_lines: int | None = 1
    try:
        if suffixes and suffixes[-1] == ".parquet":
            df = pd.read_parquet(p)
            header_lines = None
        else:
            sep = "," if ".csv" in suffixes else "\t"
            df = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False, na_filter=False)
            if df.shape[1] == 1 and sep == "\t" and " " in str(df.columns[0]):
                sep = r"\s+"
                df = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False, na_filter=False)
            # pandas renames a repeated header name to 'name.1'; keep the names as written
            # so that validation can report the duplicate.
            header = pd.read_csv(p, sep=sep, header=None, nrows=1, dtype=str,
                                 keep_default_na=False).iloc[0].tolist()
            if len(header) == df.shape[1]:
                df.columns = header
    except pd.errors.EmptyDataError as exc:
        raise SchemaError(f"table file '{p}' is empty", hint="expected a header line") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError, EOFError,
            zlib.error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SchemaError(
            f"table file '{p}' cannot be parsed: {first}",
            hint="expected a tab-separated (.tsv), comma-separated (.csv) or Parquet file "
            "with one header line",
        ) from exc
    if header_lines is not None and len(df):
        _check_field_counts(p, sep, df.shape[1], [str(c) for c in df.columns])
    seen: dict[str, int] = {}
    for k, c in enumerate(map(str, df.columns)):
        if c in seen:
            raise SchemaError(f"table file '{p}': column {c!r} appears twice (columns "
                              f"{seen[c] + 1} and {k + 1} of the header)",
                              hint="give every column a distinct name")
        seen[c] = k
    if schema is None:
        return df
    out = validate_frame(df, schema, source=str(p), header_lines=header_lines)
    return _infer_undeclared(out, get_schema(schema) if isinstance(schema, str) else schema)


def _infer_undeclared(df: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Type the text columns a schema does not declare as ``pandas.read_csv`` would:
    NA tokens missing, numbers numeric, ``True``/``False`` boolean, other text kept."""
    import pandas as pd

    for name in df.columns:
        if schema.column(str(name)) is not None or df[name].dtype != object:
            continue
        col = df[name].where(~df[name].isin(NA_TOKENS), None)
        values = set(col.dropna().unique())
        if values and values <= {"True", "False"}:
            flags = col.map({"True": True, "False": False})
            df[name] = flags.astype(bool) if flags.notna().all() else flags
            continue
        try:
            df[name] = pd.to_numeric(col)
        except (ValueError, TypeError):
            df[name] = col
    return df
