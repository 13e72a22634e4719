"""PLINK 2's randomized PCA (n >= 5,000) is seeded: reruns give the same PCs."""

import numpy as np
import pandas as pd
import pytest

from gwas.config import GwasConfig
from gwas.engines import plink2
from rnce_bag.simulate.plink import write_bed, write_bim, write_fam


@pytest.fixture(scope="module")
def big_panel(tmp_path_factory):
    """5,000 samples x 1,500 variants in two sub-populations (enough for `--pca approx`)."""
    d = tmp_path_factory.mktemp("pca")
    rng = np.random.default_rng(3)
    n, m = 5000, 1500
    p = rng.uniform(0.1, 0.5, m)
    shift = np.where(np.arange(n) < n // 2, 0.0, 1.0)
    freq = np.clip(p[:, None] + 0.1 * shift[None, :] * rng.choice([-1, 1], m)[:, None],
                   0.05, 0.95)
    g = rng.binomial(2, freq).astype(np.int8)
    prefix = d / "panel"
    write_bed(f"{prefix}.bed", [g])
    pos = np.arange(m) * 20_000 + 1
    write_bim(f"{prefix}.bim", ["1"] * m, [f"rs{i}" for i in range(m)], [0.0] * m, pos,
              ["A"] * m, ["G"] * m)
    iid = [f"S{i}" for i in range(n)]
    write_fam(f"{prefix}.fam", iid, iid, [1] * n)
    pd.DataFrame({"FID": iid, "IID": iid}).to_csv(d / "keep.txt", sep="\t", index=False,
                                                  header=False)
    (d / "extract.txt").write_text("".join(f"rs{i}\n" for i in range(m)))
    return d


@pytest.mark.external
def test_approx_pca_is_reproducible(big_panel, tmp_path):
    cfg = GwasConfig.model_validate({"pca": {"n_pcs": 5}})
    src = [["--bfile", str(big_panel / "panel")]]
    runs = []
    for i in range(2):
        work = tmp_path / f"run{i}"
        work.mkdir()
        source = plink2.pruned_source(src, big_panel / "keep.txt", big_panel / "extract.txt",
                                      cfg, work, threads=2)
        runs.append(plink2.pca(source, big_panel / "keep.txt", cfg, 5000, work, threads=2))
    log = (tmp_path / "run0" / "pca.log").read_text()
    assert "approx" in log and "--seed 1" in log
    pd.testing.assert_frame_equal(runs[0], runs[1])
    # the planted split is PC1
    pc1 = runs[0]["PC1"].to_numpy()
    assert abs(np.corrcoef(pc1, np.arange(5000) >= 2500)[0, 1]) > 0.9
