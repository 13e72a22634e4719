"""The HTML report of a run folder, and the comparison of two BAGs.

``collect`` finds what the stages wrote anywhere below the run folder (brain-age
``metrics.json``/``figure_data.tsv``, ``probe.tsv``, GWAS ``summary.tsv`` with its
GWAS-SSF files and ``loci.tsv``, ``heritability.tsv``, ``rg.tsv``, ``run.json``);
``build_report`` draws the figures (PNG at 200 dpi and SVG, in ``figures/``) and
renders one page with jinja2 autoescaping, so every string from a user's files is
escaped. The page loads nothing from the network.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from gwas.config import REGION_WINDOW_KB
from gwas.config import run_thresholds as thresholds
from gwas.inputs import covariate_names
from gwas.locus_compare import compare_loci
from gwas.stages import ENRICH, GWAS, H2, RG
from gwas.sumstats import read_sumstats
from gwas.verdict import pair_verdict, verdict_sentence, verdicts_from_files
from report.headline import ORACLE_PREFIX, genetics_design, headline_cells, headline_table
from report.stages import REPORT
from rnce_bag.core.errors import InputError
from rnce_bag.core.io import atomic_path, ensure_writable_dir, write_text
from rnce_bag.core.names import file_stem
from rnce_bag.core.outdir import read_run_record, recorded_command
from rnce_bag.core.outputs import output_path, read_output, read_output_if_exists
from rnce_bag.core.schema import read_table
from rnce_bag.probes import TASK_LABELS
from rnce_bag.stages import BRAIN_AGE, PROBE, REGISTER

#: estimates whose SE is about 0.01-0.1 (h2, rg, AUC, MAE): fixed decimals, so an h2 at
#: its boundary reads 0.000, not 1.2e-06
FIXED_3 = re.compile(r"^(h2|h2_se|h2_\d|h2_\d_se|h2_diff_se|rg|rg_se|intercept|intercept_se|"
                     r"auc|auc_.*|auc_a|auc_b|auc_diff|auc_fs|ci_low|ci_high|mae|mae_.*|r|"
                     r"lambda_gc|mean_chi2|balanced_accuracy)$")
COLUMN_LABELS = {
    "phenotype": "phenotype", "representation": "representation", "n": "n", "m": "variants",
    "n_samples": "samples", "n_variants": "variants", "lambda_gc": "lambda GC",
    "mean_chi2": "mean chi2", "n_genome_wide": "genome-wide variants", "min_p": "min p",
    "locus_id": "locus", "lead_variant": "lead variant", "p_value": "p", "p_fdr": "FDR",
    "p_bonferroni": "Bonferroni p", "nearest_gene": "nearest gene", "h2_se": "h2 SE",
    "rg_se": "rg SE", "rg_fs": "rg with FS", "rg_fs_se": "rg SE", "rg_status": "rg status",
    "intercept": "LDSC intercept", "intercept_se": "LDSC intercept SE", "beta_se": "beta SE",
    "n_genes": "genes",
    "cell_type": "cell type", "n_pos": "positive", "ci_low": "95% CI low",
    "ci_high": "95% CI high", "balanced_accuracy": "balanced accuracy",
    "age_pos": "mean age, positive", "age_neg": "mean age, negative", "rep_a": "A",
    "rep_b": "B", "auc_diff": "AUC A - B", "p_delong": "DeLong p", "p_holm": "Holm p",
    "auc_fs": "AUC FS", "auc": "AUC", "mae": "MAE (y)", "h2": "h2", "rg": "rg",
    "top_celltype": "top cell type", "n_loci": "loci", "loci_genes": "lead genes",
}


def column_label(column: str) -> str:
    """What a table's header says for a column (``auc_ad_vs_cn`` -> ``AUC AD vs CN``)."""
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    for prefix, said in (("auc_", "AUC "), ("p_", "DeLong p, ")):
        if column.startswith(prefix) and column[len(prefix):] in TASK_LABELS:
            return said + TASK_LABELS[column[len(prefix):]]
    return column.replace("_", " ")


def _fmt(v, column: str | None = None) -> str:
    if v is pd.NA or v is None:
        return "NA"
    if isinstance(v, float | np.floating):
        if math.isnan(v):
            return "NA"
        if column is not None and FIXED_3.match(column):
            return f"{v:.3f}"
        return f"{v:.3g}" if abs(v) < 1e-3 or abs(v) >= 1e4 else f"{v:.4g}"
    return str(v)


def _rows(df: pd.DataFrame, columns: list[str]) -> list[dict[str, str]]:
    return [{c: _fmt(r[c], c) if c in r else "" for c in columns} for _, r in df.iterrows()]


def _is_oracle(folder: str) -> bool:
    return folder == "oracle" or folder.startswith(ORACLE_PREFIX)


def collect(run_dir: str | os.PathLike[str]) -> dict:
    """Paths of every stage output below ``run_dir``."""
    run = Path(run_dir)
    if not run.is_dir():
        raise InputError(f"run folder '{run}' not found")
    def glob(name: str) -> list[Path]:
        # skips hidden folders (a pipeline's partial stages) and the oracle's stages
        # (oracle, oracle_*), whose rows only appear, labelled, in the headline table
        return sorted(p for p in run.rglob(name)
                      if not any(part.startswith(".") for part in p.relative_to(run).parts)
                      and not _is_oracle(p.relative_to(run).parts[0]))

    found: dict = {"brain_age": [], "probe": [], "gwas": [], "heritability": [], "rg": [],
                   "run_json": glob("run.json")}
    for m in glob(BRAIN_AGE.outputs["metrics"].file):
        if output_path(BRAIN_AGE, "figure_data", m.parent).exists():
            found["brain_age"].append(m.parent)
    found["probe"] = [p.parent for p in glob(PROBE.outputs["scores"].file)]
    found["gwas"] = [p.parent for p in glob(GWAS.outputs["summary"].file)
                     if output_path(GWAS, "report", p.parent).exists()]
    found["heritability"] = glob(H2.outputs["heritability"].file)
    found["rg"] = glob(RG.outputs["rg"].file)
    found["celltypes"] = glob(ENRICH.outputs["celltypes"].file)
    found["registration"] = [p.parent for p in glob(REGISTER.outputs["qc"].file)]
    if not any(found[k] for k in ("brain_age", "probe", "gwas", "heritability", "rg",
                                  "celltypes", "registration")):
        raise InputError(f"nothing to report in '{run}': no brain-age, probe, GWAS, "
                         "heritability, rg or cell-type outputs below it",
                         hint="pass the folder the stages wrote into (e.g. the --out of "
                              "'rnce-bag run')")
    return found


#: every figure is shown at this many pixels per inch of its matplotlib size, so fonts
#: (one scale, set in gwas.plots) read the same size in every figure of the page
PX_PER_INCH = 96
DPI = 200


class FigureLink(str):
    """A saved figure's link (``figures/<name>.png``) with its display ``width`` (px)."""

    width: int


def _save(fig, figdir: Path, name: str) -> FigureLink:
    import matplotlib.pyplot as plt

    for ext, kw in ((".png", {"dpi": DPI}), (".svg", {})):
        with atomic_path(figdir / f"{name}{ext}") as tmp:
            fig.savefig(tmp, format=ext[1:], bbox_inches="tight", **kw)
    plt.close(fig)
    with open(figdir / f"{name}.png", "rb") as fh:  # the PNG header: width at bytes 16-19
        width = int.from_bytes(fh.read(24)[16:20], "big") * PX_PER_INCH // DPI
    # the file name may hold file_stem's %XX escapes: the link must escape the '%' itself
    link = FigureLink("figures/" + quote(f"{name}.png"))
    link.width = width
    return link


def _region_window_kb(gwas_dir: Path) -> int:
    """The window the GWAS stage drew its regions with (its run.json config)."""
    try:
        return int(read_run_record(gwas_dir)["config"].get("region_window_kb", REGION_WINDOW_KB))
    except (KeyError, TypeError, ValueError, AttributeError):
        return 500


def _with_ldsc_intercepts(summary: pd.DataFrame, h2_files: list[Path]
                          ) -> tuple[pd.DataFrame, bool]:
    """``summary`` with the LD score regression intercept (SE) of each phenotype that an
    ``h2 --method ldsc`` run of the folder estimated (wherever LD scores were available)."""
    rows = [read_table(p, "heritability") for p in h2_files]
    ldsc = [t[t["method"] == "ldsc"] for t in rows]
    ldsc = pd.concat(ldsc, ignore_index=True).drop_duplicates("phenotype") if ldsc else None
    if ldsc is None or not len(ldsc):
        return summary, False
    return summary.merge(ldsc[["phenotype", "intercept", "intercept_se"]], on="phenotype",
                         how="left"), True


def _trait_of_run(celltypes: Path) -> str:
    """The trait of an enrich run (its record; a study's folder name otherwise)."""
    from gwas.stages import trait_of

    try:
        record = read_run_record(celltypes.parent)
        trait = (record.get("config") or {}).get("trait")
        if not trait and record.get("inputs"):  # runs before the trait was recorded
            trait = trait_of(Path(next(iter(record["inputs"]))))
    except (OSError, ValueError, AttributeError, StopIteration):
        trait = None
    return str(trait or celltypes.parent.name)


def _genetic_designs(found: dict, gwas_names: list[str]) -> str:
    """What each h2 / rg run adjusted for, read from its own run record (not assumed to
    be the GWAS's)."""
    said = []
    for path in [*found["heritability"], *found["rg"]]:
        try:
            cfg = read_run_record(path.parent).get("config") or {}
        except (OSError, ValueError, AttributeError):
            cfg = {}
        if cfg.get("method") != "greml":
            continue
        used = cfg.get("covariates")
        kind = "h2" if path in found["heritability"] else "rg"
        where = f"{kind} ({path.parent.name})"
        if used is None:
            said.append(f"{where}: not recorded (a run before covariates were recorded)")
        elif list(used) == list(gwas_names):
            said.append(f"{where}: the GWAS's")
        else:
            said.append(f"{where}: " + (", ".join(used) if used else "none"))
    return ("GREML covariates: " + "; ".join(said) + ".") if said else ""


def _regional_figures(gwas_dir: Path, name: str, loci: pd.DataFrame,
                      regions: pd.DataFrame | None, figdir: Path,
                      kind: str = "lead") -> list[dict[str, str]]:
    """One regional plot per lead locus of ``name`` (none without regions.tsv.gz);
    ``kind`` ``suggestive`` labels the plots of suggestive loci as such."""
    from gwas.locus_plots import regional
    from rnce_bag.resources import load_gene_table

    if regions is None or not len(loci):
        return []
    genes, window = load_gene_table("GRCh37"), _region_window_kb(gwas_dir)
    figs = []
    for _, lo in loci.iterrows():
        reg = regions[(regions["phenotype"] == name) & (regions["locus_id"] == lo["locus_id"])]
        if not len(reg):
            continue
        label = f"{lo['locus_id']} {lo['lead_variant']} ({lo.get('nearest_gene') or ''})"
        if kind == "suggestive":
            label = f"suggestive {label}"
        fig = regional([(str(name), reg)], genes, str(lo["chromosome"]), int(lo["position"]),
                       window, title=f"{name}: {label}, n = {int(reg['p_value'].size)} variants",
                       thresholds=thresholds(gwas_dir))
        figs.append({"src": _save(fig, figdir, f"regional_{file_stem(name)}_{lo['locus_id']}"),
                     "alt": f"regional plot of {name} at {label}"})
    return figs


def rg_sentence(x: pd.Series) -> str:
    """``rg 0.855 (SE 0.067); p(rg = 0) 3.5e-37, p(rg = 1) 0.031`` for one ``rg.tsv`` row
    (the test of rg = 1 is Wald's, from the SE)."""
    from scipy.stats import norm

    if pd.isna(x["rg"]) or pd.isna(x["rg_se"]) or not x["rg_se"] > 0:
        return f"rg not estimated ({x['status']})"
    p1 = 2 * norm.sf(abs(1 - float(x["rg"])) / float(x["rg_se"]))
    return (f"rg {x['rg']:.3f} (SE {x['rg_se']:.3f}); p(rg = 0) {_fmt(x['p'])}, "
            f"p(rg = 1) {_fmt(p1)}" + ("" if x["status"] == "ok" else f" [{x['status']}]"))


def compare_bags(found: dict, a: str, b: str, figdir: Path) -> dict:
    """Side-by-side numbers, Miami plot and shared/unique loci of phenotypes ``a`` and ``b``."""
    from gwas import plots

    fa, fb = (output_path(GWAS, "sumstats", "", phenotype=x).name for x in (a, b))
    gdir = next((d for d in found["gwas"] if (d / fa).exists() and (d / fb).exists()), None)
    if gdir is None:
        raise InputError(f"no GWAS in the run has both {a} and {b} (looked for {fa} and {fb} "
                         "next to a summary.tsv)",
                         hint="run 'rnce-bag gwas' with both phenotypes in --pheno")
    sa, sb = read_sumstats(gdir / fa), read_sumstats(gdir / fb)
    loci = read_output(GWAS, "loci", gdir)
    la, lb = loci[loci["phenotype"] == a], loci[loci["phenotype"] == b]
    summary = read_output(GWAS, "summary", gdir).set_index("phenotype")
    merged = []
    for _, r in pd.concat([la, lb]).iterrows():
        near = [m for m in merged if m["chromosome"] == r["chromosome"]
                and abs(m["position"] - int(r["position"])) <= 500_000]
        if near:
            near[0]["found in"].add(r["phenotype"])
        else:
            merged.append({"locus": r["lead_variant"], "chromosome": r["chromosome"],
                           "position": int(r["position"]), "genes": r.get("nearest_gene", ""),
                           "found in": {r["phenotype"]}})
    shared = [(m["chromosome"], m["position"]) for m in merged if len(m["found in"]) == 2]
    miami = _save(plots.miami(sa, sb, a, b, la, lb, shared, thresholds=thresholds(gdir)), figdir,
                  f"miami_{file_stem(a)}_{file_stem(b)}")
    rows = []

    def add(q, va, vb, diff=""):
        rows.append({"quantity": q, a: _fmt(va), b: _fmt(vb), "difference": diff})

    add("lambda GC", summary.loc[a, "lambda_gc"], summary.loc[b, "lambda_gc"])
    add("genome-wide significant variants", summary.loc[a, "n_genome_wide"],
        summary.loc[b, "n_genome_wide"])
    add("lead loci", len(la), len(lb), f"{len(shared)} shared")
    pair_rows = []
    for path in found["rg"]:
        r = read_table(path, "genetic_correlation")
        pair_rows += [x for _, x in r[((r["p1"] == a) & (r["p2"] == b))
                                      | ((r["p1"] == b) & (r["p2"] == a))].iterrows()]
    joint = next((x for x in pair_rows if x["method"] == "greml"
                  and "h2_diff_se" in x.index and pd.notna(x["h2_diff_se"])), None)
    for path in found["heritability"]:
        h = read_table(path, "heritability").set_index("phenotype")
        if a in h.index and b in h.index:
            ha, hb = h.loc[a], h.loc[b]
            d = ha["h2"] - hb["h2"]
            if joint is not None and ha["method"] == "greml":
                # the bivariate fit's SE of the difference counts the two BAGs' covariance;
                # with its own h2s (at small n they differ from the univariate fits')
                diff = f"{d:+.3f} (SE {joint['h2_diff_se']:.3f}, joint bivariate GREML)"
                if pd.notna(joint.get("h2_1")) and pd.notna(joint.get("h2_2")):
                    j1, j2 = (float(joint["h2_1"]), float(joint["h2_2"]))
                    ja, jb = (j1, j2) if joint["p1"] == a else (j2, j1)
                    diff = (f"{ja - jb:+.3f} (SE {joint['h2_diff_se']:.3f}; joint bivariate "
                            f"GREML, whose h2 are {ja:.3f} and {jb:.3f})")
            else:
                se = math.sqrt(ha["h2_se"] ** 2 + hb["h2_se"] ** 2)
                diff = f"{d:+.3f} (SE {se:.3f}, assuming independent estimates)"
            add(f"h2 ({ha['method']})", f"{ha['h2']:.3f} ({ha['h2_se']:.3f})",
                f"{hb['h2']:.3f} ({hb['h2_se']:.3f})", diff)
    for x in pair_rows:  # a quantity of the pair: in the pair's column
        add(f"rg ({x['method']})", "", "", rg_sentence(x))
    rep_a, rep_b = a.removeprefix("BAG_"), b.removeprefix("BAG_")
    for pdir in found["probe"]:
        pairs = output_path(PROBE, "pairs", pdir)
        if not pairs.exists():
            continue
        pp = read_output(PROBE, "pairs", pdir)
        for _, x in pp.iterrows():
            if {str(x["rep_a"]).upper(), str(x["rep_b"]).upper()} == {rep_a.upper(),
                                                                       rep_b.upper()}:
                sign = 1 if str(x["rep_a"]).upper() == rep_a.upper() else -1
                add(f"AUC {x['task']}", x["auc_a"] if sign > 0 else x["auc_b"],
                    x["auc_b"] if sign > 0 else x["auc_a"],
                    f"{sign * x['auc_diff']:+.3f} (DeLong p = {_fmt(x['p_delong'])})")
    loci_rows = [{**m, "found in": ", ".join(sorted(m["found in"])), "position": m["position"]}
                 for m in merged]
    per_locus = compare_loci(a, b, loci, {a: sa, b: sb},
                             read_output_if_exists(GWAS, "regions", gdir),
                             _region_window_kb(gdir), lambda fig, name: _save(fig, figdir, name),
                             thresholds(gdir))
    h2s = [read_table(p, "heritability") for p in found["heritability"]]
    v = pair_verdict(a, b, pd.concat(h2s, ignore_index=True).drop_duplicates("phenotype")
                     if h2s else None, pd.DataFrame(pair_rows) if pair_rows else None, loci,
                     {a: sa, b: sb}, thresholds(gdir)[1])
    return {"a": a, "b": b, "rows": rows, "miami": miami, "loci": loci_rows,
            "per_locus": per_locus, "verdict": verdict_sentence(v) if v else ""}


def build_report(run_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None,
                 compare: tuple[str, str] | None = None) -> Path:
    """Render ``index.html`` and ``figures/`` for the run; returns the page's path.

    One section per kind of result the run folder holds (each None when absent): the
    headline, provenance, brain age, probes, GWAS, h2, rg, cell types and the comparison
    of two BAGs (the first two BAG phenotypes when ``compare`` is not given).
    """
    import jinja2

    from rnce_bag import __version__

    run = Path(run_dir)
    found = collect(run_dir)
    out = ensure_writable_dir(Path(out) if out else run / "report")
    figdir = ensure_writable_dir(out / "figures")
    ctx: dict = {"title": run.resolve().name, "run_dir": str(run_dir),
                 "version": __version__, "brain_age": None, "probes": None, "gwas": None,
                 "heritability": None, "rg": None, "compare": None, "celltypes": None,
                 "headline": None, "registration": None,
                 "verdicts": verdicts_from_files(
                     found["rg"], found["heritability"],
                     found["gwas"][0] if found["gwas"] else None)}
    ctx["headline"] = _headline_section(run, figdir)
    ctx["provenance"] = _provenance(found)
    if found["registration"]:
        ctx["registration"] = _registration_section(found["registration"][0], figdir)
    if found["brain_age"]:
        ctx["brain_age"] = _brain_age_section(found["brain_age"][0], figdir)
    if found["probe"]:
        ctx["probes"] = _probe_section(found["probe"][0], figdir)
    if found["gwas"]:
        ctx["gwas"] = _gwas_section(found, figdir)
    if found["heritability"]:
        ctx["heritability"] = _h2_section(found["heritability"], figdir)
    if found["rg"]:
        ctx["rg"] = _rg_section(found["rg"], figdir)
    if found["celltypes"]:
        ctx["celltypes"] = _celltype_section(found["celltypes"], figdir)
    if compare is None and found["gwas"]:
        bags = [p for p in read_output(GWAS, "summary", found["gwas"][0])["phenotype"]
                if str(p).startswith("BAG_")]
        if len(bags) >= 2:
            compare = (bags[0], bags[1])
    if compare is not None:
        ctx["compare"] = compare_bags(found, compare[0], compare[1], figdir)
    env = jinja2.Environment(loader=jinja2.PackageLoader("report", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["label"] = column_label
    html = env.get_template("report.html.j2").render(**ctx)
    return write_text(output_path(REPORT, "page", out), html)


def _headline_section(run: Path, figdir: Path) -> dict | None:
    """The headline table (FS-BAG vs R-NCE-BAG, oracle rows labelled) and its figure."""
    from gwas import plots

    head = headline_table(run)
    if head.empty:
        return None
    h2 = read_output_if_exists(H2, "heritability", run / "h2")
    header, cells = headline_cells(head)
    return {"rows": [dict(zip(header, c, strict=True)) for c in cells],
            "columns": header,
            "figure": _save(plots.headline(head), figdir, "headline"),
            "design": genetics_design(run, int(h2["n"].max()))
            if h2 is not None and h2["n"].notna().any() else ""}


def _provenance(found: dict) -> list[dict]:
    """One row per stage's run.json (the study's own left out), in start order."""
    prov = []
    for rj in found["run_json"]:
        d = read_run_record(rj.parent)
        if recorded_command(rj.parent) in (None, "run"):  # unreadable, or the study's own
            continue
        stage = d["command"] if rj.parent.name.replace("_", "-") == d["command"] else \
            f"{d['command']} ({rj.parent.name})"
        prov.append({"stage": stage, "status": d.get("status", "?"),
                     "started": d.get("started", ""), "finished": d.get("finished") or "",
                     "git revision": (d.get("git_revision") or "")[:12]})
    return sorted(prov, key=lambda r: r["started"])


def _brain_age_section(d: Path, figdir: Path) -> dict:
    """Accuracy and bias correction per representation, with its figure."""
    from gwas import plots

    metrics = json.loads(output_path(BRAIN_AGE, "metrics", d).read_text())
    fig_data = read_output(BRAIN_AGE, "figure_data", d)
    rows = []
    figs = []
    for name, m in metrics["representations"].items():
        u, c = m["train_uncorrected"], m["train_corrected"]
        rows.append({"representation": name, "MAE": _fmt(u["mae"]), "r": _fmt(u["r"]),
                     "R2": _fmt(u["r2"]), "corr(BAG, age) before": _fmt(u["corr_bag_age"]),
                     "after": _fmt(c["corr_bag_age"]), "correction": m["bias"]["method"]})
        figs.append(_save(plots.brain_age(fig_data, name.lower()), figdir,
                          f"brain_age_{file_stem(name)}"))
    return {"rows": rows, "columns": list(rows[0]) if rows else [], "figures": figs}


def _probe_section(d: Path, figdir: Path) -> dict:
    """AUCs, paired DeLong tests and the paper's clinical claims, with the AUC figure."""
    from gwas import plots
    from rnce_bag.claims import CLAIM_TEXT, clinical_claims

    scores = read_output(PROBE, "scores", d)
    cols = [c for c in ("task", "representation", "n", "n_pos", "auc", "ci_low",
                        "ci_high", "balanced_accuracy", "age_pos", "age_neg")
            if c in scores.columns]
    pairs = read_output_if_exists(PROBE, "pairs", d)
    pcols = [c for c in ("task", "rep_a", "rep_b", "auc_diff", "p_delong", "p_holm")
             if pairs is not None and c in pairs.columns]
    claims = clinical_claims(scores, pairs) if pairs is not None and len(pairs) \
        else pd.DataFrame()
    if len(claims):
        claims.insert(1, "stated", [CLAIM_TEXT[int(c)] for c in claims["claim"]])
    ccols = ["claim", "stated", "representation", "task", "n", "auc_fs", "auc",
             "auc_diff", "p_delong", "p_holm", "status"]
    return {"rows": _rows(scores, cols), "columns": cols,
            "pairs": _rows(pairs, pcols) if pairs is not None and len(pairs) else [],
            "pair_columns": pcols,
            "n_tests": 0 if pairs is None else len(pairs),
            "claims": _rows(claims, ccols) if len(claims) else [],
            "claim_columns": ccols,
            "figures": [_save(plots.probe_aucs(scores), figdir, "probe_aucs")]}


def _gwas_section(found: dict, figdir: Path) -> dict:
    """The GWAS summary, and per phenotype its loci, Manhattan, QQ and regional plots."""
    from gwas import plots

    d = found["gwas"][0]
    summary = read_output(GWAS, "summary", d)
    loci = read_output(GWAS, "loci", d)
    scols = ["phenotype", "n_samples", "n_variants", "lambda_gc", "mean_chi2",
             "n_genome_wide", "min_p"]
    summary, with_ldsc = _with_ldsc_intercepts(summary, found["heritability"])
    if with_ldsc:  # next to lambda GC: inflation that LD score regression attributes to
        scols[4:4] = ["intercept", "intercept_se"]  # confounding, not polygenicity
    lcols = ["locus_id", "lead_variant", "chromosome", "position", "p_value", "genes",
             "nearest_gene"]
    phs = []
    regions = read_output_if_exists(GWAS, "regions", d)
    suggestive = read_output_if_exists(GWAS, "suggestive_loci", d)
    gw, sugg = thresholds(d)
    for _, srow in summary.iterrows():
        name = srow["phenotype"]
        ssf = read_sumstats(output_path(GWAS, "sumstats", d, phenotype=name))
        lo = loci[loci["phenotype"] == name]
        so = suggestive[suggestive["phenotype"] == name] if suggestive is not None \
            and not len(lo) else loci.iloc[:0]
        title = (f"{name}: n = {srow['n_samples']:,}, {srow['n_variants']:,} variants, "
                 f"lambda GC = {srow['lambda_gc']:.3f}")
        phs.append({"name": name, "regional": _regional_figures(d, name, lo, regions, figdir)
                    + _regional_figures(d, name, so, regions, figdir, "suggestive"),
                    "genome_wide_p": f"{gw:g}", "suggestive_p": f"{sugg:g}",
                    "suggestive": _rows(so, lcols),
                    "manhattan": _save(plots.manhattan(ssf, lo if len(lo) else so, title,
                                                       thresholds=(gw, sugg)), figdir,
                                       f"manhattan_{file_stem(name)}"),
                    "qq": _save(plots.qq(ssf["p_value"].to_numpy(),
                                         f"{name}: n = {srow['n_samples']:,}"), figdir,
                                f"qq_{file_stem(name)}"),
                    "loci": _rows(lo, lcols), "loci_columns": lcols})
    names = covariate_names(d)
    design = (f"Subjects: up to {int(summary['n_samples'].max())} with genotypes, "
              "covariates and a phenotype (a study's brain-age stage gives every BAG the "
              "same subjects). GWAS covariates: " + (", ".join(names) if names else "none")
              + ". " + _genetic_designs(found, names))
    return {"summary": _rows(summary, scols), "summary_columns": scols,
            "phenotypes": phs, "design": design,
            "relatedness": _relatedness(d, figdir)}


def _relatedness(gwas_dir: Path, figdir: Path) -> dict | None:
    """What relatedness QC found (the GWAS report's block, ``relatives.tsv``): a sentence,
    the closest pairs and the kinship histogram; None for a GWAS run without it."""
    from gwas import plots

    report = json.loads(output_path(GWAS, "report", gwas_dir).read_text())
    block = report.get("relatedness")
    if not block:
        return None
    if not block.get("checked"):
        return {"text": f"Relatedness QC {block.get('skipped', 'not run')}.", "rows": [],
                "columns": [], "figures": []}
    pairs = read_output(GWAS, "relatives", gwas_dir)
    by_degree = ", ".join(f"{n} of degree {d}" for d, n in block["pairs_by_degree"].items())
    text = (f"Relatedness QC (KING-robust kinship, cutoff {block['king_cutoff']:g}): "
            f"{len(pairs)} pair(s) of third degree or closer"
            + (f" ({by_degree})" if by_degree else "") + f"; {block['samples_removed_related']}"
            " sample(s) removed, so the association, the PCs and the GREML h2/rg that reuse "
            "the GWAS's covariates analyse an unrelated set. Rule: " + block["rule"] + ".")
    cols = ["IID1", "IID2", "kinship", "degree", "removed"]
    return {"text": text, "rows": _rows(pairs.head(30), cols), "columns": cols,
            "n_rows": len(pairs),
            "figures": [_save(plots.kinship(pairs, block["king_cutoff"]), figdir, "kinship")]
            if len(pairs) else []}


def _registration_section(d: Path, figdir: Path) -> dict:
    """``rnce-bag register``'s results: a sentence, the mid-slice figure (lowest overlap
    first) and the QC rows of failed and flagged subjects, then the lowest overlaps."""
    from rnce_bag.imaging.register_run import registration_figure_of

    qc = read_output(REGISTER, "qc", d)
    report = json.loads(output_path(REGISTER, "report", d).read_text())
    st = report["settings"]
    ok = qc[qc["status"].str.startswith("ok")]
    text = (f"{report['n_registered']} of {report['n_subjects']} T1s registered to the "
            f"{report['template']} with ANTs ({st['recipe']}, {st['spacing_mm']:g} mm"
            + (", N4" if st["n4"] else "") + f"; ANTsPy {report['ants_version']}); "
            f"{len(report['failed'])} failed, {report['n_flagged']} flagged (brain-mask Dice "
            f"< {report['qc_thresholds']['mask_dice']} or correlation with the template < "
            f"{report['qc_thresholds']['similarity']}). Median brain-mask Dice "
            f"{ok['mask_dice'].median():.3f}, median correlation "
            f"{ok['similarity'].median():.3f}.")
    shown = pd.concat([qc[~qc["status"].str.fullmatch("ok")],
                       ok.sort_values("mask_dice").head(10)]).drop_duplicates("IID").head(30)
    cols = ["IID", "status", "mask_dice", "similarity", "skull_strip", "seconds"]
    fig = registration_figure_of(qc, d, st["spacing_mm"])
    return {"text": text, "rows": _rows(shown, cols), "columns": cols,
            "figures": [_save(fig, figdir, "registration_qc")] if fig is not None else []}


def _h2_section(paths: list[Path], figdir: Path) -> dict:
    from gwas import plots

    h = pd.concat([read_table(p, "heritability") for p in paths])
    cols = ["phenotype", "method", "backend", "h2", "h2_se", "intercept", "n", "status"]
    return {"rows": _rows(h, cols), "columns": cols,
            "figures": [_save(plots.h2_bars(h), figdir, "h2")]}


def _rg_section(paths: list[Path], figdir: Path) -> dict:
    from gwas import plots

    r = pd.concat([read_table(p, "genetic_correlation") for p in paths])
    cols = ["p1", "p2", "method", "rg", "rg_se", "p", "n", "status"]
    figs = [_save(plots.rg_heatmap(r[r["method"] == m].dropna(subset=["rg"])), figdir,
                  f"rg_{m}") for m in r["method"].unique()]
    return {"rows": _rows(r, cols), "columns": cols, "figures": figs}


def _celltype_section(paths: list[Path], figdir: Path) -> dict:
    """One table per enrich run, each row saying which trait it is of."""
    from gwas import plots

    ct = pd.concat([read_table(p, "celltypes").assign(trait=_trait_of_run(p))
                    for p in paths])
    cols = ["trait", "dataset", "cell_type", "method", "beta", "beta_se", "p_value",
            "p_fdr", "n_genes"]
    return {"rows": _rows(ct.sort_values("p_value"), cols), "columns": cols,
            "figures": [_save(plots.celltype_bars(ct), figdir, "celltypes")]}
