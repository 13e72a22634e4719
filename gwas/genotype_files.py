"""Per-chromosome genotype files: the ``{chrom}`` placeholder in ``--bfile/--bgen/--vcf``.

Biobanks ship genotypes as one file (or fileset) per chromosome, too large to merge:
``--bfile 'geno/chr{chrom}'``, ``--bgen 'imp/ukb_imp_chr{chrom}_v3.bgen'``,
``--vcf 'vcf/chr{chrom}.vcf.gz'``. The placeholder expands to the chromosomes whose files
exist, in genome order (1-22, then X, Y, XY, MT); a missing autosome is reported (it is a
gap in the genome scan, never silently skipped), and no file at all is an error.

Pure path logic, no genotype reading: :mod:`gwas.plink_io` reads the expanded filesets as
one, the engines run per file.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from rnce_bag.core.errors import InputError

log = logging.getLogger(__name__)

PLACEHOLDER = "{chrom}"
AUTOSOMES = tuple(str(i) for i in range(1, 23))
#: expanded in this order; other codes in file names are not looked for
CHROMOSOMES = (*AUTOSOMES, "X", "Y", "XY", "MT")
BFILE_SUFFIXES = (".bed", ".bim", ".fam")
_WARNED: set[str] = set()


@dataclass(frozen=True)
class ChromFiles:
    """What a template expanded to: ``(chromosome, path)`` in genome order."""

    template: str
    files: tuple[tuple[str, str], ...]
    missing_autosomes: tuple[str, ...] = field(default=())

    @property
    def paths(self) -> list[str]:
        return [p for _, p in self.files]


def is_template(path: str | None) -> bool:
    """Whether ``path`` names one file per chromosome."""
    return bool(path) and PLACEHOLDER in str(path)


def expand(template: str, suffixes: tuple[str, ...] = ("",), option: str = "--bfile"
           ) -> ChromFiles:
    """The chromosomes whose files exist for ``template`` (all of ``suffixes`` present).

    Raises
    ------
    InputError
        No chromosome has its files, or a chromosome has only some of them (a ``.bed``
        without its ``.bim``).
    """
    found, missing = [], []
    for chrom in CHROMOSOMES:
        path = template.replace(PLACEHOLDER, chrom)
        present = [Path(path + s).is_file() for s in suffixes]
        if all(present):
            found.append((chrom, path))
        elif any(present):
            absent = [path + s for s, ok in zip(suffixes, present, strict=True) if not ok]
            raise InputError(f"{option} '{template}': chromosome {chrom} has some of its files "
                             f"but not {', '.join(absent)}",
                             hint="each chromosome needs its complete fileset")
        elif chrom in AUTOSOMES:
            missing.append(chrom)
    if not found:
        example = template.replace(PLACEHOLDER, "1") + suffixes[0]
        raise InputError(f"{option} '{template}': no file for any chromosome (looked for "
                         f"{example}, ... with {PLACEHOLDER} = 1-22, X, Y, XY, MT)",
                         hint=f"{PLACEHOLDER} stands for the chromosome code as written in the "
                              "file names: 1, 2, ..., 22 (not 01 or chr1)")
    if missing and template not in _WARNED:  # once per template, however often expanded
        _WARNED.add(template)
        log.warning("%s '%s': no file for chromosome(s) %s; the analysis covers %s only",
                    option, template, ", ".join(missing),
                    ", ".join(c for c, _ in found))
    return ChromFiles(template, tuple(found), tuple(missing))


def bfile_prefixes(bfile: str) -> list[str]:
    """The PLINK 1 prefixes ``--bfile`` names (one, or one per chromosome)."""
    if is_template(bfile):
        return expand(bfile, BFILE_SUFFIXES).paths
    return [bfile]


def bfile_paths(bfile: str) -> list[Path]:
    """Every ``.bed/.bim/.fam`` file ``--bfile`` names (for content hashes and checks)."""
    return [Path(p + s) for p in bfile_prefixes(bfile) for s in BFILE_SUFFIXES]


def genotype_paths(bfile: str | None = None, bgen: str | None = None,
                   sample: str | None = None, vcf: str | None = None) -> list[Path]:
    """Every file of one genotype source, templates expanded."""
    if bfile:
        return bfile_paths(bfile)
    paths: list[Path] = []
    for value, option in ((bgen, "--bgen"), (sample, "--sample"), (vcf, "--vcf")):
        if value:
            paths += ([Path(p) for p in expand(value, option=option).paths]
                      if is_template(value) else [Path(value)])
    return paths


def bgen_sample_ids(path: str | os.PathLike[str]) -> list[str] | None:
    """The sample identifiers a BGEN file stores in its header (``None`` when it stores
    none: the ``.sample`` file alone then says who the columns are).

    Raises
    ------
    InputError
        When the header is not a BGEN header or is truncated.
    """
    import struct

    p = Path(path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(24)
            if len(head) < 24:
                raise InputError(f"{p}: not a BGEN file (shorter than its header)")
            _offset, lh, _m, n = struct.unpack("<IIII", head[:16])
            if head[16:20] not in (b"bgen", b"\x00\x00\x00\x00") or lh < 20:
                raise InputError(f"{p}: not a BGEN file (no 'bgen' magic number)")
            fh.seek(4 + lh - 4)
            (flags,) = struct.unpack("<I", fh.read(4))
            if not flags >> 31:
                return None
            block = fh.read(8)
            _length, count = struct.unpack("<II", block)
            ids = []
            for _ in range(count):
                (size,) = struct.unpack("<H", fh.read(2))
                raw = fh.read(size)
                if len(raw) != size:
                    raise struct.error("short read")
                ids.append(raw.decode("utf-8", errors="replace"))
    except struct.error:
        raise InputError(f"{p}: the BGEN header is truncated") from None
    if count != n:
        raise InputError(f"{p}: the BGEN header says {n} samples but stores {count} IDs")
    return ids
