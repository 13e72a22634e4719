"""One schema per table of the data contracts, validated on read.

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
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rnce_bag.core.errors import SchemaError

if TYPE_CHECKING:
    import pandas as pd

Kind = Literal["str", "float", "int"]

#: Text tokens read as missing in every table. ``-9`` is *not* one of them: PLINK's
#: missing phenotype code is accepted only where a reader is told so explicitly.
NA_TOKENS: frozenset[str] = frozenset({"", "NA", "na", "NaN", "nan", "N/A", "."})


@dataclass(frozen=True)
class Column:
    """Declared column of a table.

    Parameters
    ----------
    name
        Exact column name, or a regular expression when used in ``TableSchema.patterns``.
    kind
        ``str``, ``float`` (finite) or ``int``.
    nullable
        Whether missing values (``NA_TOKENS`` / NaN) are allowed.
    unique
        Whether values must be unique (subject IDs).
    choices
        Allowed values (after conversion to ``kind``), or ``None``.
    lo, hi
        Inclusive bounds for numeric columns.
    required
        Whether the column must be present.
    """

    name: str
    kind: Kind = "str"
    nullable: bool = False
    unique: bool = False
    choices: tuple[object, ...] | None = None
    lo: float | None = None
    hi: float | None = None
    required: bool = True


@dataclass(frozen=True)
class TableSchema:
    """A table's declared columns.

    ``patterns`` are ``(regex, Column)`` pairs applying to every column whose full
    name matches; ``min_pattern_columns`` is how many such columns must exist.
    Columns matching neither are rejected when ``allow_extra`` is false.
    """

    name: str
    columns: tuple[Column, ...]
    patterns: tuple[Column, ...] = ()
    min_pattern_columns: int = 0
    allow_extra: bool = True
    description: str = ""
    allow_empty: bool = False

    def column(self, name: str) -> Column | None:
        """The declaration covering column ``name`` (exact first, then patterns)."""
        for col in self.columns:
            if col.name == name:
                return col
        for pat in self.patterns:
            if re.fullmatch(pat.name, name):
                return pat
        return None


_ID = Column("IID", "str", unique=True)

SCHEMAS: dict[str, TableSchema] = {
    s.name: s
    for s in (
        TableSchema(
            "cohort",
            (
                _ID,
                Column("FID", "str"),
                Column("age", "float", lo=0, hi=130),
                Column("sex", "str", choices=("F", "M")),
                Column("site", "str"),
                Column("diagnosis", "str", choices=("CN", "MCI", "AD")),
                Column("amyloid", "int", nullable=True, choices=(0, 1)),
                Column("conversion_years", "float", nullable=True, lo=0),
                Column("followup_years", "float", nullable=True, lo=0, required=False),
                Column("clinical", "int", nullable=True, choices=(0, 1), required=False),
                Column("t1_path", "str", nullable=True, required=False),
                Column("freesurfer_dir", "str", nullable=True, required=False),
            ),
            description="cohort manifest, one row per subject",
        ),
        TableSchema(
            "freesurfer_features",
            (_ID, Column("eTIV", "float", lo=0)),
            patterns=(Column(r"(?!IID$).+", "float"),),
            min_pattern_columns=1,
            allow_extra=False,
            description="FreeSurfer measures, one column per measure",
        ),
        TableSchema(
            "embeddings",
            (_ID,),
            patterns=(Column(r"z\d+", "float"), Column(r"p\d+_z\d+", "float")),
            min_pattern_columns=1,
            allow_extra=False,
            description="image representations z0..z{d-1}",
        ),
        TableSchema(
            "brain_age",
            (_ID, Column("age", "float", lo=0, hi=130), Column("fold", "int", nullable=True)),
            patterns=(
                Column(r"pred_\w+", "float", nullable=True),
                Column(r"bag_\w+", "float", nullable=True),
            ),
            min_pattern_columns=2,
            description="brain age predictions and bias-corrected gaps per representation",
        ),
        TableSchema(
            "gwas_pheno",
            (Column("#FID", "str"), Column("IID", "str", unique=True)),
            patterns=(Column(r"(?!#FID$|IID$).+", "float", nullable=True),),
            min_pattern_columns=1,
            description="PLINK 2 phenotype file",
        ),
        TableSchema(
            "gwas_covar",
            (Column("#FID", "str", required=False), Column("IID", "str", unique=True)),
            patterns=(Column(r"(?!#FID$|IID$).+", "float", nullable=True),),
            min_pattern_columns=1,
            description="PLINK 2 covariate file (numeric, one-hot encoded)",
        ),
        TableSchema(
            "sumstats",
            (
                Column("chromosome", "str"),
                Column("base_pair_location", "int", lo=1),
                Column("effect_allele", "str"),
                Column("other_allele", "str"),
                Column("beta", "float", nullable=True),
                Column("standard_error", "float", nullable=True, lo=0),
                Column("effect_allele_frequency", "float", nullable=True, lo=0, hi=1),
                Column("p_value", "float", nullable=True, lo=0, hi=1),
                Column("variant_id", "str"),
                Column("rsid", "str", nullable=True),
                Column("n", "int", lo=0),
            ),
            description="GWAS-SSF summary statistics",
        ),
        TableSchema(
            "heritability",
            (
                Column("phenotype", "str"),
                Column("method", "str", choices=("greml", "ldsc")),
                Column("backend", "str"),
                Column("h2", "float", nullable=True),
                Column("h2_se", "float", nullable=True, lo=0),
                Column("intercept", "float", nullable=True, required=False),
                Column("n", "int", nullable=True, lo=0, required=False),
                Column("pval", "float", nullable=True, lo=0, hi=1, required=False),
                Column("status", "str"),
            ),
            description="SNP heritability estimates, one row per phenotype",
        ),
        TableSchema(
            "genetic_correlation",
            (
                Column("p1", "str"),
                Column("p2", "str"),
                Column("method", "str", choices=("greml", "ldsc")),
                Column("rg", "float", nullable=True),
                Column("rg_se", "float", nullable=True, lo=0),
                Column("p", "float", nullable=True, lo=0, hi=1),
                Column("n", "int", nullable=True, lo=0),
                Column("status", "str"),
            ),
            description="genetic correlations between phenotype pairs",
        ),
        TableSchema(
            "gwas_summary",
            (
                Column("phenotype", "str", unique=True),
                Column("n_samples", "int", lo=0),
                Column("n_variants", "int", lo=0),
                Column("lambda_gc", "float", nullable=True),
                Column("mean_chi2", "float", nullable=True, lo=0),
                Column("n_genome_wide", "int", lo=0),
                Column("min_p", "float", nullable=True, lo=0, hi=1),
            ),
            description="one row per phenotype of a GWAS",
        ),
        TableSchema(
            "loci",
            (
                Column("phenotype", "str"),
                Column("locus_id", "str"),
                Column("lead_variant", "str"),
                Column("chromosome", "str"),
                Column("position", "int", lo=1),
                Column("p_value", "float", lo=0, hi=1),
                Column("start", "int", lo=0, required=False),
                Column("end", "int", lo=0, required=False),
                Column("genes", "str", nullable=True),
                Column("nearest_gene", "str", nullable=True, required=False),
            ),
            description="lead loci with genes (locus_id counts within a phenotype)",
            allow_empty=True,
        ),
        TableSchema(
            "regions",
            (
                Column("phenotype", "str"),
                Column("locus_id", "str"),
                Column("lead_variant", "str"),
                Column("chromosome", "str"),
                Column("position", "int", lo=1),
                Column("variant_id", "str"),
                Column("rsid", "str", nullable=True),
                Column("beta", "float", nullable=True),
                Column("standard_error", "float", nullable=True, lo=0),
                Column("p_value", "float", nullable=True, lo=0, hi=1),
                Column("r2", "float", nullable=True, lo=0, hi=1.000001),
                Column("cm", "float", nullable=True, lo=0),
            ),
            description="variants around each lead locus with r2 to the lead (and is_lead)",
            allow_empty=True,
        ),
        TableSchema(
            "celltypes",
            (
                Column("dataset", "str"),
                Column("cell_type", "str"),
                Column("beta", "float", nullable=True),
                Column("beta_se", "float", nullable=True, lo=0),
                Column("p_value", "float", nullable=True, lo=0, hi=1),
                Column("method", "str"),
            ),
            description="cell-type enrichment results",
        ),
        TableSchema(
            "genes",
            (Column("gene", "str"), Column("chromosome", "str"), Column("start", "int", lo=0),
             Column("stop", "int", lo=0), Column("n_snps", "int", lo=0),
             Column("z", "float", nullable=True), Column("p", "float", lo=0, hi=1)),
            description="gene-level association (MAGMA-style mean chi^2)",
            allow_empty=True,
        ),
        TableSchema(
            "probe",
            (
                Column("task", "str"),
                Column("representation", "str"),
                Column("n", "int", lo=0),
                Column("n_pos", "int", lo=0),
                Column("auc", "float", nullable=True, lo=0, hi=1),
                Column("ci_low", "float", nullable=True),
                Column("ci_high", "float", nullable=True),
                Column("balanced_accuracy", "float", nullable=True, lo=0, hi=1),
                Column("age_pos", "float", nullable=True, required=False),
                Column("age_neg", "float", nullable=True, required=False),
            ),
            description="linear-probe AUCs (95% DeLong CI) per task and representation",
        ),
        TableSchema(
            "probe_pairs",
            (
                Column("task", "str"),
                Column("rep_a", "str"),
                Column("rep_b", "str"),
                Column("auc_a", "float", nullable=True),
                Column("auc_b", "float", nullable=True),
                Column("auc_diff", "float", nullable=True),
                Column("p_delong", "float", nullable=True, lo=0, hi=1),
                Column("p_holm", "float", nullable=True, lo=0, hi=1, required=False),
            ),
            description="paired DeLong tests between representations (p_holm: Holm-adjusted "
                        "over every test of the table)",
            allow_empty=True,
        ),
        TableSchema(
            "brain_age_figure",
            (_ID, Column("age", "float", lo=0, hi=130)),
            description="per-subject values behind the brain-age figures",
        ),
    )
}


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
