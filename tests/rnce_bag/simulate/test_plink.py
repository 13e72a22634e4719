import subprocess

import numpy as np
import pandas as pd
import pytest

from rnce_bag.simulate.plink import pack_bed, write_bed, write_bim, write_fam
from tests.helpers import read_bed


@pytest.mark.parametrize("n_samples", [1, 4, 5, 7, 13])
def test_pack_roundtrip(tmp_path, n_samples):
    rng = np.random.default_rng(n_samples)
    block = rng.integers(-1, 3, (9, n_samples)).astype(np.int8)
    write_bed(tmp_path / "x.bed", [block[:4], block[4:]])
    assert np.array_equal(read_bed(tmp_path / "x", n_samples), block)


def test_pack_known_byte():
    # samples: hom A1 (00), missing (01), het (10), hom A2 (11) -> 0b11100100
    assert pack_bed(np.array([[2, -1, 1, 0]])) == bytes([0b11100100])


def test_pack_rejects_1d():
    with pytest.raises(ValueError, match="2 dimensions"):
        pack_bed(np.zeros(3))


@pytest.mark.external
def test_plink2_reads_what_we_write(tmp_path):
    rng = np.random.default_rng(0)
    n, m = 11, 6
    block = rng.integers(-1, 3, (m, n)).astype(np.int8)
    prefix = tmp_path / "t"
    write_bed(f"{prefix}.bed", [block])
    write_bim(f"{prefix}.bim", ["1"] * m, [f"rs{i}" for i in range(m)], [0.0] * m,
              [100 * (i + 1) for i in range(m)], ["A"] * m, ["G"] * m)
    write_fam(f"{prefix}.fam", [f"f{i}" for i in range(n)], [f"s{i}" for i in range(n)],
              ["M", "F"] * 5 + ["M"])
    (tmp_path / "a1.txt").write_text("".join(f"rs{i}\tA\n" for i in range(m)))
    subprocess.run(["plink2", "--bfile", str(prefix), "--export", "A", "--export-allele",
                    str(tmp_path / "a1.txt"), "--out", str(prefix)], check=True,
                   capture_output=True)
    raw = pd.read_csv(f"{prefix}.raw", sep="\t")
    counts = raw.iloc[:, 6:].to_numpy(dtype=float).T
    expected = np.where(block < 0, np.nan, block)
    assert np.array_equal(np.isnan(counts), np.isnan(expected))
    assert np.array_equal(np.nan_to_num(counts, nan=-1), np.nan_to_num(expected, nan=-1))
    assert raw["IID"].tolist() == [f"s{i}" for i in range(n)]
