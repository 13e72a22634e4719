import numpy as np
import pytest

from rnce_bag.simulate.genome import (
    GRCH37_LENGTHS,
    PLANTED_LOCI,
    position_map,
    simulated_lengths,
    to_grch37,
)


def test_lengths_proportional():
    lengths = simulated_lengths(30.0)
    assert set(lengths) == {str(c) for c in range(1, 23)}
    assert sum(lengths.values()) == pytest.approx(30e6, rel=1e-3)
    assert lengths["1"] > lengths["21"]


@pytest.mark.parametrize("chrom", ["1", "11", "17"])
def test_map_is_monotone_and_covers_chromosome(chrom):
    sim = 1_000_000
    knots = position_map(chrom, sim, 250_000, 0.1)
    x = np.sort(np.random.default_rng(0).uniform(0, sim, 5000))
    pos = to_grch37(x, knots)
    assert np.all(np.diff(pos) > 0)
    assert pos[0] >= 1 and pos[-1] <= GRCH37_LENGTHS[chrom] + 5000
    assert knots[1][0] == 1 and knots[1][-1] == GRCH37_LENGTHS[chrom]


@pytest.mark.parametrize("locus", PLANTED_LOCI, ids=lambda lo: lo.name)
def test_locus_window_is_dense(locus):
    sim = 2_000_000
    knots = position_map(locus.chromosome, sim, 250_000, 0.1)
    x = np.linspace(0, sim, 20_001)[:-1]
    pos = to_grch37(x, knots)
    inside = ((pos >= locus.start) & (pos <= locus.stop)).sum()
    # the gene holds a share of the variants far above its share of the chromosome
    share = (locus.stop - locus.start) / GRCH37_LENGTHS[locus.chromosome]
    assert inside / pos.size > 5 * share


def test_ties_are_broken():
    pos = to_grch37(np.array([0.0, 0.1, 0.2, 10.0]), (np.array([0.0, 10.0]),
                                                      np.array([1.0, 11.0])))
    assert np.all(np.diff(pos) > 0)
