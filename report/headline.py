"""The answer first: one row per BAG of a finished study.

Reads the stage folders of ``rnce-bag run`` (``brain_age``, ``h2``, ``rg_*``, ``gwas``,
``enrich_*``, ``probe``) and lines up, per representation: brain-age MAE, GREML h2 (SE),
rg with FS-BAG (SE, and its status when not plainly ok), genome-wide loci (the GWAS's
threshold, 5e-8 by default) with
their nearest genes, the top cell
type, and the probe AUCs with DeLong's p against FS. Missing stages leave their columns
empty. Pure table building from files; the demo prints it and the report shows it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from gwas.stages import ENRICH, GWAS, H2, RG
from rnce_bag.core.outputs import output_path, read_output_if_exists
from rnce_bag.core.schema import read_table
from rnce_bag.probes import TASK_LABELS, TASKS
from rnce_bag.stages import BRAIN_AGE, PROBE

PROBE_TASKS = TASKS


ORACLE_LABEL = " (oracle: reads truth)"
#: folder prefix of the oracle's stages in a run (:data:`pipeline.oracle.PREFIX`)
ORACLE_PREFIX = "oracle_"


def headline_table(run: Path, reference: str = "FS", oracle: bool = True,
                   prefix: str = "") -> pd.DataFrame:
    """One row per representation of the run in ``run`` (a ``rnce-bag run`` folder).

    With ``oracle`` and the oracle's stages in the run (``oracle_brain_age``, ...:
    simulated cohorts, :mod:`pipeline.oracle`), its rows other than ``reference`` follow,
    their names ending in :data:`ORACLE_LABEL`: ceilings computed from the simulator's
    truth, not methods. ``prefix``: read the stage folders ``<prefix><stage>`` instead
    (the oracle's own rows).

    Returns
    -------
    DataFrame, shape (n_representations, k)
        ``representation mae h2 h2_se rg rg_se rg_status n_loci lead_loci top_cell_type``
        and ``auc_<task>`` / ``p_<task>`` (DeLong against ``reference``) per probe task.
    """
    def stage(name: str) -> Path:
        return run / f"{prefix}{name}"

    metrics_path = output_path(BRAIN_AGE, "metrics", stage("brain_age"))
    if not metrics_path.exists():
        return pd.DataFrame()
    reps = json.loads(metrics_path.read_text())["representations"]
    h2 = read_output_if_exists(H2, "heritability", stage("h2"))
    gwas = read_output_if_exists(GWAS, "summary", stage("gwas"))
    loci = read_output_if_exists(GWAS, "loci", stage("gwas"))
    probe = read_output_if_exists(PROBE, "scores", stage("probe"))
    pairs = read_output_if_exists(PROBE, "pairs", stage("probe"))
    rg_files = sorted(run.glob(f"{prefix}rg_*/{RG.outputs['rg'].file}"))
    rg = pd.concat([read_table(p, "genetic_correlation") for p in rg_files]) if rg_files \
        else None
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
        ct = read_output_if_exists(ENRICH, "celltypes", stage(f"enrich_{name.lower()}"))
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
    if oracle and output_path(BRAIN_AGE, "metrics", run / f"{ORACLE_PREFIX}brain_age").exists():
        extra = headline_table(run, reference, oracle=False, prefix=ORACLE_PREFIX)
        extra = extra[extra["representation"] != reference]
        extra["representation"] = extra["representation"] + ORACLE_LABEL
        table = pd.concat([table, extra], ignore_index=True)
    return table


#: how a probe task reads in a header
TASK_NAMES = {t: label.replace(" within", "") for t, label in TASK_LABELS.items()}


def headline_cells(table: pd.DataFrame, reference: str = "FS"
                   ) -> tuple[list[str], list[list[str]]]:
    """Header and rows of :func:`headline_table` as people read them: an estimate with its
    SE (or an AUC with DeLong's p) in one cell, labels for headers; the demo's text and
    the report's table both show these (the report's fits a 1,400 px window)."""
    if table.empty:
        return [], []

    def num(v, fmt: str) -> str:
        return "-" if pd.isna(v) else format(v, fmt)

    def cell(r: pd.Series, task: str) -> str:
        auc, p = r.get(f"auc_{task}"), r.get(f"p_{task}")
        return num(auc, ".3f") + ("" if p is None or pd.isna(p) else f" (p {p:.2g})")

    head = ["BAG", "MAE y", "h2 (SE)", f"rg with {reference} (SE)", "loci (lead genes)",
            "top cell type",
            *[f"AUC {TASK_NAMES.get(t, t)}" for t in PROBE_TASKS]]
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
    return head, body


def format_headline(table: pd.DataFrame, reference: str = "FS") -> str:
    """Plain-text rendering of :func:`headline_table` (fixed-width columns)."""
    head, body = headline_cells(table, reference)
    if not head:
        return ""
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]
    return "\n".join("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True))
                     .rstrip() for line in (head, *body))


def run_summary(out: Path) -> str:
    """A short text summary of a finished run (what the demo prints)."""
    from report.stages import REPORT

    lines = [f"report: {output_path(REPORT, 'page', out / 'report')}"]
    head = format_headline(headline_table(out))
    if head:
        from gwas.config import run_thresholds

        gw = run_thresholds(out / "gwas")[0]
        lines += [f"per BAG (loci: p < {gw:g}; AUC p: DeLong against FS; rows marked oracle "
                  "use the simulator's true hidden signal: ceilings, not methods):", head]
    m = output_path(BRAIN_AGE, "metrics", out / "brain_age")
    if m.exists():
        reps = json.loads(m.read_text())["representations"]
        lines.append("brain age (normative subjects, before bias correction): " + "; ".join(
            f"{k} MAE {v['train_uncorrected']['mae']:.2f} y, r {v['train_uncorrected']['r']:.2f}"
            for k, v in reps.items()))
    scores = read_output_if_exists(PROBE, "scores", out / "probe")
    pairs = read_output_if_exists(PROBE, "pairs", out / "probe")
    if scores is not None and pairs is not None and len(pairs):
        from rnce_bag.claims import clinical_claims, format_claims

        lines += format_claims(clinical_claims(scores, pairs))
    t = read_output_if_exists(H2, "heritability", out / "h2")
    if t is not None:
        lines.append(genetics_design(out, int(t["n"].max())))
        lines.append("h2 (GREML): " + "; ".join(f"{r.phenotype} {r.h2:.2f} ({r.h2_se:.2f})"
                                                  for r in t.itertuples()))
    rg_files = sorted(out.glob(f"rg_*/{RG.outputs['rg'].file}"))
    for rg in rg_files:
        t = read_table(rg, "genetic_correlation")
        lines += [f"rg({r.p1}, {r.p2}) = {r.rg:.2f} (SE {r.rg_se:.2f})"
                  + ("" if str(r.status) == "ok" else f" [{r.status}]")
                  for r in t.itertuples()]
    from gwas.verdict import verdicts_from_files

    h2_file = output_path(H2, "heritability", out / "h2")
    lines += [f"verdict: {s}" for s in verdicts_from_files(
        rg_files, [h2_file] if h2_file.exists() else [], out / "gwas")]
    t = read_output_if_exists(GWAS, "summary", out / "gwas")
    if t is not None:
        lines.append("GWAS: " + "; ".join(f"{r.phenotype} lambda {r.lambda_gc:.3f}, "
                                          f"{r.n_genome_wide} genome-wide"
                                          for r in t.itertuples()))
    t = read_output_if_exists(GWAS, "loci", out / "gwas")
    if t is not None:
        for ph, g in t.groupby("phenotype"):
            lines.append(f"lead loci {ph}: " + ", ".join(
                f"{r.nearest_gene} (p {r.p_value:.1e})" for r in g.head(5).itertuples()))
    for e in sorted(out.glob(f"enrich_*/{ENRICH.outputs['celltypes'].file}")):
        t = read_table(e, "celltypes").sort_values("p_value")
        lines.append(f"cell types {e.parent.name.removeprefix('enrich_').upper()}: " + "; ".join(
            f"{method} " + ", ".join(f"{r.cell_type} (p {r.p_value:.2g})"
                                     for r in g.head(2).itertuples())
            for method, g in t.groupby("method", sort=False)))
    return "\n".join(lines)


def genetics_design(out: Path, n: int) -> str:
    """Who and which covariates the genetic analyses used (the same for every BAG)."""
    from rnce_bag.core.outdir import read_run_record

    cfg = read_run_record(out / "brain_age").get("config")
    cfg = cfg if isinstance(cfg, dict) else {}
    who = cfg.get("genetics_subjects", "normative")
    if who == "normative" and cfg.get("train_filter"):
        rule = ", ".join(f"{k} in {'/'.join(v)}" for k, v in cfg["train_filter"].items())
        who = f"normative subjects ({rule})"
    else:
        who = f"{who} subjects" + (", diagnosis as a covariate" if who == "all" else "")
    from gwas.inputs import covariate_names

    names = covariate_names(out / "gwas")
    return (f"genetics: {n} {who}; GWAS, GREML and rg covariates: "
            f"{', '.join(names) if names else 'none'}")
