import re
import subprocess

import numpy as np
import pandas as pd
import pytest

from gwas.heritability.greml import greml, reml_null
from gwas.heritability.grm import compute_grm
from gwas.plink_io import BedReader


def _simulated(n=800, m=2000, h2=0.5, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.5, m)
    z = (rng.binomial(2, p, (n, m)) - 2 * p) / np.sqrt(2 * p * (1 - p))
    a = z @ z.T / m
    y = z @ rng.normal(0, np.sqrt(h2 / m), m) + rng.normal(0, np.sqrt(1 - h2), n)
    x = np.column_stack([np.ones(n), rng.normal(size=n)])
    return y + 2 * x[:, 1], x, a


def test_known_answer_and_null():
    y, x, a = _simulated()
    r = greml(y, x, a)
    assert r.converged and abs(r.h2 - 0.5) < 3 * r.h2_se and r.h2_se < 0.12
    assert r.vp == pytest.approx(r.vg + r.ve) and r.lrt > 10 and r.pval < 1e-3
    # logL0 equals the REML likelihood of the fitted model at s_g -> 0
    logl0, ve = reml_null(y, x)
    assert logl0 <= r.logl
    rng = np.random.default_rng(1)
    r0 = greml(rng.normal(size=len(y)), x, a)
    assert r0.h2 < 3 * max(r0.h2_se, 0.05) and r0.pval > 1e-3


def test_reml_is_at_a_maximum():
    from gwas.heritability.greml import _reml_parts

    y, x, a = _simulated(n=400, m=1000, seed=2)
    lam, u = np.linalg.eigh(a)
    r = greml(y, x, eig=(lam, u))
    ys, xs = u.T @ y, u.T @ x
    lam = np.clip(lam, 0, None)
    best = _reml_parts(ys, xs, lam, r.vg, r.ve)[2]
    for dg, de in ((0.02, 0), (-0.02, 0), (0, 0.02), (0, -0.02)):
        assert _reml_parts(ys, xs, lam, r.vg + dg, r.ve + de)[2] <= best + 1e-9


@pytest.mark.external
def test_matches_gemma(complete_sim, tmp_path):
    """GEMMA's null-model PVE with the same kinship, phenotype and covariates: |dh2| <= 0.01."""
    prefix = str(complete_sim / "genotypes/cohort")
    reader = BedReader(prefix)
    a, _ = compute_grm(reader)
    lat = pd.read_csv(complete_sim / "truth/latent.tsv", sep="\t").set_index("IID")
    coh = pd.read_csv(complete_sim / "cohort.tsv", sep="\t").set_index("IID")
    iids = reader.fam["IID"]
    y = lat.loc[iids, "latent_factor"].to_numpy()
    x = np.column_stack([np.ones(len(y)), coh.loc[iids, "age"], coh.loc[iids, "sex"] == "M"]
                        ).astype(float)
    ours = greml(y, x, a)
    np.savetxt(tmp_path / "k.txt", a, delimiter="\t", fmt="%.10g")
    np.savetxt(tmp_path / "c.txt", x, delimiter="\t", fmt="%.10g")
    np.savetxt(tmp_path / "y.txt", y, fmt="%.10g")
    subprocess.run(["plink2", "--bfile", prefix, "--thin-count", "20", "--seed", "1",
                    "--make-bed", "--out", str(tmp_path / "s")], check=True, capture_output=True)
    subprocess.run(["gemma", "-bfile", str(tmp_path / "s"), "-k", str(tmp_path / "k.txt"),
                    "-p", str(tmp_path / "y.txt"), "-c", str(tmp_path / "c.txt"), "-lmm", "1",
                    "-o", "g", "-outdir", str(tmp_path / "out")], check=True, capture_output=True)
    log = (tmp_path / "out/g.log.txt").read_text()
    pve = float(re.search(r"pve estimate in the null model = ([\d.eE+-]+)", log).group(1))
    se = float(re.search(r"se\(pve\) in the null model = ([\d.eE+-]+)", log).group(1))
    assert abs(ours.h2 - pve) <= 0.01
    assert ours.h2_se == pytest.approx(se, rel=0.25)
