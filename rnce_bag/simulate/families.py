"""Families in the simulated cohort: sibling pairs, parent-offspring trios and
half-sibling pairs by Mendelian transmission of the coalescent's haplotypes.

The coalescent (:mod:`rnce_bag.simulate.genotypes`) gives unrelated *founders*; a
family's children get one gamete from each parent, each gamete a mosaic of the parent's
two haplotypes with crossovers drawn per meiosis (Poisson, 1 cM per Mb of GRCh37, at
uniform GRCh37 positions: the number of crossovers and so the spread of the sharing
between relatives are those of real chromosomes, not of the short simulated ones).
Family members are drawn among the normative (UK Biobank-like) subjects of one
sub-population; a trio's parents are subjects of the cohort, the parents of sibling and
half-sibling pairs are not (they are extra founders of the coalescent).

Shape convention: haplotypes are (n_sites, 2 * n_founders) 0/1 arrays, founder ``f``'s
haplotypes at columns ``2f, 2f + 1`` (msprime's numbering of individuals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: expected kinship and KING degree of each planted relationship
RELATIONSHIPS: dict[str, tuple[float, int]] = {
    "full_sibling": (0.25, 1), "parent_offspring": (0.25, 1), "half_sibling": (0.125, 2)}
#: crossovers per bp (1 cM per Mb: the genome-wide average is about 1.2 in females, 0.9 in
#: males; Kong et al. 2010)
MORGANS_PER_BP = 1e-8


@dataclass
class Pedigree:
    """Who each cohort subject is: a founder of the coalescent or a child of two founders.

    Attributes
    ----------
    founder : ndarray, shape (n,)
        Index of the subject's coalescent individual, or -1 for a child.
    parents : ndarray, shape (n, 2)
        The child's two parents as founder indices (-1 for founders).
    family : ndarray, shape (n,)
        Family number (-1 outside families).
    n_founders_a, n_founders_b : int
        Founders of sub-populations A and B (A's first, as msprime numbers them).
    pairs : DataFrame
        The planted relative pairs: ``row1 row2 relationship kinship degree family``.
    """

    founder: np.ndarray
    parents: np.ndarray
    family: np.ndarray
    n_founders_a: int
    n_founders_b: int
    pairs: pd.DataFrame


def plan_families(pop: np.ndarray, normative: np.ndarray, age: np.ndarray, fraction: float,
                  shares: dict[str, float], rng: np.random.Generator) -> Pedigree:
    """Choose the family members and their parents.

    Parameters
    ----------
    pop : ndarray of str, shape (n,)
        Each subject's sub-population (``A``/``B``); subject ``i`` of ``pop == "A"`` is
        founder ``i`` in the order of the rows (A first, then B).
    normative : ndarray of bool, shape (n,)
        Subjects who may be in a family (the normative cohort).
    age : ndarray, shape (n,)
        Ages: the youngest of a trio is its child, the two others its parents.
    fraction
        Share of the normative subjects to place in families.
    shares
        ``full_sibling``, ``parent_offspring`` (trios) and ``half_sibling``: the share of
        families of each kind.

    Returns
    -------
    Pedigree
    """
    n = pop.size
    founder = np.full(n, -1, dtype=np.int64)
    parents = np.full((n, 2), -1, dtype=np.int64)
    family = np.full(n, -1, dtype=np.int64)
    kinds = list(shares)
    weights = np.array([shares[k] for k in kinds], dtype=float)
    weights /= weights.sum()
    size = {"full_sibling": 2, "parent_offspring": 3, "half_sibling": 2}
    extra = {"full_sibling": 2, "parent_offspring": 0, "half_sibling": 3}
    rows_pairs: list[tuple[int, int, str, int]] = []
    children: dict[int, tuple[str, int, int]] = {}  # row -> (pop, parent slot a, slot b)
    extra_parents = {"A": 0, "B": 0}
    fam_id = 0
    for p in ("A", "B"):
        pool = rng.permutation(np.flatnonzero((pop == p) & normative))
        budget = int(round(fraction * pool.size))
        used = 0
        while True:
            kind = kinds[int(rng.choice(len(kinds), p=weights))]
            if used + size[kind] > budget:
                break
            rows = pool[used:used + size[kind]]
            used += size[kind]
            family[rows] = fam_id
            if kind == "parent_offspring":
                child = rows[np.argmin(age[rows])]
                mum_dad = [r for r in rows if r != child]
                children[child] = (p, -1 - mum_dad[0], -1 - mum_dad[1])  # cohort rows
                rows_pairs += [(min(child, m), max(child, m), kind, fam_id) for m in mum_dad]
            else:
                base = extra_parents[p]
                extra_parents[p] += extra[kind]
                if kind == "full_sibling":
                    for r in rows:
                        children[r] = (p, base, base + 1)
                else:  # half siblings: one shared parent (base), one each
                    children[rows[0]] = (p, base, base + 1)
                    children[rows[1]] = (p, base, base + 2)
                rows_pairs.append((min(rows), max(rows), kind, fam_id))
            fam_id += 1
    # founders: the subjects who are not children, then the extra parents, per population
    index = {"A": 0, "B": 0}
    order = {}
    for p in ("A", "B"):
        for r in np.flatnonzero(pop == p):
            if r not in children:
                order[r] = (p, index[p])
                index[p] += 1
    n_a = index["A"] + extra_parents["A"]
    n_b = index["B"] + extra_parents["B"]

    def global_index(p: str, i: int) -> int:
        return i if p == "A" else n_a + i

    for r, (p, i) in order.items():
        founder[r] = global_index(p, i)
    def slot(p: str, x: int) -> int:
        if x < 0:  # a cohort row (a trio's parent)
            return int(founder[-1 - x])
        return global_index(p, index[p] + x)  # an extra parent, after p's subjects

    for r, (p, a, b) in children.items():
        parents[r] = (slot(p, a), slot(p, b))
    table = pd.DataFrame(rows_pairs, columns=["row1", "row2", "relationship", "family"])
    table["kinship"] = table["relationship"].map(lambda k: RELATIONSHIPS[k][0])
    table["degree"] = table["relationship"].map(lambda k: RELATIONSHIPS[k][1])
    return Pedigree(founder, parents, family, n_a, n_b, table)


def gamete(hap: np.ndarray, parent: int, positions: np.ndarray, length_bp: int,
           rng: np.random.Generator) -> np.ndarray:
    """One transmitted haplotype of founder ``parent``: (n_sites,) 0/1.

    ``positions`` (n_sites,): the sites' GRCh37 positions, sorted; crossovers ~
    Poisson(``length_bp`` * :data:`MORGANS_PER_BP`) at uniform positions; the first
    segment comes from either haplotype with probability 1/2.
    """
    k = rng.poisson(length_bp * MORGANS_PER_BP)
    cuts = np.sort(rng.uniform(0, length_bp, k))
    which = (np.searchsorted(cuts, positions, side="right") + rng.integers(2)) % 2
    cols = 2 * parent + which
    return hap[np.arange(hap.shape[0]), cols]


def cohort_dosages(hap: np.ndarray, ped: Pedigree, positions: np.ndarray, length_bp: int,
                   rng: np.random.Generator) -> np.ndarray:
    """A1 counts (n_sites, n) of the cohort's subjects: a founder's two haplotypes, a
    child's two gametes (one per parent, drawn by :func:`gamete`)."""
    n = ped.founder.size
    out = np.empty((hap.shape[0], n), dtype=np.int8)
    for r in range(n):
        f = ped.founder[r]
        if f >= 0:
            out[:, r] = hap[:, 2 * f] + hap[:, 2 * f + 1]
        else:
            a, b = ped.parents[r]
            out[:, r] = gamete(hap, a, positions, length_bp, rng) \
                + gamete(hap, b, positions, length_bp, rng)
    return out


def family_effect(family: np.ndarray, c2: float, rng: np.random.Generator) -> np.ndarray:
    """An environment shared within a family: (n,) draws of N(0, c2), one per family (a
    subject outside families, ``family == -1``, gets its own)."""
    n = family.size
    own = rng.normal(0, np.sqrt(c2), n)
    fams = np.unique(family[family >= 0])
    shared = dict(zip(fams.tolist(), rng.normal(0, np.sqrt(c2), fams.size), strict=True))
    return np.array([shared[f] if f >= 0 else own[i] for i, f in enumerate(family)])


def relative_pairs(ped: Pedigree, iids: np.ndarray) -> pd.DataFrame:
    """``truth/relatives.tsv``: ``IID1 IID2 relationship kinship degree family`` (expected
    kinship and KING degree of each planted pair)."""
    t = ped.pairs
    return pd.DataFrame({"IID1": iids[t["row1"].to_numpy()], "IID2": iids[t["row2"].to_numpy()],
                         "relationship": t["relationship"], "kinship": t["kinship"],
                         "degree": t["degree"], "family": t["family"]})


def family_summary(ped: Pedigree, pairs: pd.DataFrame, cfg) -> dict:
    """``truth.json``'s ``families`` block: the settings and what was planted."""
    return {"fraction": cfg.fraction, "kinds": dict(cfg.kinds),
            "shared_environment": cfg.shared_environment,
            "n_families": int(np.unique(ped.family[ped.family >= 0]).size),
            "n_in_families": int((ped.family >= 0).sum()),
            "n_founders": ped.n_founders_a + ped.n_founders_b,
            "pairs": {k: int(v) for k, v in pairs["relationship"].value_counts().items()},
            "transmission": "Mendelian; crossovers Poisson(1 cM per Mb of GRCh37) per meiosis"}
