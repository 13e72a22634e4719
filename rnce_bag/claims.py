"""The paper's clinical claims, stated as the paper states them, met or not, with numbers.

The method's paper makes two clinical claims, each tested here on a probe table
(:func:`rnce_bag.probes.probe`) with DeLong's paired test against FreeSurfer:

1. Generic self-supervised representations (SimCLR, Barlow Twins) fall **behind**
   FreeSurfer features on AD vs CN, MCI-to-AD conversion and amyloid status.
2. R-NCE **beats** FreeSurfer, most clearly for 2- and 3-year conversion (p < 1e-4 in the
   paper).

A claim row is ``met`` when the AUC difference has the claimed sign and DeLong's p is
below ``alpha``, ``direction only`` when the sign is right but p is not, and ``not met``
otherwise; the numbers (AUCs, difference, p, Holm-adjusted p, subjects) are always given.
Pure table building; the report and the demo's summary show it.
"""

from __future__ import annotations

import pandas as pd

from rnce_bag.probes import TASKS
from rnce_bag.ssl.methods import methods

#: claim 1 is about every generic method of the registry (SimCLR, Barlow Twins, a plug-in
#: such as VICReg), claim 2 about the method whose loss reads the FreeSurfer features
GENERIC_SSL = tuple(m.representation for m in methods() if not m.uses_auxiliary)
METHOD = next(m.representation for m in methods() if m.uses_auxiliary)
REFERENCE = "FS"
CLAIM_1_TASKS = TASKS
CLAIM_2_TASKS = tuple(t for t in TASKS if t.startswith("conversion"))


def _pair(pairs: pd.DataFrame, task: str, ref: str, rep: str) -> dict | None:
    """AUCs of ``ref`` and ``rep`` on ``task`` and DeLong's p, from whichever row of the
    pairs table compares them (``auc_diff`` there is ``auc_a - auc_b``)."""
    for a, b in ((ref, rep), (rep, ref)):
        hit = pairs[(pairs["task"] == task) & (pairs["rep_a"] == a) & (pairs["rep_b"] == b)]
        if len(hit):
            r = hit.iloc[0]
            auc = {a: float(r["auc_a"]), b: float(r["auc_b"])}
            return {"auc_ref": auc[ref], "auc": auc[rep], "p_delong": float(r["p_delong"]),
                    "p_holm": float(r["p_holm"]) if "p_holm" in r.index else float("nan")}
    return None


def clinical_claims(scores: pd.DataFrame, pairs: pd.DataFrame, alpha: float = 0.05
                    ) -> pd.DataFrame:
    """One row per (claim, representation, task) that the probe tables can test.

    Parameters
    ----------
    scores, pairs
        ``probe.tsv`` and ``probe_pairs.tsv`` of one probe run.
    alpha
        DeLong p below which a difference of the claimed sign counts as met.

    Returns
    -------
    DataFrame
        ``claim representation task n n_pos auc_fs auc auc_diff p_delong p_holm status``
        (``auc_diff`` = representation - FS); empty when FS or the methods are absent.
    """
    n = scores.drop_duplicates("task").set_index("task")[["n", "n_pos"]]
    claims = [(1, rep, task, -1) for rep in GENERIC_SSL for task in CLAIM_1_TASKS]
    claims += [(2, METHOD, task, +1) for task in CLAIM_2_TASKS]
    rows = []
    for claim, rep, task, sign in claims:
        r = _pair(pairs, task, REFERENCE, rep)
        if r is None:
            continue
        diff, p = r["auc"] - r["auc_ref"], r["p_delong"]
        status = ("met" if p < alpha else "direction only") if diff * sign > 0 else "not met"
        rows.append({
            "claim": claim, "representation": rep, "task": task,
            "n": int(n.loc[task, "n"]), "n_pos": int(n.loc[task, "n_pos"]),
            "auc_fs": r["auc_ref"], "auc": r["auc"], "auc_diff": diff, "p_delong": p,
            "p_holm": r["p_holm"], "status": status})
    return pd.DataFrame(rows, columns=["claim", "representation", "task", "n", "n_pos",
                                       "auc_fs", "auc", "auc_diff", "p_delong", "p_holm",
                                       "status"])


CLAIM_TEXT = {
    1: "generic SSL (SimCLR, Barlow Twins) falls behind FreeSurfer on AD, conversion and "
       "amyloid",
    2: "R-NCE beats FreeSurfer on 2- and 3-year conversion (paper: p < 1e-4)",
}


def format_claims(table: pd.DataFrame) -> list[str]:
    """Plain-text lines, one per claim row (for the demo's summary and the README)."""
    lines = []
    for claim, group in table.groupby("claim", sort=True):
        lines.append(f"claim {claim}: {CLAIM_TEXT[int(claim)]}")
        for _, r in group.iterrows():
            lines.append(f"  {r['representation']:<7} {r['task']:<14} AUC {r['auc']:.3f} vs FS "
                         f"{r['auc_fs']:.3f} ({r['auc_diff']:+.3f}, DeLong p {r['p_delong']:.2g}"
                         f", Holm {r['p_holm']:.2g}; n {r['n']}, {r['n_pos']} positive): "
                         f"{r['status']}")
    return lines
