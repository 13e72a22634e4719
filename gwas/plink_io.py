"""Reading PLINK 1 binary genotypes (``.bed/.bim/.fam``) without external tools.

Shape convention: genotype blocks are float64 (n_variants, n_samples) counts of the
``.bim`` A1 allele (column 5), NaN for missing calls. The ``.bed`` is memory-mapped and
only the requested variants are decoded.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from rnce_bag.core.errors import InputError

_LOOKUP = np.array([2.0, np.nan, 1.0, 0.0])  # 00 hom A1, 01 missing, 10 het, 11 hom A2


def read_fam(prefix: str | os.PathLike[str]) -> pd.DataFrame:
    """``FID IID father mother sex pheno`` (whitespace-separated)."""
    p = Path(f"{prefix}.fam")
    if not p.is_file():
        raise InputError(f"PLINK file '{p}' not found", hint="--bfile takes the prefix of "
                         ".bed/.bim/.fam")
    df = pd.read_csv(p, sep=r"\s+", header=None, dtype=str,
                     names=["FID", "IID", "father", "mother", "sex", "pheno"])
    if df["IID"].duplicated().any():
        iid = df["IID"][df["IID"].duplicated()].iloc[0]
        raise InputError(f"{p}: duplicated sample IID {iid!r}")
    return df


def read_bim(prefix: str | os.PathLike[str]) -> pd.DataFrame:
    """``chromosome id cm position a1 a2`` (tab- or space-separated)."""
    p = Path(f"{prefix}.bim")
    if not p.is_file():
        raise InputError(f"PLINK file '{p}' not found")
    df = pd.read_csv(p, sep=r"\s+", header=None, dtype=str,
                     names=["chromosome", "id", "cm", "position", "a1", "a2"])
    if df.isna().any(axis=None):
        i = int(np.flatnonzero(df.isna().any(axis=1).to_numpy())[0])
        raise InputError(f"{p}, line {i + 1}: expected 6 fields (chromosome id cm position "
                         "a1 a2)", hint="a .bim line has six whitespace-separated fields")
    for col, kind in (("position", "an integer base-pair position"),
                      ("cm", "a number (centimorgans; 0 if unknown)")):
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() | ((values < 0) if col == "position" else False)
        if col == "position":
            bad |= values.notna() & (values != values.round())
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{p}, line {i + 1}, column {col!r}: expected {kind}, found "
                             f"{df[col].iloc[i]!r}")
        df[col] = values.astype("int64" if col == "position" else float)
    return df


class BedReader:
    """Random access to variants of a SNP-major ``.bed``."""

    def __init__(self, prefix: str | os.PathLike[str]) -> None:
        self.prefix = str(prefix)
        self.fam = read_fam(prefix)
        self.bim = read_bim(prefix)
        p = Path(f"{prefix}.bed")
        if not p.is_file():
            raise InputError(f"PLINK file '{p}' not found")
        self.n_samples = len(self.fam)
        self.bytes_per_variant = (self.n_samples + 3) // 4
        expected = 3 + self.bytes_per_variant * len(self.bim)
        if p.stat().st_size != expected:
            raise InputError(f"{p}: size {p.stat().st_size} bytes, expected {expected} for "
                             f"{len(self.bim)} variants x {self.n_samples} samples",
                             hint="the .bed does not match its .bim/.fam (truncated?)")
        self._mm = np.memmap(p, dtype=np.uint8, mode="r")
        if self._mm[:3].tolist() != [0x6C, 0x1B, 0x01]:
            raise InputError(f"{p}: not a SNP-major PLINK 1 .bed (bad magic bytes)")

    def read(self, rows: np.ndarray, samples: np.ndarray | None = None) -> np.ndarray:
        """A1 counts of variant ``rows`` (k,) -> (k, n_samples) float, NaN missing."""
        rows = np.asarray(rows, dtype=np.int64)
        starts = 3 + rows * self.bytes_per_variant
        raw = np.stack([self._mm[s:s + self.bytes_per_variant] for s in starts]) if rows.size \
            else np.zeros((0, self.bytes_per_variant), np.uint8)
        codes = np.stack([(raw >> s) & 3 for s in (0, 2, 4, 6)], axis=-1).reshape(len(rows), -1)
        g = _LOOKUP[codes[:, :self.n_samples]]
        return g if samples is None else g[:, samples]


class MultiBedReader:
    """Several ``.bed`` filesets of the same samples read as one (variants concatenated).

    The interface of :class:`BedReader` (``fam``, ``bim``, ``n_samples``, ``read``): rows
    index the concatenated ``.bim``, so a GRM, clumping or gene analysis over per-chromosome
    files equals the one over their merge.
    """

    def __init__(self, prefixes: list[str]) -> None:
        self.readers = [BedReader(p) for p in prefixes]
        first = self.readers[0]
        for other in self.readers[1:]:
            a, b = first.fam[["FID", "IID"]], other.fam[["FID", "IID"]]
            if len(a) != len(b) or not (a.to_numpy() == b.to_numpy()).all():
                raise InputError(f"{other.prefix}.fam: the samples (or their order) differ from "
                                 f"{first.prefix}.fam",
                                 hint="per-chromosome filesets must list the same samples in "
                                      "the same order")
        self.prefix = prefixes[0]
        self.fam = first.fam
        self.bim = pd.concat([r.bim for r in self.readers], ignore_index=True)
        self.n_samples = first.n_samples
        self._starts = np.cumsum([0] + [len(r.bim) for r in self.readers])

    def read(self, rows: np.ndarray, samples: np.ndarray | None = None) -> np.ndarray:
        """A1 counts of variant ``rows`` (k,) of the concatenated ``.bim`` -> (k, n)."""
        rows = np.asarray(rows, dtype=np.int64)
        n = self.n_samples if samples is None else len(samples)
        out = np.empty((rows.size, n))
        which = np.searchsorted(self._starts, rows, side="right") - 1
        for f in np.unique(which):
            at = which == f
            out[at] = self.readers[f].read(rows[at] - self._starts[f], samples)
        return out


def open_bed(bfile: str) -> BedReader | MultiBedReader:
    """The genotypes ``--bfile`` names: one fileset, or one per chromosome (``{chrom}``)."""
    from gwas.genotype_files import bfile_prefixes, is_template

    if is_template(bfile):
        return MultiBedReader(bfile_prefixes(bfile))
    return BedReader(bfile)


def concat_bed(prefixes: list[str], out: str | os.PathLike[str]) -> None:
    """Write the filesets ``prefixes`` (same samples) as one ``out.bed/.bim/.fam``.

    SNP-major ``.bed`` files of the same samples concatenate byte for byte after their
    3-byte magic; used for the few pruned variants of each chromosome that ancestry PCs
    need, never for whole genotype sets.
    """
    import shutil

    MultiBedReader(prefixes)  # same samples, valid sizes
    out = str(out)
    with open(f"{out}.bed", "wb") as bed:
        bed.write(bytes([0x6C, 0x1B, 0x01]))
        for p in prefixes:
            with open(f"{p}.bed", "rb") as fh:
                fh.seek(3)
                shutil.copyfileobj(fh, bed)
    with open(f"{out}.bim", "w", encoding="utf-8") as bim:
        for p in prefixes:
            text = Path(f"{p}.bim").read_text(encoding="utf-8")
            bim.write(text if text.endswith("\n") else text + "\n")
    shutil.copyfile(f"{prefixes[0]}.fam", f"{out}.fam")
