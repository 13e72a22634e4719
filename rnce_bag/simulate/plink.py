"""Writer of PLINK 1 binary genotypes (``.bed`` SNP-major, ``.bim``, ``.fam``).

Shape convention: a genotype block is an int8 array of shape (n_variants, n_samples)
holding the count of the ``.bim`` A1 allele (0, 1, 2) or -1 for a missing call.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from rnce_bag.core.io import atomic_open

BED_MAGIC = bytes([0x6C, 0x1B, 0x01])
# PLINK's 2-bit codes indexed by A1 count + 1 (missing, 0, 1, 2):
# missing -> 01, hom A2 (0 copies of A1) -> 11, het -> 10, hom A1 -> 00.
_CODES = np.array([0b01, 0b11, 0b10, 0b00], dtype=np.uint8)


def pack_bed(block: np.ndarray) -> bytes:
    """Pack an (n_variants, n_samples) A1-count block into SNP-major ``.bed`` bytes."""
    block = np.asarray(block)
    if block.ndim != 2:
        raise ValueError(f"'pack_bed': parameter 'block': expected 2 dimensions, found "
                         f"{block.ndim}")
    n_var, n_samples = block.shape
    codes = _CODES[np.clip(block.astype(np.int16), -1, 2) + 1]
    pad = (-n_samples) % 4
    if pad:
        codes = np.concatenate([codes, np.zeros((n_var, pad), dtype=np.uint8)], axis=1)
    quads = codes.reshape(n_var, -1, 4)
    packed = quads[..., 0] | (quads[..., 1] << 2) | (quads[..., 2] << 4) | (quads[..., 3] << 6)
    return packed.astype(np.uint8).tobytes()


def write_bed(path: str | os.PathLike[str], blocks: Iterable[np.ndarray]) -> Path:
    """Write ``.bed`` from blocks of variants (all with the same samples), atomically."""
    with atomic_open(path, "wb") as fh:
        fh.write(BED_MAGIC)
        for block in blocks:
            fh.write(pack_bed(block))
    return Path(path)


def write_bim(path: str | os.PathLike[str], chromosome, variant_id, cm, position, a1,
              a2) -> Path:
    """Write ``.bim``: chromosome, ID, cM, bp, A1, A2 (tab-separated)."""
    with atomic_open(path, "w") as fh:
        for row in zip(chromosome, variant_id, cm, position, a1, a2, strict=True):
            fh.write(f"{row[0]}\t{row[1]}\t{row[2]:.6g}\t{row[3]}\t{row[4]}\t{row[5]}\n")
    return Path(path)


def write_fam(path: str | os.PathLike[str], fid, iid, sex) -> Path:
    """Write ``.fam``: FID IID father mother sex(1=M, 2=F) phenotype(-9)."""
    with atomic_open(path, "w") as fh:
        for f, i, s in zip(fid, iid, sex, strict=True):
            fh.write(f"{f} {i} 0 0 {1 if s == 'M' else 2 if s == 'F' else 0} -9\n")
    return Path(path)
