"""The answer for a pair of BAGs, in one line: is one more heritable than the other, how
genetically correlated are they, do their loci replicate in each other.

One function for ``compare``, the report's headline and the demo's summary alike
(:func:`pair_verdict` -> :func:`verdict_sentence`). The h2 difference takes its SE from
the joint bivariate GREML fit (``rg.tsv``'s ``h2_diff_se``: the two BAGs' estimates are
correlated, so the independent SE overstates it); rg is tested against 0 (the fit's p)
and against 1 (Wald, from its SE); a lead locus of one BAG replicates in the other when
the other's p at the same lead variant is below the suggestive threshold (stated).
Pure functions over tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gwas.config import SUGGESTIVE_P
from gwas.stages import GWAS

#: |difference| / SE beyond which one BAG is said to be more heritable (two-sided 5%)
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class PairVerdict:
    """What the genetic analyses say of BAGs ``a`` and ``b``."""

    a: str
    b: str
    n: int | None
    h2_a: float
    h2_b: float
    h2_diff: float  # h2(a) - h2(b)
    h2_diff_se: float
    se_source: str  # "joint bivariate GREML" or "independent estimates"
    rg: float
    rg_se: float
    p_rg0: float
    p_rg1: float
    loci_a: int
    loci_b: int
    replicated_in_b: int  # leads of a with p < suggestive in b
    replicated_in_a: int
    suggestive_p: float
    rg_status: str = "ok"


def _p_rg1(rg: float, se: float) -> float:
    from scipy.stats import norm

    if not (np.isfinite(rg) and np.isfinite(se) and se > 0):
        return float("nan")
    return float(2 * norm.sf(abs(1 - rg) / se))


def _replicated(leads: pd.DataFrame, other: pd.DataFrame | None, threshold: float) -> int:
    """How many ``leads`` (``chromosome position``) have p < ``threshold`` in ``other``
    (GWAS-SSF) at the same position."""
    if other is None or not len(leads):
        return 0
    p = other.assign(chromosome=other["chromosome"].astype(str)).set_index(
        ["chromosome", "base_pair_location"])["p_value"]
    p = p[~p.index.duplicated()]
    keys = list(zip(leads["chromosome"].astype(str), leads["position"].astype(int),
                    strict=True))
    return int(sum(float(p.get(k, np.nan)) < threshold for k in keys))


def pair_verdict(a: str, b: str, h2: pd.DataFrame | None, rg: pd.DataFrame | None,
                 loci: pd.DataFrame | None, sumstats: dict[str, pd.DataFrame] | None = None,
                 suggestive_p: float = SUGGESTIVE_P) -> PairVerdict | None:
    """The verdict on ``a`` vs ``b`` from ``heritability.tsv``, ``rg.tsv`` rows and
    ``loci.tsv`` (``sumstats``: phenotype -> GWAS-SSF, for replication); ``None`` when
    neither h2 nor rg of the pair was estimated."""
    row = None
    if rg is not None and len(rg):
        hit = rg[((rg["p1"] == a) & (rg["p2"] == b)) | ((rg["p1"] == b) & (rg["p2"] == a))]
        row = hit.iloc[0] if len(hit) else None
    h = h2.set_index("phenotype") if h2 is not None and len(h2) else None
    if row is None and (h is None or a not in h.index or b not in h.index):
        return None
    flip = row is not None and row["p1"] == b

    def get(key: str) -> float:
        return float(row[key]) if row is not None and key in row.index \
            and pd.notna(row[key]) else float("nan")

    if row is not None and np.isfinite(get("h2_1")):
        h2_a, h2_b = (get("h2_2"), get("h2_1")) if flip else (get("h2_1"), get("h2_2"))
    else:
        h2_a = float(h.loc[a, "h2"]) if h is not None and a in h.index else float("nan")
        h2_b = float(h.loc[b, "h2"]) if h is not None and b in h.index else float("nan")
    se, source = get("h2_diff_se"), "joint bivariate GREML"
    if not np.isfinite(se) and h is not None and a in h.index and b in h.index:
        se = math.sqrt(float(h.loc[a, "h2_se"]) ** 2 + float(h.loc[b, "h2_se"]) ** 2)
        source = "independent estimates"
    la = loci[loci["phenotype"] == a] if loci is not None else pd.DataFrame()
    lb = loci[loci["phenotype"] == b] if loci is not None else pd.DataFrame()
    ss = sumstats or {}
    n = get("n")
    return PairVerdict(
        a, b, int(n) if np.isfinite(n) else None, h2_a, h2_b, h2_a - h2_b, se, source,
        get("rg"), get("rg_se"), get("p"), _p_rg1(get("rg"), get("rg_se")), len(la), len(lb),
        _replicated(la, ss.get(b), suggestive_p), _replicated(lb, ss.get(a), suggestive_p),
        suggestive_p, str(row["status"]) if row is not None and "status" in row.index
        else "ok")


def verdict_sentence(v: PairVerdict) -> str:
    """The plain sentence: which BAG is more heritable (or that they cannot be told apart
    at this n), rg against 0 and 1, and the loci's replication."""
    n = f"n = {v.n:,}" if v.n else "this sample size"
    parts = []
    if np.isfinite(v.h2_diff) and np.isfinite(v.h2_diff_se) and v.h2_diff_se > 0:
        hi, lo = (v.a, v.b) if v.h2_diff > 0 else (v.b, v.a)
        if abs(v.h2_diff) / v.h2_diff_se >= Z_95:
            parts.append(f"{hi} is more heritable than {lo} by {abs(v.h2_diff):.2f} "
                         f"(SE {v.h2_diff_se:.2f}, {v.se_source})")
        else:
            parts.append(f"{v.a} and {v.b} cannot be told apart in h2 at {n} (difference "
                         f"{v.h2_diff:+.2f}, SE {v.h2_diff_se:.2f}, {v.se_source})")
    if "undefined" in v.rg_status:  # an h2 at ~0: no genetic correlation to speak of
        parts.append(f"rg not estimable ({v.rg_status.removeprefix('ok; ')})")
    elif np.isfinite(v.rg) and np.isfinite(v.rg_se):
        below = "below 1" if np.isfinite(v.p_rg1) and v.p_rg1 < 0.05 else \
            "not distinguishable from 1"
        parts.append(f"rg {v.rg:.2f} (SE {v.rg_se:.2f}; p(rg = 0) {v.p_rg0:.2g}, p(rg = 1) "
                     f"{v.p_rg1:.2g}: {below})")
    parts.append(f"loci: {v.a} {v.loci_a} ({v.replicated_in_b} at p < {v.suggestive_p:g} in "
                 f"{v.b}), {v.b} {v.loci_b} ({v.replicated_in_a} at p < {v.suggestive_p:g} "
                 f"in {v.a})")
    return "; ".join(parts) + "."


def verdicts_from_files(rg_files, h2_files, gwas_dir=None) -> list[str]:
    """One sentence per BAG pair of the ``rg.tsv`` files (with ``heritability.tsv``
    files and a GWAS folder's loci and summary statistics when there are): what
    ``compare``, the report and the demo's summary print first."""
    from pathlib import Path

    from gwas.config import run_thresholds
    from gwas.sumstats import read_sumstats
    from rnce_bag.core.outputs import output_path, read_output_if_exists
    from rnce_bag.core.schema import read_table

    rg = [read_table(p, "genetic_correlation") for p in rg_files]
    if not rg:
        return []
    rg_all = pd.concat(rg, ignore_index=True)
    h2 = [read_table(p, "heritability") for p in h2_files]
    h2_all = pd.concat(h2, ignore_index=True).drop_duplicates("phenotype") if h2 else None
    loci, sumstats, sugg = None, {}, SUGGESTIVE_P
    if gwas_dir is not None and Path(gwas_dir).is_dir():
        loci = read_output_if_exists(GWAS, "loci", gwas_dir)
        sugg = run_thresholds(gwas_dir)[1]
        for ph in set(rg_all["p1"]) | set(rg_all["p2"]):
            path = output_path(GWAS, "sumstats", gwas_dir, phenotype=ph)
            if path.exists():
                sumstats[ph] = read_sumstats(path)
    out = []
    for _, r in rg_all[rg_all["method"] == "greml"].drop_duplicates(["p1", "p2"]).iterrows():
        v = pair_verdict(r["p1"], r["p2"], h2_all, rg_all, loci, sumstats, sugg)
        if v is not None:
            out.append(verdict_sentence(v))
    return out
