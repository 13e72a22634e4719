"""Test helpers shared across packages."""

import numpy as np


def read_bed(prefix, n_samples):
    """Independent .bed decoder for tests: A1 counts (n_variants, n_samples), -1 missing."""
    raw = np.fromfile(f"{prefix}.bed", dtype=np.uint8)
    assert raw[:3].tolist() == [0x6C, 0x1B, 0x01]
    per = (n_samples + 3) // 4
    body = raw[3:].reshape(-1, per)
    codes = np.stack([(body >> s) & 3 for s in (0, 2, 4, 6)], axis=-1).reshape(len(body), -1)
    lookup = np.array([2, -1, 1, 0], dtype=np.int8)  # 00 hom A1, 01 missing, 10 het, 11 hom A2
    return lookup[codes[:, :n_samples]]
