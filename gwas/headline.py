"""The answer first: one row per BAG of a finished study.

Reads the stage folders of ``rnce-bag run`` (``brain_age``, ``h2``, ``rg_*``, ``gwas``,
``enrich_*``, ``probe``) and lines up, per representation: brain-age MAE, GREML h2 (SE),
rg with FS-BAG (SE, and its status when not plainly ok), genome-wide loci (p < 5e-8) with
their nearest genes, the top cell
type, and the probe AUCs with DeLong's p against FS. Missing stages leave their columns
empty. Pure table building from files; the demo prints it and the report shows it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

PROBE_TASKS = ("ad_vs_cn", "conversion_2y", "conversion_3y", "amyloid")


def _read(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path, sep="\t") if path.exists() else None


ORACLE_LABEL = " (oracle: reads truth)"


def headline_table(run: Path, reference: str = "FS", oracle: bool = True) -> pd.DataFrame:
    """One row per representation of the run in ``run`` (a ``rnce-bag run`` folder).

    With ``oracle`` and an ``oracle/`` stage in the run (simulated cohorts, ``rnce-bag
    oracle``), its rows other than ``reference`` follow, their names ending in
    :data:`ORACLE_LABEL`: ceilings computed from the simulator's truth, not methods.

    Returns
    -------
    DataFrame, shape (n_representations, k)
        ``representation mae h2 h2_se rg rg_se rg_status n_loci lead_loci top_cell_type``
        and ``auc_<task>`` / ``p_<task>`` (DeLong against ``reference``) per probe task.
    """
    metrics_path = run / "brain_age" / "metrics.json"
    if not metrics_path.exists():
        return pd.DataFrame()
    reps = json.loads(metrics_path.read_text())["representations"]
    h2 = _read(run / "h2" / "heritability.tsv")
    gwas, loci = _read(run / "gwas" / "summary.tsv"), _read(run / "gwas" / "loci.tsv")
    probe, pairs = _read(run / "probe" / "probe.tsv"), _read(run / "probe" / "probe_pairs.tsv")
    rg = pd.concat([pd.read_csv(p, sep="\t") for p in sorted(run.glob("rg_*/rg.tsv"))]) \
        if any(run.glob("rg_*/rg.tsv")) else None
    rows = []
    for name, m in reps.items():
        ph = "BAG_" + name.upper()
        row: dict = {"representation": name, "mae": m["train_uncorrected"]["mae"]}
        if h2 is not None and (h2["phenotype"] == ph).any():
            r = h2[h2["phenotype"] == ph].iloc[0]
            row.update(h2=r["h2"], h2_se=r["h2_se"])
        if rg is not None:
            hit = rg[((rg["p1"] == f"BAG_{reference}") & (rg["p2"] == ph))
                     | ((rg["p2"] == f"BAG_{reference}") & (rg["p1"] == ph))]
            if len(hit):
                r = hit.iloc[0]
                row.update(rg=r["rg"], rg_se=r["rg_se"], rg_status=r["status"])
        if gwas is not None and (gwas["phenotype"] == ph).any():
            row["n_loci"] = int((loci["phenotype"] == ph).sum()) if loci is not None else 0
            lead = loci[loci["phenotype"] == ph] if loci is not None else None
            if lead is not None and len(lead):
                row["lead_loci"] = ", ".join(str(g) for g in lead.sort_values("p_value")
                                             ["nearest_gene"].head(3))
        ct = _read(run / f"enrich_{name.lower()}" / "celltypes.tsv")
        if ct is not None and len(ct):
            best = ct.sort_values("p_value").iloc[0]
            row["top_cell_type"] = f"{best['cell_type']} (p {best['p_value']:.2g})"
        for task in PROBE_TASKS:
            if probe is not None:
                hit = probe[(probe["task"] == task) & (probe["representation"] == name)]
                if len(hit):
                    row[f"auc_{task}"] = hit["auc"].iloc[0]
            if pairs is not None and name != reference:
                hit = pairs[(pairs["task"] == task) & (pairs["rep_a"] == reference)
                            & (pairs["rep_b"] == name)]
                if len(hit):
                    row[f"p_{task}"] = hit["p_delong"].iloc[0]
        rows.append(row)
    table = pd.DataFrame(rows)
    if oracle and (run / "oracle" / "brain_age" / "metrics.json").exists():
        extra = headline_table(run / "oracle", reference, oracle=False)
        extra = extra[extra["representation"] != reference]
        extra["representation"] = extra["representation"] + ORACLE_LABEL
        table = pd.concat([table, extra], ignore_index=True)
    return table


def format_headline(table: pd.DataFrame, reference: str = "FS") -> str:
    """Plain-text rendering of :func:`headline_table` (fixed-width columns)."""
    if table.empty:
        return ""

    def num(v, fmt: str) -> str:
        return "-" if pd.isna(v) else format(v, fmt)

    def cell(r: pd.Series, task: str) -> str:
        auc, p = r.get(f"auc_{task}"), r.get(f"p_{task}")
        return num(auc, ".3f") + ("" if p is None or pd.isna(p) else f" (p {p:.2g})")

    head = ["BAG", "MAE y", "h2 (SE)", f"rg with {reference} (SE)", "loci (lead genes)",
            "top cell type",
            *[f"AUC {t}" for t in PROBE_TASKS]]
    body = []
    for _, r in table.iterrows():
        rg = "-" if pd.isna(r.get("rg")) else f"{r['rg']:.2f} ({r['rg_se']:.2f})"
        status = r.get("rg_status")
        if rg != "-" and isinstance(status, str) and status != "ok":
            rg += " [" + status.removeprefix("ok; ") + "]"
        h2 = "-" if pd.isna(r.get("h2")) else f"{r['h2']:.2f} ({r['h2_se']:.2f})"
        body.append([r["representation"], num(r["mae"], ".2f"), h2, rg,
                     num(r.get("n_loci"), ".0f") + (f" ({r['lead_loci']})"
                                                    if isinstance(r.get("lead_loci"), str)
                                                    else ""),
                     r["top_cell_type"] if isinstance(r.get("top_cell_type"), str) else "-",
                     *[cell(r, t) for t in PROBE_TASKS]])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]
    return "\n".join("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True))
                     .rstrip() for line in (head, *body))
