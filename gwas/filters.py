"""Sample and variant filters with PLINK's semantics: ``--keep``/``--remove``,
``--extract``/``--exclude`` and ``--chr``.

- Sample lists: one sample per line, whitespace-separated; two or more columns are
  ``FID IID`` (PLINK 1), one column is ``IID``; a header line starting with ``#`` (``#FID
  IID``, ``#IID``) or naming ``FID``/``IID`` is skipped. Two-column entries match on both
  IDs where the genotypes carry a family ID, else on IID. A one-column list matches on
  IID (PLINK 2 would give such lines the family ID '0', which matches nothing in a .fam
  whose FIDs are set, silently). IDs are text (``007`` is not ``7``).
- Variant lists: one variant ID per line, or one range per line, ``chr:start-end``
  (1-based, inclusive; PLINK's ``--extract range`` in one token); IDs and ranges may be
  mixed. ``--extract`` keeps variants matching any line, ``--exclude`` drops them.
- ``--chr``: chromosomes and ranges of them, ``1-5,7,22`` (``chr`` prefixes accepted).

Pure functions over the sample table (``FID IID``) and the variant table (``chromosome
position variant_id``); the engines apply the resulting masks and the run report gets
the counts each filter removed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rnce_bag.core.errors import InputError

_RANGE = re.compile(r"^(?:chr)?([0-9A-Za-z]+):(\d+)-(\d+)$")


@dataclass
class Filters:
    """The filter options of one command (each may be absent)."""

    keep: Path | None = None
    remove: Path | None = None
    extract: Path | None = None
    exclude: Path | None = None
    chr: str | None = None

    def __post_init__(self) -> None:
        for name in ("keep", "remove", "extract", "exclude"):
            value = getattr(self, name)
            if value is not None:
                p = Path(value)
                if not p.is_file():
                    raise InputError(f"--{name} file '{p}' not found")
                setattr(self, name, p)
        if self.chr is not None:
            parse_chromosomes(self.chr)  # fail fast on a bad --chr

    @property
    def samples(self) -> bool:
        return self.keep is not None or self.remove is not None

    @property
    def variants(self) -> bool:
        return any(x is not None for x in (self.extract, self.exclude, self.chr))

    def config(self) -> dict:
        return {k: None if v is None else str(v) for k, v in vars(self).items()}


def _normal_chrom(text: str) -> str:
    c = text.strip().removeprefix("chr").removeprefix("CHR")
    return {"23": "X", "24": "Y", "26": "MT", "M": "MT"}.get(c, c)


def parse_chromosomes(text: str) -> set[str]:
    """``'1-3,X,chr22'`` -> ``{'1', '2', '3', 'X', '22'}``."""
    out: set[str] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        if sep:
            a, b = _normal_chrom(lo), _normal_chrom(hi)
            if not (a.isdigit() and b.isdigit() and int(a) <= int(b)):
                raise InputError(f"--chr: cannot read the range {part!r}",
                                 hint="use numbers and ranges such as 1-5,7,22")
            out.update(str(i) for i in range(int(a), int(b) + 1))
        else:
            out.add(_normal_chrom(part))
    if not out:
        raise InputError(f"--chr {text!r} names no chromosome", hint="e.g. --chr 1-22")
    return out


def read_sample_list(path: str | os.PathLike[str]) -> pd.DataFrame:
    """``FID IID`` of a PLINK sample list (``FID`` NA for one-column lines)."""
    rows = []
    p = Path(path)
    for number, line in enumerate(p.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if number == 1 and (fields[0].startswith("#") or fields[0] in ("FID", "IID")):
            continue
        rows.append((fields[0], fields[1]) if len(fields) >= 2 else (pd.NA, fields[0]))
    if not rows:
        raise InputError(f"{p}: no sample in the list",
                         hint="one sample per line: 'FID IID' or 'IID'")
    return pd.DataFrame(rows, columns=["FID", "IID"], dtype=object)


def sample_mask(samples: pd.DataFrame, listed: pd.DataFrame) -> np.ndarray:
    """Which rows of ``samples`` (``FID IID``) a sample list names: (n,) bool."""
    iid = samples["IID"].astype(str)
    has_fid = samples["FID"].notna() & (samples["FID"].astype(str) != "")
    pairs = set(zip(listed["FID"].astype(str), listed["IID"].astype(str), strict=True))
    by_iid = set(listed["IID"].astype(str))
    two = listed["FID"].notna().any()
    if not two:
        return iid.isin(by_iid).to_numpy()
    fid = samples["FID"].astype(str)
    exact = np.array([(f, i) in pairs for f, i in zip(fid, iid, strict=True)])
    return np.where(has_fid.to_numpy(), exact, iid.isin(by_iid).to_numpy())


def filter_samples(samples: pd.DataFrame, flt: Filters) -> tuple[np.ndarray, dict[str, int]]:
    """Mask of the samples kept by ``--keep``/``--remove`` and the counts each removed."""
    keep = np.ones(len(samples), dtype=bool)
    counts: dict[str, int] = {}
    if flt.keep is not None:
        m = sample_mask(samples, read_sample_list(flt.keep))
        counts["samples_removed_keep"] = int((keep & ~m).sum())
        keep &= m
    if flt.remove is not None:
        m = sample_mask(samples, read_sample_list(flt.remove))
        counts["samples_removed_remove"] = int((keep & m).sum())
        keep &= ~m
    if flt.samples and not keep.any():
        raise InputError("--keep/--remove leave no sample",
                         hint="check that the lists hold the genotype files' IDs")
    return keep, counts


@dataclass
class VariantList:
    """IDs and ``(chromosome, start, end)`` ranges of a variant list."""

    ids: set[str] = field(default_factory=set)
    ranges: list[tuple[str, int, int]] = field(default_factory=list)


def read_variant_list(path: str | os.PathLike[str]) -> VariantList:
    """IDs and ``chr:start-end`` ranges, one per line (the first token of each line)."""
    out = VariantList()
    p = Path(path)
    for line in p.read_text().splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        m = _RANGE.match(fields[0])
        if m:
            out.ranges.append((_normal_chrom(m.group(1)), int(m.group(2)), int(m.group(3))))
        else:
            out.ids.add(fields[0])
    if not out.ids and not out.ranges:
        raise InputError(f"{p}: no variant in the list",
                         hint="one variant ID or chr:start-end range per line")
    return out


def variant_list_mask(variants: pd.DataFrame, listed: VariantList) -> np.ndarray:
    """Which rows of ``variants`` (``chromosome position variant_id``) a list names."""
    hit = variants["variant_id"].astype(str).isin(listed.ids).to_numpy()
    if listed.ranges:
        chrom = variants["chromosome"].astype(str).map(_normal_chrom).to_numpy()
        pos = variants["position"].to_numpy()
        for c, lo, hi in listed.ranges:
            hit |= (chrom == c) & (pos >= lo) & (pos <= hi)
    return hit


def filter_variants(variants: pd.DataFrame, flt: Filters) -> tuple[np.ndarray, dict[str, int]]:
    """Mask of the variants kept by ``--chr``, ``--extract`` and ``--exclude`` (in that
    order, as PLINK applies them) and the counts each removed."""
    keep = np.ones(len(variants), dtype=bool)
    counts: dict[str, int] = {}
    if flt.chr is not None:
        chroms = parse_chromosomes(flt.chr)
        m = variants["chromosome"].astype(str).map(_normal_chrom).isin(chroms).to_numpy()
        counts["variants_removed_chr"] = int((keep & ~m).sum())
        keep &= m
    if flt.extract is not None:
        m = variant_list_mask(variants, read_variant_list(flt.extract))
        counts["variants_removed_extract"] = int((keep & ~m).sum())
        keep &= m
    if flt.exclude is not None:
        m = variant_list_mask(variants, read_variant_list(flt.exclude))
        counts["variants_removed_exclude"] = int((keep & m).sum())
        keep &= ~m
    if flt.variants and not keep.any():
        raise InputError("--chr/--extract/--exclude leave no variant",
                         hint="check the lists against the genotype files' IDs and positions")
    return keep, counts
