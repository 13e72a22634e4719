"""Parsers of FreeSurfer stats files and of ``asegstats2table``/``aparcstats2table`` tables.

Files are parsed by header names, never by column position: the ``# ColHeaders`` line
names the columns of the fixed-width table and ``# Measure key, name, description,
value, units`` lines give the global measures. Known version quirks:

- FS 6 writes ``# Measure Cortex, CortexVol Total cortical gray matter volume, ...``
  with a comma missing between the name and the description;
- FS <= 6 names ``Left-Thalamus-Proper``, FS 7 ``Left-Thalamus`` (normalised to the latter);
- the ``BrainVolStatsFixed`` comment line appears in FS 7 files only;
- volumes are always ``Volume_mm3``: ``NVoxels`` is wrong for sub-millimetre voxels.

Feature names (the ``freesurfer_features`` table): ``aseg.<structure>.volume``,
``<atlas>.<hemi>.<region>.thickness|area|volume`` with atlas ``aparc``,
``aparc.a2009s`` or ``aparc.DKTatlas``, ``global.<measure>`` and ``eTIV``.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rnce_bag.core.errors import InputError

#: FS <= 6 structure names and their FS 7 equivalents.
STRUCTURE_RENAMES = {"Left-Thalamus-Proper": "Left-Thalamus",
                     "Right-Thalamus-Proper": "Right-Thalamus"}
ATLASES = ("aparc", "aparc.a2009s", "aparc.DKTatlas")
APARC_MEASURES = {"ThickAvg": "thickness", "SurfArea": "area", "GrayVol": "volume"}
ETIV_NAMES = ("eTIV", "EstimatedTotalIntraCranialVol", "IntraCranialVol", "ICV")


@dataclass(frozen=True)
class Measure:
    """One ``# Measure`` line."""

    key: str
    name: str
    description: str
    value: float
    units: str


@dataclass
class StatsFile:
    """A parsed FreeSurfer stats file.

    Attributes
    ----------
    path
        The file.
    measures
        ``# Measure`` lines by name (``eTIV``, ``MeanThickness``, ...).
    header
        Other ``# key value`` header lines (``subjectname``, ``hemi``, ``cvs_version``).
    table
        The data rows with the ``# ColHeaders`` names as columns, numbers converted.
    """

    path: Path
    measures: dict[str, Measure] = field(default_factory=dict)
    header: dict[str, str] = field(default_factory=dict)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def fs_version(self) -> str | None:
        """The ``cvs_version`` header (``7.2.0-beta``; FS 6 writes a CVS ``$Id`` string)."""
        return self.header.get("cvs_version")


_MEASURE_RE = re.compile(r"^#\s*Measure\s+(.*)$")


def _parse_measure(text: str, path: Path, lineno: int) -> Measure:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 4:  # FS 6 quirk: "CortexVol Total cortical gray matter volume"
        key, name_desc, value, units = parts
        name, _, desc = name_desc.partition(" ")
    elif len(parts) >= 5:
        key, name, desc, value, units = parts[0], parts[1], ", ".join(parts[2:-2]), \
            parts[-2], parts[-1]
    else:
        raise InputError(
            f"{path}, line {lineno}: malformed '# Measure' line (expected 'key, name, "
            f"description, value, units'): {text.strip()!r}",
            hint="the stats file is damaged; rerun FreeSurfer's stats step for this subject",
        )
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"{path}, line {lineno}: measure '{name}' has a non-numeric value "
                         f"{value!r}") from None
    return Measure(key, name, desc.strip(), number, units)


def parse_stats(path: str | os.PathLike[str]) -> StatsFile:
    """Parse any FreeSurfer ``*.stats`` file (aseg, aparc*, wmparc, brainvol).

    Raises
    ------
    InputError
        Missing/unreadable file, malformed ``# Measure`` line, a table without
        ``# ColHeaders``, or a row whose field count differs from the header's.
    """
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8", errors="strict").splitlines()
    except FileNotFoundError:
        raise InputError(f"FreeSurfer stats file '{p}' not found",
                         hint="check freesurfer_dir in the manifest") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"FreeSurfer stats file '{p}' cannot be read: {exc}") from None
    out = StatsFile(p)
    columns: list[str] | None = None
    rows: list[list[str]] = []
    row_lines: list[int] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line.startswith("#"):
            m = _MEASURE_RE.match(line)
            if m:
                meas = _parse_measure(m.group(1), p, lineno)
                out.measures.setdefault(meas.name, meas)
                continue
            body = line[1:].strip()
            if body.startswith("ColHeaders"):
                columns = body.split()[1:]
                continue
            key, _, value = body.partition(" ")
            if key and key not in ("TableCol",):
                out.header.setdefault(key, value.strip())
            continue
        if columns is None:
            raise InputError(
                f"{p}, line {lineno}: data row before any '# ColHeaders' line",
                hint="the file is truncated or not a FreeSurfer stats file",
            )
        fields = line.split()
        if len(fields) != len(columns):
            raise InputError(
                f"{p}, line {lineno}: expected {len(columns)} fields ({' '.join(columns)}), "
                f"found {len(fields)}: {line.strip()[:80]!r}",
                hint="the row is malformed or truncated; rerun FreeSurfer's stats step",
            )
        rows.append(fields)
        row_lines.append(lineno)
    if columns is None:
        if out.measures:  # brainvol.stats has measures only
            return out
        raise InputError(f"{p}: no '# ColHeaders' line and no '# Measure' lines",
                         hint="is this a FreeSurfer stats file?")
    table = pd.DataFrame(rows, columns=columns)
    for col in table.columns:
        if col == "StructName":
            continue
        conv = pd.to_numeric(table[col], errors="coerce")
        bad = conv.isna()
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(f"{p}, line {row_lines[i]}: column '{col}' is not a number "
                             f"({table[col].iloc[i]!r})")
        table[col] = conv
    if "StructName" in table.columns:
        table["StructName"] = table["StructName"].replace(STRUCTURE_RENAMES)
    out.table = table
    return out


def etiv(stats: StatsFile) -> float | None:
    """eTIV from a file's measures (``EstimatedTotalIntraCranialVol``), if present."""
    for name in ("eTIV", "IntraCranialVol"):
        if name in stats.measures:
            return stats.measures[name].value
    return None


def aseg_features(stats: StatsFile) -> dict[str, float]:
    """``aseg.<structure>.volume`` (from ``Volume_mm3``) and ``global.<measure>``."""
    if "Volume_mm3" not in stats.table.columns or "StructName" not in stats.table.columns:
        raise InputError(f"{stats.path}: expected columns Volume_mm3 and StructName in an "
                         f"aseg-type table, found {list(stats.table.columns)}")
    feats = {f"aseg.{s}.volume": float(v)
             for s, v in zip(stats.table["StructName"], stats.table["Volume_mm3"], strict=True)}
    for name, meas in stats.measures.items():
        if name in ETIV_NAMES or (meas.units == "unitless" and "Holes" in name):
            continue
        feats[f"global.{name}"] = meas.value
    return feats


def aparc_features(stats: StatsFile, atlas: str = "aparc", hemi: str | None = None
                   ) -> dict[str, float]:
    """``<atlas>.<hemi>.<region>.thickness|area|volume`` and the hemisphere's globals."""
    hemi = hemi or stats.header.get("hemi")
    if hemi not in ("lh", "rh"):
        raise InputError(f"{stats.path}: cannot tell the hemisphere (no '# hemi' header)",
                         hint="name the file lh.*.stats or rh.*.stats")
    missing = [c for c in ("StructName", *APARC_MEASURES) if c not in stats.table.columns]
    if missing:
        raise InputError(f"{stats.path}: missing column(s) {', '.join(missing)} in an "
                         f"aparc-type table; found {list(stats.table.columns)}")
    feats: dict[str, float] = {}
    for _, row in stats.table.iterrows():
        for col, label in APARC_MEASURES.items():
            feats[f"{atlas}.{hemi}.{row['StructName']}.{label}"] = float(row[col])
    for name in ("MeanThickness", "WhiteSurfArea", "NumVert"):
        if name in stats.measures:
            feats[f"global.{hemi}.{name}"] = stats.measures[name].value
    return feats


def subject_features(stats_dir: str | os.PathLike[str], atlases: tuple[str, ...] = ("aparc",)
                     ) -> tuple[dict[str, float], dict[str, str]]:
    """All features of one subject's ``stats/`` folder.

    Returns
    -------
    features : dict
        Feature name -> value, with ``eTIV``.
    info : dict
        ``fs_version`` and the files read.
    """
    d = Path(stats_dir)
    aseg = parse_stats(d / "aseg.stats")
    feats = aseg_features(aseg)
    value = etiv(aseg)
    files = [str(d / "aseg.stats")]
    for atlas in atlases:
        if atlas not in ATLASES:
            raise InputError(f"unknown atlas {atlas!r}; expected one of {', '.join(ATLASES)}")
        for hemi in ("lh", "rh"):
            path = d / f"{hemi}.{atlas}.stats"
            st = parse_stats(path)
            feats.update(aparc_features(st, atlas, hemi))
            files.append(str(path))
            value = value if value is not None else etiv(st)
    if value is None:
        raise InputError(f"{d}: no eTIV (EstimatedTotalIntraCranialVol) in aseg.stats",
                         hint="run FreeSurfer with --etiv (recon-all does by default)")
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{d / 'aseg.stats'}: eTIV (EstimatedTotalIntraCranialVol) is "
                         f"{value!r}, not a positive volume",
                         hint="FreeSurfer's eTIV step failed for this subject: rerun "
                              "mri_segstats --etiv, or pass --skip-missing to leave such "
                              "subjects out (listed in features_report.json)")
    feats["eTIV"] = value
    return feats, {"fs_version": aseg.fs_version or "", "files": ";".join(files)}


def read_stats_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read an ``asegstats2table`` / ``aparcstats2table`` output into feature columns.

    The first column (``Measure:volume``, ``lh.aparc.thickness``, ...) holds subject
    IDs; other columns are renamed to this project's feature names: aseg structures to
    ``aseg.<s>.volume``, ``lh_<region>_<measure>`` to ``<atlas>.lh.<region>.<measure>``,
    ``lh_MeanThickness_thickness`` to ``global.lh.MeanThickness``, eTIV to ``eTIV``.
    """
    p = Path(path)
    try:
        df = pd.read_csv(p, sep=None, engine="python")
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"stats table '{p}' cannot be parsed: {exc}") from None
    first = str(df.columns[0])
    m = re.fullmatch(r"(lh|rh)\.(aparc(?:\.a2009s|\.DKTatlas)?)\.(thickness|area|volume)", first)
    if m is None and not first.lower().startswith("measure"):
        raise InputError(f"{p}: first column {first!r} is not an asegstats2table "
                         f"('Measure:volume') or aparcstats2table ('lh.aparc.thickness') header")
    renamed = {first: "IID"}
    for col in df.columns[1:]:
        c = str(col)
        if c in ETIV_NAMES:
            renamed[c] = "eTIV"
        elif m is not None:
            hemi, atlas, measure = m.groups()
            body = c[len(hemi) + 1:] if c.startswith(f"{hemi}_") else c
            region = body[: -(len(measure) + 1)] if body.endswith(f"_{measure}") else body
            if region in ("MeanThickness", "WhiteSurfArea", "NumVert"):
                renamed[c] = f"global.{hemi}.{region}"
            else:
                renamed[c] = f"{atlas}.{hemi}.{region}.{measure}"
        elif c.endswith("Vol") or c.endswith("Vol-to-eTIV") or c.startswith(("lh", "rh")):
            renamed[c] = f"global.{c}"
        else:
            renamed[c] = f"aseg.{STRUCTURE_RENAMES.get(c, c)}.volume"
    out = df.rename(columns=renamed)
    out["IID"] = out["IID"].astype(str)
    return out
