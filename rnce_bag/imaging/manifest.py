"""Reading the cohort manifest and resolving the paths it names.

Relative ``t1_path`` and ``freesurfer_dir`` values resolve against the manifest's own
folder, so a cohort directory can be moved as a whole.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from rnce_bag.core.errors import InputError
from rnce_bag.core.schema import Column, TableSchema, read_table, validate_frame

PATH_COLUMNS = ("t1_path", "freesurfer_dir")


def manifest_schema(require: tuple[str, ...]) -> TableSchema:
    """Minimal manifest schema: unique ``IID``, the path columns a command needs, and the
    other path columns as optional (their missing values read as missing, not as the
    text 'NA')."""
    cols = [Column("IID", "str", unique=True)]
    cols += [Column(c, "str", nullable=False) for c in require]
    cols += [Column(c, "str", nullable=True, required=False) for c in PATH_COLUMNS
             if c not in require]
    return TableSchema("manifest", tuple(cols), description="cohort manifest")


def load_manifest(path: str | os.PathLike[str], require: tuple[str, ...] = (),
                  check_exists: bool = True) -> pd.DataFrame:
    """Read a manifest, check IDs, and resolve path columns to absolute paths.

    Parameters
    ----------
    path
        TSV/CSV/Parquet manifest.
    require
        Path columns this command needs (must be present and non-empty).
    check_exists
        Raise when a required path does not exist.

    Raises
    ------
    InputError
        Naming the manifest, the row (file line) and the missing path.
    """
    p = Path(path)
    df = read_table(p)
    df = validate_frame(df, manifest_schema(require), source=str(p),
                        header_lines=None if p.suffix == ".parquet" else 1)
    base = p.resolve().parent
    for col in PATH_COLUMNS:
        if col not in df.columns:
            continue
        resolved = [None if v is None or pd.isna(v) else str((base / str(v)).resolve())
                    if not os.path.isabs(str(v)) else str(v) for v in df[col]]
        df[col] = resolved
    if check_exists:
        for col in require:
            for i, value in enumerate(df[col]):
                if not Path(value).exists():
                    raise InputError(
                        f"{p}, row {i + 1} (line {i + 2}), subject {df['IID'].iloc[i]}: "
                        f"{col} '{value}' does not exist",
                        hint="fix the path (relative paths resolve against the manifest's "
                             "folder) or remove the subject",
                    )
    return df


def check_t1_headers(manifest: pd.DataFrame, source: str | os.PathLike[str]) -> None:
    """Check every ``t1_path`` is a non-empty file with a readable NIfTI header.

    Cheap (headers only), so a damaged image is found before training starts rather
    than when its batch comes up, possibly after a whole stage.

    Raises
    ------
    InputError
        Naming the manifest row, the subject and the file.
    """
    import nibabel as nib

    for i, (iid, value) in enumerate(zip(manifest["IID"], manifest["t1_path"], strict=True)):
        p = Path(value)
        where = f"{source}, row {i + 1} (line {i + 2}), subject {iid}: t1_path '{p}'"
        if not p.is_file() or p.stat().st_size == 0:
            raise InputError(f"{where} is {'empty (0 bytes)' if p.is_file() else 'not a file'}",
                             hint="re-export the image or remove the subject from the manifest")
        try:
            nib.load(p)
        except Exception as exc:  # nibabel raises many types for damaged headers
            raise InputError(f"{where} has no readable NIfTI header: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                             hint="re-export the image or remove the subject from the "
                                  "manifest") from None
