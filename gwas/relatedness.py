"""Relatedness QC: KING-robust kinship pairs -> a maximal unrelated set, one rule for
every engine.

Each engine computes the KING-robust between-family kinship (Manichaikul et al. 2010,
eq. 11; PLINK 2's ``--make-king-table`` and Hail's ``hl.king`` implement the same
estimator,

    phi_ij = 1/2 + (2 N_AaAa - 4 N_AA,aa - N_Aa(i) - N_Aa(j)) / (4 min(N_Aa(i), N_Aa(j)))

over the variants both samples have called) on the QC'd, LD-pruned common variants of
the ancestry PCA, and lists the pairs at or above :data:`REPORT_FLOOR` (third degree).
:func:`unrelated_set` applies one rule to those pairs, so that both engines remove the
same samples:

1. while a pair at or above the cutoff remains among the kept samples, remove the sample
   with the most such relatives; a tie goes to the sample later in the analysed sample
   order (the genotype file's), the earlier one is kept;
2. then, in the reverse order of removal, give back every removed sample with no relative
   at or above the cutoff among those kept, so that the set is maximal (no removed sample
   could join it).

Pure functions over tables (no I/O).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: KING's boundaries (Manichaikul et al. 2010, table 1): a kinship above 2^-1.5 is a
#: duplicate or a monozygotic twin (degree 0), above 2^-2.5 first degree, above 2^-3.5
#: second, above 2^-4.5 third
DEGREE_BOUNDS: tuple[tuple[float, int], ...] = (
    (2 ** -1.5, 0), (2 ** -2.5, 1), (2 ** -3.5, 2), (2 ** -4.5, 3))
#: the default of ``qc.king_cutoff``: second-degree relatives and closer are removed
#: (PLINK 2's and UK Biobank's convention, 2^-3.5 = 0.0884)
KING_CUTOFF = 0.0884
#: pairs the GWAS lists (kept or not): third degree and closer
REPORT_FLOOR = 2 ** -4.5
#: the default of ``qc.king_min_variants``: below it relatedness QC is skipped (with a
#: warning). KING's sampling noise falls with the number of independent segments: on the
#: simulator's tiny preset (3,339 QC'd variants over 6 Mb) 88 unrelated pairs exceed
#: 0.0884 and on a 199-variant BGEN most samples would go; at 20,000 variants over 60 Mb
#: only the planted relatives do (tests/gwas/test_relatedness.py). Genotyping arrays
#: carry hundreds of thousands.
KING_MIN_VARIANTS = 10_000


def degree(kinship: float) -> int | None:
    """KING's degree of relationship of a kinship coefficient: 0 (duplicate or MZ twin),
    1, 2 or 3; ``None`` when more distant than third degree."""
    for bound, deg in DEGREE_BOUNDS:
        if kinship > bound:
            return deg
    return None


def unrelated_set(samples: list[str], pairs: pd.DataFrame, cutoff: float
                  ) -> tuple[list[str], list[str]]:
    """A maximal set of samples without a pair at or above ``cutoff`` (the module's rule).

    Parameters
    ----------
    samples : list of str, length n
        The analysed samples, in the genotype file's order (ties remove the later one).
    pairs : DataFrame, shape (k, >= 3)
        ``IID1 IID2 kinship``; pairs with a sample outside ``samples`` are ignored.
    cutoff
        Kinship at or above which two samples are related.

    Returns
    -------
    kept, removed : list of str
        ``kept`` in the order of ``samples``; ``removed`` in the order of removal.
    """
    rank = {s: i for i, s in enumerate(samples)}
    close = pairs[(pairs["kinship"] >= cutoff) & pairs["IID1"].isin(rank)
                  & pairs["IID2"].isin(rank) & (pairs["IID1"] != pairs["IID2"])]
    relatives: dict[str, set[str]] = defaultdict(set)
    for a, b in zip(close["IID1"].astype(str), close["IID2"].astype(str), strict=True):
        relatives[a].add(b)
        relatives[b].add(a)
    live = {s: set(r) for s, r in relatives.items()}
    removed: list[str] = []
    while any(live.values()):
        worst = max((s for s, r in live.items() if r), key=lambda s: (len(live[s]), rank[s]))
        for other in live.pop(worst):
            live[other].discard(worst)
        removed.append(worst)
    gone = set(removed)
    for s in reversed(removed):  # maximal: give back whoever has no kept relative
        if not (relatives[s] - gone):
            gone.discard(s)
    kept = [s for s in samples if s not in gone]
    return kept, [s for s in removed if s in gone]


def empty_relatives() -> pd.DataFrame:
    """:func:`relatives_table`'s columns, no pair (a check skipped or not done)."""
    import pandas as pd

    return pd.DataFrame({"IID1": pd.Series(dtype=str), "IID2": pd.Series(dtype=str),
                         "kinship": pd.Series(dtype=float),
                         "degree": pd.Series(dtype="Int64"), "removed": pd.Series(dtype=str)})


def relatives_table(pairs: pd.DataFrame, removed: list[str], n_variants: int | None = None
                    ) -> pd.DataFrame:
    """The pairs a GWAS reports: ``IID1 IID2 kinship degree removed`` (the pair's samples
    that relatedness QC removed, comma-separated; empty when neither), closest first.

    Parameters
    ----------
    pairs : DataFrame, shape (k, >= 3)
        ``IID1 IID2 kinship`` at or above :data:`REPORT_FLOOR`.
    """
    gone = set(removed)
    out = pairs[["IID1", "IID2", "kinship"]].copy()
    out["IID1"], out["IID2"] = out["IID1"].astype(str), out["IID2"].astype(str)
    out["degree"] = [degree(k) for k in out["kinship"]]
    out["degree"] = out["degree"].astype("Int64")
    out["removed"] = [",".join(s for s in (a, b) if s in gone)
                      for a, b in zip(out["IID1"], out["IID2"], strict=True)]
    return out.sort_values(["kinship", "IID1", "IID2"], ascending=[False, True, True]
                           ).reset_index(drop=True)


def relatedness_counts(table: pd.DataFrame, removed: list[str], cutoff: float) -> dict:
    """The counts a GWAS report shows: pairs per degree, samples removed, the cutoff."""
    by_degree = table["degree"].value_counts().to_dict()
    return {"king_cutoff": cutoff,
            "related_pairs": int((table["kinship"] >= cutoff).sum()),
            "pairs_by_degree": {str(int(k)): int(v) for k, v in sorted(by_degree.items())},
            "samples_removed_related": len(removed)}
