"""Families in the simulator: the pedigree's shape, Mendelian transmission, the shared
family environment, and the planted pairs in truth/ (their kinship is checked against
KING in tests/gwas/test_relatedness.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rnce_bag.simulate.families import (
    cohort_dosages,
    family_effect,
    gamete,
    plan_families,
)


def _plan(n=400, fraction=0.5, seed=0, shares=None):
    rng = np.random.default_rng(seed)
    pop = np.where(rng.random(n) < 0.8, "A", "B")
    normative = rng.random(n) < 0.7
    age = rng.uniform(45, 80, n)
    shares = shares or {"full_sibling": 0.5, "parent_offspring": 0.3, "half_sibling": 0.2}
    return pop, normative, age, plan_families(pop, normative, age, fraction, shares, rng)


def test_pedigree_is_consistent():
    pop, normative, age, ped = _plan()
    n = pop.size
    child = ped.founder < 0
    assert ((ped.founder >= 0) ^ child).all()
    assert (ped.parents[child] >= 0).all() and (ped.parents[~child] == -1).all()
    n_founders = ped.n_founders_a + ped.n_founders_b
    # founders are distinct coalescent individuals, A's before B's
    f = ped.founder[~child]
    assert np.unique(f).size == f.size and f.max() < n_founders
    assert (f[pop[~child] == "A"] < ped.n_founders_a).all()
    assert (f[pop[~child] == "B"] >= ped.n_founders_a).all()
    # a child's parents are of its population and never itself
    for r in np.flatnonzero(child):
        for p in ped.parents[r]:
            assert (p < ped.n_founders_a) == (pop[r] == "A")
    # family members are normative, of one population; about the asked share
    fam = ped.family >= 0
    assert normative[fam].all()
    for fid in np.unique(ped.family[fam]):
        assert np.unique(pop[ped.family == fid]).size == 1
    assert 0.4 < fam.sum() / normative.sum() <= 0.5
    t = ped.pairs
    assert set(t["relationship"]) == {"full_sibling", "parent_offspring", "half_sibling"}
    trio = t[t["relationship"] == "parent_offspring"]
    for _, g in trio.groupby("family"):  # the child is the youngest, both parents listed
        rows = set(g["row1"]) | set(g["row2"])
        kid = min(rows, key=lambda r: age[r])
        assert len(rows) == 3
        assert all(kid in (a, b) for a, b in zip(g["row1"], g["row2"], strict=True))
        parents = [r for r in rows if r != kid]
        assert sorted(ped.parents[kid]) == sorted(ped.founder[parents])
    assert n == ped.founder.size


def test_siblings_share_both_parents_half_siblings_one():
    _, _, _, ped = _plan(seed=3)
    for _, r in ped.pairs.iterrows():
        a, b = ped.parents[r["row1"]], ped.parents[r["row2"]]
        if r["relationship"] == "full_sibling":
            assert sorted(a) == sorted(b)
        elif r["relationship"] == "half_sibling":
            assert len(set(a) & set(b)) == 1


def test_gametes_are_mendelian():
    rng = np.random.default_rng(1)
    m = 20_000
    hap = rng.integers(0, 2, size=(m, 4)).astype(np.int8)
    pos = np.sort(rng.integers(1, 150_000_000, m))
    g = gamete(hap, 1, pos, 150_000_000, rng)
    from_parent = (g == hap[:, 2]) | (g == hap[:, 3])
    assert from_parent.all()  # every allele from one of the parent's two haplotypes
    # runs: about 1.5 crossovers on 150 Mb, so long stretches from one haplotype
    het = hap[:, 2] != hap[:, 3]
    which = (g[het] == hap[het, 3]).astype(int)
    switches = int(np.abs(np.diff(which)).sum())
    assert switches <= 12
    # over many meioses: half the alleles from each haplotype, crossovers ~ Poisson(1.5)
    draws = np.array([(gamete(hap, 1, pos, 150_000_000, rng)[het] == hap[het, 3]).mean()
                      for _ in range(400)])
    assert abs(draws.mean() - 0.5) < 0.05
    dos = cohort_dosages(hap, _two_founders_one_child(), pos, 150_000_000, rng)
    assert ((dos[:, 2] >= 0) & (dos[:, 2] <= 2)).all()
    # the child carries one allele from each parent at every site
    ok_a = (dos[:, 2] - hap[:, 0] >= 0) | (dos[:, 2] - hap[:, 1] >= 0)
    assert ok_a.all()


def _two_founders_one_child():
    from rnce_bag.simulate.families import Pedigree

    return Pedigree(np.array([0, 1, -1]), np.array([[-1, -1], [-1, -1], [0, 1]]),
                    np.array([0, 0, 0]), 2, 0, pd.DataFrame())


def test_family_environment_is_shared():
    rng = np.random.default_rng(0)
    family = np.repeat(np.arange(2000), 2)
    family[:1000] = -1
    c = family_effect(family, 0.2, rng)
    inside = c[1000:].reshape(-1, 2)
    assert (inside[:, 0] == inside[:, 1]).all()
    assert c.var() == pytest.approx(0.2, rel=0.1)
    assert np.corrcoef(c[:1000:2], c[1:1000:2])[0, 1] == pytest.approx(0, abs=0.1)


def test_simulated_families_in_truth(families_sim):
    truth = json.loads((families_sim / "truth" / "truth.json").read_text())["families"]
    pairs = pd.read_csv(families_sim / "truth" / "relatives.tsv", sep="\t")
    assert truth["pairs"] == pairs["relationship"].value_counts().to_dict()
    assert set(pairs["degree"]) == {1, 2}
    cohort = pd.read_csv(families_sim / "cohort.tsv", sep="\t").set_index("IID")
    members = set(pairs["IID1"]) | set(pairs["IID2"])
    assert (cohort.loc[sorted(members), "clinical"] == 0).all()  # the normative cohort
    latent = pd.read_csv(families_sim / "truth" / "latent.tsv", sep="\t").set_index("IID")
    # relatives share genotypes: first-degree genetic values correlate about 0.5
    first = pairs[pairs["degree"] == 1]
    g1 = latent.loc[first["IID1"], "genetic_value"].to_numpy()
    g2 = latent.loc[first["IID2"], "genetic_value"].to_numpy()
    assert 0.25 < np.corrcoef(g1, g2)[0, 1] < 0.75


def test_the_family_environment_reaches_the_latent_factor(tmp_path):
    """c2 = 0.5 of a non-genetic 0.7: relatives' environments correlate about 0.71."""
    from rnce_bag.simulate.config import SimulateConfig
    from rnce_bag.simulate.run import simulate

    out = tmp_path / "sim"
    simulate(SimulateConfig.model_validate({
        "cohort": {"n_subjects": 600}, "images": {"write": False},
        "genetics": {"h2": 0.3, "mapt_variance": 0.02, "irag1_variance": 0.02},
        "families": {"fraction": 0.6, "shared_environment": 0.5}}), out)
    latent = pd.read_csv(out / "truth" / "latent.tsv", sep="\t").set_index("IID")
    pairs = pd.read_csv(out / "truth" / "relatives.tsv", sep="\t")
    e1 = latent.loc[pairs["IID1"], "environment"].to_numpy()
    e2 = latent.loc[pairs["IID2"], "environment"].to_numpy()
    assert len(pairs) > 80 and 0.5 < np.corrcoef(e1, e2)[0, 1] < 0.9
    assert latent["environment"].var() == pytest.approx(0.7, rel=0.15)
