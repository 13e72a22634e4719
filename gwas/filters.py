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
- A list option repeated (``--exclude a.txt --exclude b.txt``) reads the union of its
  files, as PLINK 2 reads ``--exclude a.txt b.txt``; each file must name at least one
  sample (or is an error naming it), and the counts are of the union.

Pure functions over the sample table (``FID IID``) and the variant table (``chromosome
position variant_id``); the engines apply the resulting masks and the run report gets
the counts each filter removed.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rnce_bag.core.errors import InputError

_RANGE = re.compile(r"^(?:chr)?([0-9A-Za-z]+):(\d+)-(\d+)$")
#: what looks meant as a range but is not one (``1:5,000,000-6,000,000``, ``1:5000-``)
_LOOSE_RANGE = re.compile(r"^(?:chr)?[0-9A-Za-z]+:[\d,.]+-[\d,.]*$")
#: the largest chromosome number PLINK accepts (--chr-set 95)
MAX_CHROMOSOME = 95
#: the options that name list files (each repeatable)
LIST_OPTIONS = ("keep", "remove", "extract", "exclude")
log = logging.getLogger(__name__)


#: one list file or several (tuples of paths once a Filters is built)
PathArg = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None


def _paths(value, name: str) -> tuple[Path, ...]:
    """``None``, one path or several -> a tuple of existing files (``--name`` repeated)."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str | os.PathLike) else list(value)
    out = []
    for v in items:
        p = Path(v)
        if not p.is_file():
            raise InputError(f"--{name} file '{p}' not found")
        out.append(p)
    return tuple(out)


@dataclass
class Filters:
    """The filter options of one command (each may be absent).

    ``keep``/``remove``/``extract``/``exclude`` each take one file or several (the flag
    repeated): several files are read as one list, their union, as PLINK 2 reads several
    files given to one flag.
    """

    keep: PathArg = None
    remove: PathArg = None
    extract: PathArg = None
    exclude: PathArg = None
    chr: str | None = None

    def __post_init__(self) -> None:
        for name in LIST_OPTIONS:
            setattr(self, name, _paths(getattr(self, name), name))
        if self.chr is not None:
            parse_chromosomes(self.chr)  # fail fast on a bad --chr

    @property
    def samples(self) -> bool:
        return bool(self.keep or self.remove)

    @property
    def variants(self) -> bool:
        return bool(self.extract or self.exclude or self.chr is not None)

    def config(self) -> dict:
        return {**{k: [str(p) for p in getattr(self, k)] or None for k in LIST_OPTIONS},
                "chr": self.chr}


def _normal_chrom(text: str) -> str:
    c = text.strip().removeprefix("chr").removeprefix("CHR")
    return {"23": "X", "24": "Y", "26": "MT", "M": "MT"}.get(c, c)


def normal_chromosome(text: str) -> str:
    """A chromosome code as PLINK normalises it: ``chr1`` -> ``1``, ``23``/``chrX`` -> ``X``."""
    return _normal_chrom(text)


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
            if int(b) > MAX_CHROMOSOME:  # checked before the range is expanded
                raise InputError(f"--chr: {part!r} goes beyond chromosome {MAX_CHROMOSOME}, "
                                 "the largest PLINK knows", hint="e.g. --chr 1-22")
            out.update(str(i) for i in range(int(a), int(b) + 1))
        else:
            out.add(_normal_chrom(part))
    if not out:
        raise InputError(f"--chr {text!r} names no chromosome", hint="e.g. --chr 1-22")
    return out


def read_sample_list(path: str | os.PathLike[str], option: str = "sample list"
                     ) -> pd.DataFrame:
    """``FID IID`` of a PLINK sample list (``FID`` NA for one-column lists).

    One rule (:func:`rnce_bag.core.textfile.read_text_file` for the bytes): whitespace-
    separated fields; every line has one column (``IID``) or every line two or more
    (``FID IID``, further columns ignored), never a mix; a comma inside a field is an
    error (a CSV list would otherwise match nothing, silently).
    """
    from rnce_bag.core.textfile import read_text_file

    rows = []
    p = Path(path)
    width = None
    for number, line in enumerate(read_text_file(p, option, allow_empty=True).splitlines(),
                                  start=1):
        fields = line.split()
        if not fields:
            continue
        if number == 1 and (fields[0].startswith("#") or fields[0] in ("FID", "IID")):
            continue
        if any("," in f or ";" in f for f in fields[:2]):
            raise InputError(f"{option} '{p}', line {number}: {line.strip()[:60]!r} holds a "
                             "comma or semicolon; sample lists are whitespace-separated",
                             hint="one sample per line: 'FID IID' or 'IID', separated by "
                                  "spaces or tabs")
        w = 1 if len(fields) == 1 else 2
        if width is None:
            width, first = w, number
        elif w != width:
            raise InputError(f"{option} '{p}', line {number}: {w} column(s) where line "
                             f"{first} has {width}; a list is 'FID IID' on every line or "
                             "'IID' on every line",
                             hint="give every line the same columns")
        rows.append((fields[0], fields[1]) if w == 2 else (pd.NA, fields[0]))
    if not rows:
        raise InputError(f"{option} '{p}': no sample in the list",
                         hint="one sample per line: 'FID IID' or 'IID'")
    return pd.DataFrame(rows, columns=["FID", "IID"], dtype=object)


def listed_unmatched(samples: pd.DataFrame, listed: pd.DataFrame) -> int:
    """How many entries of a sample list name no sample of ``samples`` (``FID IID``)."""
    iids = set(samples["IID"].astype(str))
    if not listed["FID"].notna().any():
        return int((~listed["IID"].astype(str).isin(iids)).sum())
    has_fid = samples["FID"].notna() & (samples["FID"].astype(str) != "")
    pairs = set(zip(samples["FID"][has_fid].astype(str), samples["IID"][has_fid].astype(str),
                    strict=True))
    bare = set(samples["IID"][~has_fid].astype(str))
    return sum((f, i) not in pairs and i not in bare
               for f, i in zip(listed["FID"].astype(str), listed["IID"].astype(str),
                               strict=True))


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
    """Mask of the samples kept by ``--keep``/``--remove`` and the counts each removed
    (``listed_unmatched_<option>``: entries of the list that named no sample).

    Raises
    ------
    InputError
        When no entry of a list matches a sample (the IDs are of another file: a
        ``--remove`` that removes nobody would analyse withdrawn samples silently), or
        when the lists leave no sample.
    """
    keep = np.ones(len(samples), dtype=bool)
    counts: dict[str, int] = {}
    for option in ("keep", "remove"):
        paths = getattr(flt, option)
        if not paths:
            continue
        lists = [_checked_list(samples, p, option) for p in paths]
        m = np.logical_or.reduce([sample_mask(samples, listed) for listed in lists])
        unmatched = sum(listed_unmatched(samples, listed) for listed in lists)
        if unmatched:
            log.warning("--%s %s: %d of %d entries name no genotyped sample", option,
                        " ".join(map(str, paths)), unmatched, sum(map(len, lists)))
        counts[f"listed_unmatched_{option}"] = unmatched
        if option == "keep":
            counts["samples_removed_keep"] = int((keep & ~m).sum())
            keep &= m
        else:
            counts["samples_removed_remove"] = int((keep & m).sum())
            keep &= ~m
    if flt.samples and not keep.any():
        raise InputError("--keep/--remove leave no sample",
                         hint="check that the lists hold the genotype files' IDs")
    return keep, counts


def _checked_list(samples: pd.DataFrame, path: Path, option: str) -> pd.DataFrame:
    """One sample list; an error when none of its entries names a sample (the IDs are of
    another file: a ``--remove`` that removes nobody would analyse withdrawn samples
    silently)."""
    listed = read_sample_list(path, f"--{option} list")
    if listed_unmatched(samples, listed) == len(listed):
        example = listed.iloc[0]
        raise InputError(f"--{option} '{path}': none of its {len(listed)} entries names a "
                         f"genotyped sample (first: {example['IID']!r}"
                         + ("" if pd.isna(example["FID"]) else
                            f" in family {example['FID']!r}") + ")",
                         hint="the list must hold the genotype files' IDs ('FID IID' "
                              "as in the .fam, or 'IID')")
    return listed


@dataclass
class VariantList:
    """IDs and ``(chromosome, start, end)`` ranges of a variant list."""

    ids: set[str] = field(default_factory=set)
    ranges: list[tuple[str, int, int]] = field(default_factory=list)


def read_variant_lists(paths: Sequence[str | os.PathLike[str]]) -> VariantList:
    """The union of several variant lists (a repeated ``--extract``/``--exclude``)."""
    out = VariantList()
    for p in paths:
        one = read_variant_list(p)
        out.ids |= one.ids
        out.ranges += one.ranges
    return out


def read_variant_list(path: str | os.PathLike[str]) -> VariantList:
    """IDs and ``chr:start-end`` ranges, one per line (the first token of each line)."""
    from rnce_bag.core.textfile import read_text_file

    out = VariantList()
    p = Path(path)
    for number, line in enumerate(read_text_file(p, "variant list", allow_empty=True)
                                  .splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        m = _RANGE.match(fields[0])
        if m:
            lo, hi = int(m.group(2)), int(m.group(3))
            if lo > hi:
                raise InputError(f"'{p}', line {number}: range {fields[0]!r} ends before it "
                                 "starts", hint=f"write it as chr:{hi}-{lo}")
            out.ranges.append((_normal_chrom(m.group(1)), lo, hi))
        elif _LOOSE_RANGE.match(fields[0]):
            raise InputError(f"'{p}', line {number}: cannot read the range {fields[0]!r}",
                             hint="one range per line as chr:start-end, e.g. 1:5000000-6000000 "
                                  "(no thousands separators)")
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
    if flt.extract:
        m = variant_list_mask(variants, read_variant_lists(flt.extract))
        counts["variants_removed_extract"] = int((keep & ~m).sum())
        keep &= m
    if flt.exclude:
        m = variant_list_mask(variants, read_variant_lists(flt.exclude))
        counts["variants_removed_exclude"] = int((keep & m).sum())
        keep &= ~m
    if flt.variants and not keep.any():
        raise InputError("--chr/--extract/--exclude leave no variant",
                         hint="check the lists against the genotype files' IDs and positions")
    return keep, counts
