"""GRCh37 autosome layout and the map from simulated to GRCh37 coordinates.

Each chromosome is simulated on a shorter sequence (``simulated_mb`` in total, split
by chromosome length) and its positions are stretched onto the chromosome's GRCh37
length with a monotone piecewise-linear map. Planted loci (MAPT, IRAG1) get a larger
share of the simulated sequence, so they carry variants at a fine-mapping density
even in small presets. Positions are 1-based.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: GRCh37 autosome lengths (bp), from the assembly's sequence report.
GRCH37_LENGTHS: dict[str, int] = {
    "1": 249_250_621, "2": 243_199_373, "3": 198_022_430, "4": 191_154_276,
    "5": 180_915_260, "6": 171_115_067, "7": 159_138_663, "8": 146_364_022,
    "9": 141_213_431, "10": 135_534_747, "11": 135_006_516, "12": 133_851_895,
    "13": 115_169_878, "14": 107_349_540, "15": 102_531_392, "16": 90_354_753,
    "17": 81_195_210, "18": 78_077_248, "19": 59_128_983, "20": 63_025_520,
    "21": 48_129_895, "22": 51_304_566,
}
AUTOSOMES: tuple[str, ...] = tuple(GRCH37_LENGTHS)


@dataclass(frozen=True)
class Locus:
    """A planted locus: a gene whose interval (GRCh37, 1-based) holds a causal variant."""

    name: str
    gene: str
    chromosome: str
    start: int
    stop: int


#: The loci the paper reports for R-NCE-BAG (GRCh37 gene intervals).
PLANTED_LOCI: tuple[Locus, ...] = (
    Locus("MAPT", "MAPT", "17", 43_971_702, 44_105_700),
    Locus("IRAG1", "IRAG1", "11", 10_594_638, 10_715_535),
)


def simulated_lengths(total_mb: float) -> dict[str, int]:
    """Simulated sequence length (bp) per autosome, proportional to GRCh37 length."""
    genome = sum(GRCH37_LENGTHS.values())
    return {c: max(10_000, int(round(total_mb * 1e6 * n / genome)))
            for c, n in GRCH37_LENGTHS.items()}


def position_map(chromosome: str, sim_length: int, window_bp: int,
                 locus_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Knots ``(sim_knots, real_knots)`` of the map for one chromosome.

    Parameters
    ----------
    chromosome
        Autosome name.
    sim_length
        Simulated sequence length (bp).
    window_bp
        Flank added on each side of a planted locus' gene interval.
    locus_fraction
        Share of ``sim_length`` mapped onto each planted locus window.

    Returns
    -------
    sim_knots, real_knots : ndarray, shape (k,)
        Increasing knots; ``np.interp(x, sim_knots, real_knots)`` maps positions.
    """
    real_length = GRCH37_LENGTHS[chromosome]
    windows = sorted((max(1, lo.start - window_bp), min(real_length, lo.stop + window_bp))
                     for lo in PLANTED_LOCI if lo.chromosome == chromosome)
    if not windows:
        return np.array([0.0, sim_length]), np.array([1.0, real_length])
    free_real = real_length - sum(b - a for a, b in windows)
    free_sim = sim_length * (1 - locus_fraction * len(windows))
    scale = free_sim / free_real
    sim_knots, real_knots = [0.0], [1.0]
    s, r = 0.0, 1.0
    for a, b in windows:
        s += (a - r) * scale
        sim_knots.append(s)
        real_knots.append(a)
        s += sim_length * locus_fraction
        sim_knots.append(s)
        real_knots.append(b)
        r = b
    sim_knots.append(float(sim_length))
    real_knots.append(float(real_length))
    return np.asarray(sim_knots), np.asarray(real_knots)


def to_grch37(sim_positions: np.ndarray, knots: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Map simulated positions (increasing) to strictly increasing GRCh37 positions."""
    pos = np.round(np.interp(sim_positions, knots[0], knots[1])).astype(np.int64)
    # rounding may tie neighbours inside dense windows: push ties one base right
    return np.maximum.accumulate(pos - np.arange(pos.size)) + np.arange(pos.size)
