"""Gene-level association and cell-type enrichment (MAGMA-style, plus LDSC-SEG).

1. SNP -> gene: a variant belongs to a gene when it lies within the gene's window,
   35 kb upstream / 10 kb downstream of the transcribed interval (MAGMA's convention,
   strand-aware), from the bundled gene tables.
2. Gene test (MAGMA ``snp-wise=mean``): T = mean of the gene's SNP chi^2 statistics;
   under the null z ~ N(0, R) with R the SNPs' LD correlation (from the reference
   genotypes), so T is a weighted sum of chi^2_1 variables. Its p-value is taken from
   the moment-matched scaled chi^2 of k T = sum chi^2 (Satterthwaite: a chi^2_d with
   a = tr(R^2) / tr R, d = (tr R)^2 / tr(R^2)) - the documented approximation; a
   single-SNP gene has the exact chi^2_1 p. Gene z = Phi^-1(1 - p).
3. Gene-property (cell-type) test: over genes, z = b0 + b_ct E_ct + b_avg Average +
   c1 log(gene length) + c2 log(n SNPs) + e, one-sided for b_ct > 0. Gene-gene
   correlation from shared LD between neighbouring genes is handled by cluster-robust
   (sandwich) standard errors with clusters = genes lying within ``cluster_gap_kb``
   (1 Mb) of each other on a chromosome - an explicit approximation to MAGMA's GLS that
   needs a gap at least as long as the LD in the data (longer for the simulator's
   stretched genome).
   Bonferroni and Benjamini-Hochberg FDR across the cell types of a table.

Shapes: ``ssf`` is GWAS-SSF; gene tables have one row per gene.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from gwas.config import CLUSTER_GAP_KB, GENE_WINDOW_DOWN_KB, GENE_WINDOW_UP_KB
from gwas.plink_io import BedReader
from rnce_bag.core.errors import InputError
from rnce_bag.resources import gene_table_path, load_gene_table

log = logging.getLogger(__name__)

UPSTREAM_KB = GENE_WINDOW_UP_KB
DOWNSTREAM_KB = GENE_WINDOW_DOWN_KB


def gene_windows(build: str = "GRCh37", up_kb: int = UPSTREAM_KB,
                 down_kb: int = DOWNSTREAM_KB) -> pd.DataFrame:
    """Genes with strand-aware windows: ``symbol chromosome start stop win_start win_end``."""
    g = load_gene_table(build)
    g = g[g["chromosome"].isin([str(i) for i in range(1, 23)])].drop_duplicates("symbol")
    plus = g["strand"] == "+"
    g = g.assign(win_start=np.where(plus, g["start"] - up_kb * 1000, g["start"] - down_kb * 1000),
                 win_end=np.where(plus, g["stop"] + down_kb * 1000, g["stop"] + up_kb * 1000))
    g["win_start"] = g["win_start"].clip(lower=1)
    return g.reset_index(drop=True)


def _moment_matched_p(total: float, r: np.ndarray) -> float:
    """P(sum of k correlated chi^2_1 > total) for z ~ N(0, R), moment-matched: the sum has
    mean tr R and variance 2 tr(R^2), matched by a chi^2_d scaled by a."""
    k = r.shape[0]
    if k == 1:
        return float(stats.chi2.sf(total, 1))
    tr = np.trace(r)
    tr2 = np.sum(r * r)
    a = tr2 / tr
    d = tr**2 / tr2
    return float(stats.chi2.sf(total / a, d))


def gene_analysis(ssf: pd.DataFrame, reader: BedReader, genes: pd.DataFrame,
                  max_snps: int = 1000, samples: np.ndarray | None = None) -> pd.DataFrame:
    """MAGMA-style mean-chi^2 gene test with LD from ``reader`` (its rows ``samples``
    only, when given: indices into the ``.fam``).

    Returns
    -------
    DataFrame
        ``gene chromosome start stop n_snps statistic z p`` for genes with >= 1 SNP.
    """
    bim = reader.bim.reset_index().rename(columns={"index": "row"})
    bim["chromosome"] = bim["chromosome"].astype(str)
    s = ssf.copy()
    s["zval"] = (s["beta"] / s["standard_error"]).astype(float)
    s = s[np.isfinite(s["zval"])]
    s = s.merge(bim[["chromosome", "position", "row", "a1"]], left_on=["chromosome",
                "base_pair_location"], right_on=["chromosome", "position"], how="inner")
    if s.empty:
        raise InputError("no summary-statistics variant matches the LD reference (chromosome "
                         "and position)",
                         hint="use the genotypes the GWAS was run on, on the same build")
    rows = []
    for chrom, sub in s.groupby("chromosome", sort=False):
        sub = sub.sort_values("base_pair_location")
        pos = sub["base_pair_location"].to_numpy()
        gsub = genes[genes["chromosome"] == chrom]
        left = np.searchsorted(pos, gsub["win_start"].to_numpy(), "left")
        right = np.searchsorted(pos, gsub["win_end"].to_numpy(), "right")
        for (_, g), lo, hi in zip(gsub.iterrows(), left, right, strict=True):
            k = hi - lo
            if k == 0:
                continue
            part = sub.iloc[lo:hi]
            if k > max_snps:
                part = part.iloc[np.linspace(0, k - 1, max_snps).astype(int)]
                k = max_snps
            z = part["zval"].to_numpy()
            t = float(np.mean(z**2))
            if k == 1:
                p = float(stats.chi2.sf(t, 1))
            else:
                x = reader.read(part["row"].to_numpy(), samples)
                x = np.where(np.isnan(x), np.nanmean(x, axis=1, keepdims=True), x)
                sd = x.std(axis=1)
                x = (x - x.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1)[:, None]
                r = np.clip(x @ x.T / x.shape[1], -1, 1)
                np.fill_diagonal(r, 1.0)
                p = _moment_matched_p(t * k, r)
            p = min(max(p, 1e-300), 1.0)
            rows.append({"gene": g["symbol"], "chromosome": chrom, "start": int(g["start"]),
                         "stop": int(g["stop"]), "n_snps": int(k), "statistic": t,
                         "z": float(stats.norm.isf(p)), "p": p})
    return pd.DataFrame(rows, columns=["gene", "chromosome", "start", "stop", "n_snps",
                                       "statistic", "z", "p"])


def ensembl_to_symbol() -> dict[str, str]:
    """ENSG (no version) -> symbol by >= 50% reciprocal overlap of GRCh38 intervals."""
    ens = pd.read_csv(gene_table_path("GRCh38").with_name("glist-hg38.ensembl"), sep=r"\s+",
                      header=None, names=["chromosome", "start", "stop", "ensg"], dtype={0: str})
    ens["ensg"] = ens["ensg"].str.split(".").str[0]
    ncbi = load_gene_table("GRCh38")
    out = {}
    for chrom, e in ens.groupby("chromosome"):
        n = ncbi[ncbi["chromosome"] == chrom].sort_values("start")
        if n.empty:
            continue
        ns, ne, sym = n["start"].to_numpy(), n["stop"].to_numpy(), n["symbol"].to_numpy()
        for es, ee, eid in zip(e["start"], e["stop"], e["ensg"], strict=True):
            cand = np.flatnonzero((ns <= ee) & (ne >= es))
            best, best_ov = None, 0.0
            for c in cand:
                ov = min(ee, ne[c]) - max(es, ns[c]) + 1
                frac = min(ov / (ee - es + 1), ov / (ne[c] - ns[c] + 1))
                if frac > best_ov:
                    best, best_ov = sym[c], frac
            if best is not None and best_ov >= 0.5:
                out[eid] = best
    return out


def read_specificity(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, dict]:
    """A FUMA-format table (``GENE``, one column per cell type, ``Average``) keyed by symbol.

    Gene ids may be symbols, Entrez ids or Ensembl ids (mapped with the bundled tables).

    Returns
    -------
    table : DataFrame
        Index = symbol; columns = cell types and ``Average``.
    info : dict
        ``id_type``, ``n_genes``, ``n_unmapped``.

    Raises
    ------
    InputError
        No ``GENE``/``Average`` column, non-numeric expression, duplicated genes, or no
        recognisable gene ids.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"cell-type table '{p}' not found")
    opener = gzip.open if p.suffix == ".gz" else open
    try:
        with opener(p, "rt") as fh:
            df = pd.read_csv(fh, sep=r"\t|\s+", engine="python", dtype={"GENE": str})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"cell-type table '{p}' cannot be read: {exc}") from None
    with opener(p, "rt") as fh:  # pandas renames a repeated name to 'name.1': refuse it
        header = fh.readline().split()
    seen: dict[str, int] = {}
    for k, name in enumerate(header):
        if name in seen:
            raise InputError(f"{p}: cell type {name!r} appears twice (columns {seen[name] + 1} "
                             f"and {k + 1} of the header)",
                             hint="give every cell-type column a distinct name")
        seen[name] = k
    if "GENE" not in df.columns or "Average" not in df.columns:
        raise InputError(f"{p}: expected FUMA format (GENE, one column per cell type, Average);"
                         f" found columns {', '.join(map(str, df.columns[:8]))}")
    cells = [c for c in df.columns if c not in ("GENE", "Average")]
    for c in [*cells, "Average"]:
        vals = pd.to_numeric(df[c], errors="coerce")
        if vals.isna().any():
            i = int(np.flatnonzero(vals.isna().to_numpy())[0])
            raise InputError(f"{p}, row {i + 1} (line {i + 2}), column '{c}': expression must "
                             f"be numeric, found {df[c].iloc[i]!r}")
        df[c] = vals
    dup = df["GENE"].duplicated()
    if dup.any():
        raise InputError(f"{p}: gene {df['GENE'][dup].iloc[0]!r} appears more than once",
                         hint="keep one row per gene (average duplicates first)")
    ids = df["GENE"].astype(str)
    genes37 = load_gene_table("GRCh37")
    symbols = set(genes37["symbol"]) | set(load_gene_table("GRCh38")["symbol"])
    if ids.str.match(r"^ENSG\d+").mean() > 0.5:
        id_type, mapping = "ensembl", ensembl_to_symbol()
        mapped = ids.str.split(".").str[0].map(mapping)
    elif ids.str.fullmatch(r"\d+").mean() > 0.5:
        id_type = "entrez"
        mapping = dict(zip(genes37["entrez"].astype(str), genes37["symbol"], strict=True))
        mapped = ids.map(mapping)
    else:
        id_type = "symbol"
        from rnce_bag.resources import SYMBOL_UPDATES

        mapped = ids.replace(SYMBOL_UPDATES).where(lambda s: s.isin(symbols))
    if mapped.notna().sum() == 0:
        raise InputError(f"{p}: none of the {len(ids)} gene ids ({ids.iloc[0]!r}, ...) is a "
                         f"known symbol, Entrez or Ensembl id",
                         hint="the GENE column must hold gene ids")
    out = df.assign(symbol=mapped).dropna(subset=["symbol"]).drop_duplicates("symbol")
    table = out.set_index("symbol")[[*cells, "Average"]]
    return table, {"id_type": id_type, "n_genes": int(len(table)),
                   "n_unmapped": int(mapped.isna().sum())}


def _clusters(genes: pd.DataFrame, gap: int = 1_000_000) -> np.ndarray:
    """Cluster id per gene (row order kept): a new cluster starts on a new chromosome or
    when a gene starts more than ``gap`` bp after every earlier gene of its chromosome ends."""
    order = genes.sort_values(["chromosome", "start"])
    reach = order.groupby("chromosome")["stop"].cummax()
    prev = reach.groupby(order["chromosome"]).shift()
    new = prev.isna() | (order["start"] - prev > gap)
    return (new.cumsum() - 1).loc[genes.index].to_numpy()


def celltype_enrichment(genes_res: pd.DataFrame, spec: pd.DataFrame, dataset: str,
                        cluster_gap_kb: int = CLUSTER_GAP_KB) -> pd.DataFrame:
    """Gene-property regression per cell type (see module docstring).

    Returns ``dataset cell_type method beta beta_se p_value p_bonferroni p_fdr n_genes``.
    """
    import statsmodels.api as sm
    from statsmodels.stats.multitest import multipletests

    d = genes_res.merge(spec, left_on="gene", right_index=True, how="inner").reset_index(
        drop=True)
    if len(d) < 20:
        raise InputError(f"{dataset}: only {len(d)} genes are in both the gene analysis and "
                         f"the cell-type table", hint="check the gene ids and the genome build")
    groups = _clusters(d, cluster_gap_kb * 1000)
    cov = np.column_stack([np.log(d["stop"] - d["start"] + 1), np.log(d["n_snps"])])
    rows = []
    for ct in [c for c in spec.columns if c != "Average"]:
        x = sm.add_constant(np.column_stack([d[ct], d["Average"], cov]))
        fit = sm.OLS(d["z"].to_numpy(), x).fit(cov_type="cluster",
                                               cov_kwds={"groups": groups})
        beta, se = float(fit.params[1]), float(fit.bse[1])
        rows.append({"dataset": dataset, "cell_type": ct, "method": "gene-property",
                     "beta": beta, "beta_se": se,
                     "p_value": float(stats.norm.sf(beta / se)) if se > 0 else 1.0,
                     "n_genes": int(len(d))})
    out = pd.DataFrame(rows)
    out["p_bonferroni"] = np.minimum(out["p_value"] * len(out), 1.0)
    out["p_fdr"] = multipletests(out["p_value"], method="fdr_bh")[1]
    return out[["dataset", "cell_type", "method", "beta", "beta_se", "p_value", "p_bonferroni",
                "p_fdr", "n_genes"]]


def _mark_intervals(bim: pd.DataFrame, intervals: pd.DataFrame) -> np.ndarray:
    """1 for .bim variants inside any interval (``chromosome start stop``), else 0."""
    out = np.zeros(len(bim))
    chrom = bim["chromosome"].astype(str).to_numpy()
    pos = bim["position"].to_numpy()
    for c, iv in intervals.groupby("chromosome"):
        idx = np.flatnonzero(chrom == str(c))
        if idx.size == 0:
            continue
        order = idx[np.argsort(pos[idx])]
        p = pos[order]
        diff = np.zeros(p.size + 1)
        lo = np.searchsorted(p, iv["start"].to_numpy(), "left")
        hi = np.searchsorted(p, iv["stop"].to_numpy(), "right")
        np.add.at(diff, lo, 1)
        np.add.at(diff, hi, -1)
        out[order] = (np.cumsum(diff)[:-1] > 0).astype(float)
    return out


def ldsc_seg_enrichment(sumstats: str, bfile: str, spec: pd.DataFrame, dataset: str,
                        base_ld: str, work: Path, build: str = "GRCh37", top: float = 0.1,
                        flank_kb: int = 100, cache: Path | None = None) -> pd.DataFrame:
    """LDSC-SEG: per cell type, the top ``top`` share of genes by specificity
    (expression in the cell type over the sum across cell types) +/- ``flank_kb`` is an
    annotation, fitted jointly with an all-genes annotation on top of the base LD scores
    (``base_ld``), via ``pyldsc.ldsc_seg``; one-sided coefficient p-values.

    ``sumstats`` is an LDSC ``.sumstats.gz`` (see :func:`gwas.heritability.ldsc.to_ldsc_sumstats`).
    The annotation LD scores depend on the LD reference and the cell-type table only, not
    on the trait: with ``cache`` (a folder) they are computed once per (reference, table,
    build, top, flank) and reused, e.g. by every BAG's enrich stage of a study.
    """
    import pyldsc

    from rnce_bag.core.io import cached_build

    cells = [c for c in spec.columns if c != "Average"]
    key = {"kind": "ldsc-seg annotation LD scores", "spec": spec.to_csv(), "build": build,
           "top": top, "flank_kb": flank_kb}

    def build_into(folder: Path) -> None:
        n = _annotation_ld_scores(bfile, spec, build, top, flank_kb, folder)
        (folder / "n_genes.json").write_text(json.dumps(n))

    from gwas.genotype_files import bfile_paths

    folder = cached_build(cache, key, bfile_paths(bfile),
                          build_into, work / f"{dataset}.seg")
    n_genes = json.loads((folder / "n_genes.json").read_text())
    entries = [(c, str(folder / f"annot.{i}")) for i, c in enumerate(cells)]
    table = pyldsc.ldsc_seg(sumstats, entries, base_ld, base_ld)
    out = pd.DataFrame({"dataset": dataset, "cell_type": table["Name"], "method": "ldsc-seg",
                        "beta": table["Coefficient"].astype(float),
                        "beta_se": table["Coefficient_std_error"].astype(float),
                        "p_value": table["Coefficient_P_value"].astype(float)})
    out["n_genes"] = out["cell_type"].map(n_genes).astype(int)
    from statsmodels.stats.multitest import multipletests

    out["p_bonferroni"] = np.minimum(out["p_value"] * len(out), 1.0)
    out["p_fdr"] = multipletests(out["p_value"], method="fdr_bh")[1]
    return out[["dataset", "cell_type", "method", "beta", "beta_se", "p_value", "p_bonferroni",
                "p_fdr", "n_genes"]]


def _annotation_ld_scores(bfile: str, spec: pd.DataFrame, build: str, top: float,
                          flank_kb: int, folder: Path) -> dict[str, int]:
    """Write ``folder/annot.<i>.l2.ldscore.gz`` (+ ``.l2.M``, ``.l2.M_5_50``) per cell type:
    its annotation's LD score beside the all-genes control; returns genes per cell type."""
    from gwas.heritability.ldsc import estimate_ld_scores
    from gwas.plink_io import open_bed

    genes = load_gene_table(build).drop_duplicates("symbol").set_index("symbol")
    cells = [c for c in spec.columns if c != "Average"]
    sp = spec[cells].clip(lower=0)
    prop = sp.div(sp.sum(axis=1).replace(0, np.nan), axis=0).dropna()
    prop = prop[prop.index.isin(genes.index)]

    def intervals(symbols):
        g = genes.loc[list(symbols)]
        return pd.DataFrame({"chromosome": g["chromosome"].astype(str),
                             "start": g["start"] - flank_kb * 1000,
                             "stop": g["stop"] + flank_kb * 1000})

    bim = open_bed(bfile).bim  # one fileset, or one per chromosome
    k = max(1, int(round(top * len(prop))))
    cols, n_genes = [], {}
    for c in cells:
        chosen = prop[c].sort_values(ascending=False).index[:k]
        n_genes[c] = len(chosen)
        cols.append(_mark_intervals(bim, intervals(chosen)))
    cols.append(_mark_intervals(bim, intervals(prop.index)))
    res = estimate_ld_scores(bfile, annot=np.column_stack(cols))
    ld = res["ldscore"]
    control = f"ANNOT{len(cells)}_L2"
    for i in range(len(cells)):
        p = folder / f"annot.{i}"
        ld[["CHR", "SNP", "BP", f"ANNOT{i}_L2", control]].to_csv(
            f"{p}.l2.ldscore.gz", sep="\t", index=False, float_format="%.3f",
            compression="gzip")
        for suffix, m in ((".l2.M", res["M"]), (".l2.M_5_50", res["M_5_50"])):
            Path(f"{p}{suffix}").write_text(f"{m[i]}\t{m[len(cells)]}\n")
    return n_genes
