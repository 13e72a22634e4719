"""Genotypes with realistic LD and allele-frequency spectrum (msprime coalescent).

Each autosome is simulated independently with recombination (Hudson coalescent),
two sub-populations split from an ancestor with migration (mild structure), infinite-
sites binary mutations; then variants are drawn to reach the requested count and
common/rare mix, and their positions are stretched onto GRCh37 (see ``genome``).

Shape convention: genotype blocks are int8 (n_variants, n_samples) counts of the A1
(derived) allele; -1 marks a missing call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnce_bag.simulate.config import GenotypeConfig
from rnce_bag.simulate.genome import (
    AUTOSOMES,
    PLANTED_LOCI,
    position_map,
    simulated_lengths,
    to_grch37,
)

log = logging.getLogger(__name__)

_ALLELE_PAIRS = [(a, b) for a in "ACGT" for b in "ACGT" if a != b]


@dataclass
class ChromosomeSim:
    """One simulated autosome: its tree sequence and the chosen sites.

    Attributes
    ----------
    chromosome
        Autosome name.
    ts
        tskit tree sequence restricted to the chosen sites.
    variants
        Table of the chosen sites: ``chromosome position cm a1 a2 a1_count``.
    """

    chromosome: str
    ts: object
    variants: pd.DataFrame


def _demography(cfg: GenotypeConfig):
    import msprime

    dem = msprime.Demography()
    dem.add_population(name="A", initial_size=cfg.ne)
    dem.add_population(name="B", initial_size=cfg.ne // 2)
    dem.add_population(name="ANC", initial_size=cfg.ne)
    dem.add_population_split(time=cfg.split_generations, derived=["A", "B"], ancestral="ANC")
    dem.set_symmetric_migration_rate(["A", "B"], cfg.migration_rate)
    return dem


def _derived_counts(ts) -> np.ndarray:
    """Number of sample haplotypes carrying each site's (single) mutation."""
    counts = np.zeros(ts.num_sites, dtype=np.int64)
    for tree in ts.trees():
        for site in tree.sites():
            counts[site.id] = tree.num_samples(site.mutations[0].node)
    return counts


def _choose_sites(counts: np.ndarray, n_hap: int, n_want: int, common_fraction: float,
                  rng: np.random.Generator, in_locus: np.ndarray | None = None,
                  per_locus: int = 40) -> np.ndarray:
    """Indices of the sites to keep: the common/rare mix, plus common sites of loci.

    ``in_locus`` marks sites inside planted-locus windows; up to ``per_locus`` of their
    common (MAF >= 0.05) sites are always kept, as a genotyping array with a dense
    fine-mapping panel over known loci would.
    """
    maf = np.minimum(counts, n_hap - counts) / n_hap
    forced = np.zeros(0, dtype=np.int64)
    if in_locus is not None and in_locus.any():
        cand = np.flatnonzero(in_locus & (maf >= 0.05))
        forced = np.sort(rng.choice(cand, min(per_locus, cand.size, n_want), replace=False))
    free = np.ones(counts.size, dtype=bool)
    free[forced] = False
    n_want = n_want - forced.size
    common = np.flatnonzero(free & (maf >= 0.01))
    rare = np.flatnonzero(free & (maf < 0.01) & (np.minimum(counts, n_hap - counts) >= 2))
    n_common = min(common.size, int(round(n_want * common_fraction)))
    n_rare = min(rare.size, n_want - n_common)
    n_common = min(common.size, n_want - n_rare)
    chosen = np.concatenate([forced, rng.choice(common, n_common, replace=False),
                             rng.choice(rare, n_rare, replace=False)])
    return np.sort(chosen)


def simulate_chromosomes(
    cfg: GenotypeConfig,
    n_a: int,
    n_b: int,
    seed: int,
    progress: Callable[[str], None] | None = None,
) -> list[ChromosomeSim]:
    """Simulate every autosome and choose its variants.

    Parameters
    ----------
    cfg
        Genotype parameters.
    n_a, n_b
        Diploid individuals in sub-populations A and B (individuals of A come first).
    seed
        Base seed; each chromosome gets its own stream.
    progress
        Called with the chromosome name after each one.

    Returns
    -------
    list of ChromosomeSim
        In chromosome order; variant counts split by simulated length.
    """
    import msprime

    lengths = simulated_lengths(cfg.simulated_mb)
    total = sum(lengths.values())
    quota = {c: int(round(cfg.n_variants * n / total)) for c, n in lengths.items()}
    quota["1"] += cfg.n_variants - sum(quota.values())
    seeds = np.random.SeedSequence(seed).spawn(len(AUTOSOMES))
    dem = _demography(cfg)
    n_hap = 2 * (n_a + n_b)
    out = []
    for chrom, ss in zip(AUTOSOMES, seeds, strict=True):
        s_anc, s_mut, s_pick = (int(x) for x in ss.generate_state(3) % (2**31 - 1) + 1)
        ts = msprime.sim_ancestry(
            samples={"A": n_a, "B": n_b}, demography=dem, sequence_length=lengths[chrom],
            recombination_rate=cfg.recombination_rate, ploidy=2, random_seed=s_anc,
        )
        ts = msprime.sim_mutations(ts, rate=cfg.mutation_rate, random_seed=s_mut,
                                   model=msprime.BinaryMutationModel(),
                                   discrete_genome=False)
        counts = _derived_counts(ts)
        rng = np.random.default_rng(s_pick)
        knots = position_map(chrom, lengths[chrom], cfg.locus_window_kb * 1000,
                             cfg.locus_sim_fraction)
        real = np.interp(ts.tables.sites.position, knots[0], knots[1])
        in_locus = np.zeros(ts.num_sites, dtype=bool)
        for lo in PLANTED_LOCI:
            if lo.chromosome == chrom:
                in_locus |= (real >= lo.start) & (real <= lo.stop)
        chosen = _choose_sites(counts, n_hap, quota[chrom], cfg.common_fraction, rng, in_locus)
        if chosen.size < quota[chrom]:
            log.warning("chromosome %s: only %d of %d requested variants segregate; "
                        "raise simulated_mb", chrom, chosen.size, quota[chrom])
        keep = np.zeros(ts.num_sites, dtype=bool)
        keep[chosen] = True
        ts = ts.delete_sites(np.flatnonzero(~keep))
        sim_pos = ts.tables.sites.position
        pairs = rng.integers(0, len(_ALLELE_PAIRS), size=chosen.size)
        variants = pd.DataFrame({
            "chromosome": chrom,
            "position": to_grch37(sim_pos, knots),
            "cm": sim_pos * cfg.recombination_rate * 100,
            "a1": [_ALLELE_PAIRS[p][1] for p in pairs],
            "a2": [_ALLELE_PAIRS[p][0] for p in pairs],
            "a1_count": counts[chosen],
        })
        out.append(ChromosomeSim(chrom, ts, variants))
        if progress is not None:
            progress(chrom)
    return out


def dosages(ts, order: np.ndarray) -> np.ndarray:
    """A1 counts (n_sites, n_individuals) in the cohort's individual ``order``.

    msprime numbers the two haplotypes of individual ``i`` as sample nodes 2i, 2i+1.
    """
    hap = ts.genotype_matrix()
    dos = (hap[:, 0::2] + hap[:, 1::2]).astype(np.int8)
    return dos[:, order]


def missingness_model(n_variants: int, n_samples: int, rate: float,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per-variant and per-sample missing-call rates with mean ``rate``.

    Most variants and samples sit near ``rate``; about 2% of variants and 2% of
    samples are poor (5x the rate), so call-rate QC has something to remove.
    """
    var_rate = rng.gamma(8.0, rate / 8.0, n_variants)
    var_rate[rng.random(n_variants) < 0.02] *= 5
    sample_mult = rng.gamma(8.0, 1 / 8.0, n_samples)
    sample_mult[rng.random(n_samples) < 0.02] *= 5
    return var_rate, sample_mult


def apply_missing(block: np.ndarray, var_rate: np.ndarray, sample_mult: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """Copy of ``block`` with calls set to -1 at rate ``var_rate[j] * sample_mult[i]``."""
    p = np.minimum(0.5, var_rate[:, None] * sample_mult[None, :])
    out = block.copy()
    out[rng.random(block.shape) < p] = -1
    return out
