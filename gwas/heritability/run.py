"""``rnce-bag h2 --method greml``: GRM, then GREML per phenotype (embedded or GCTA).

Samples: those in the GRM (after the relatedness cut-off) with every covariate; each
phenotype uses its own non-missing samples. A phenotype with fewer than ``min_n``
values, constant, or whose fit does not converge gets a flagged row (``status``), never
a silent number; if no phenotype can be estimated the command fails (exit 2).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from gwas.filters import Filters, filter_samples, filter_variants, normal_chromosome
from gwas.genotype_files import AUTOSOMES
from gwas.heritability import gcta
from gwas.heritability.bivariate import bivariate_greml
from gwas.heritability.greml import greml
from gwas.heritability.grm import compute_grm, read_grm, unrelated, write_grm
from gwas.heritability.hsq import format_bivariate_hsq, h2_from_hsq, rg_from_hsq, write_hsq
from gwas.inputs import (
    check_covariates,
    check_not_phenotype,
    load_covariates,
    load_phenotypes,
)
from gwas.plink_io import open_bed
from gwas.stages import H2, RG
from rnce_bag.core.errors import InputError
from rnce_bag.core.io import write_text
from rnce_bag.core.names import file_stem
from rnce_bag.core.outputs import write_output

log = logging.getLogger(__name__)

COLUMNS = ["phenotype", "method", "backend", "h2", "h2_se", "intercept", "intercept_se", "n",
           "m", "vg", "vg_se", "ve", "ve_se", "logL", "logL0", "LRT", "pval", "converged",
           "status"]


def build_grm(bfile: str | None, grm_prefix: str | None, out: Path,
              progress: Callable[[int, int], None] | None = None,
              filters: Filters | None = None) -> tuple[np.ndarray, pd.DataFrame, int, str]:
    """GRM from ``--bfile`` (written to ``out/grm.*``) or read from ``--grm``.

    ``filters``: ``--keep/--remove`` subset the samples (of either source); ``--chr``,
    ``--extract`` and ``--exclude`` choose the variants the GRM sums over (``--bfile``
    only: a GRM file is already summed). The counts each removed are logged.

    Returns the GRM, its IDs, the number of variants (0 if unknown) and its prefix.
    """
    flt = filters or Filters()
    if grm_prefix:
        if flt.variants:
            raise InputError("--chr/--extract/--exclude choose the variants a GRM is computed "
                             "from: they need --bfile, not --grm",
                             hint="compute the GRM here from --bfile with the filters")
        mat, _, ids = read_grm(grm_prefix)
        keep, counts = filter_samples(ids, flt)
        if flt.samples:
            log.info("--keep/--remove: %d of %d GRM samples kept %s", keep.sum(), len(ids),
                     counts)
            mat, ids = mat[np.ix_(keep, keep)], ids[keep].reset_index(drop=True)
        return mat, ids, 0, grm_prefix
    if not bfile:
        raise InputError("give --bfile (the GRM is computed) or --grm PREFIX")
    reader = open_bed(bfile)  # one fileset, or one per chromosome ({chrom})
    samples, counts = filter_samples(reader.fam, flt)
    bim = reader.bim
    table = pd.DataFrame({"chromosome": bim["chromosome"].to_numpy(),
                          "position": bim["position"].astype(np.int64).to_numpy(),
                          "variant_id": bim["id"].to_numpy()})
    variants, vcounts = filter_variants(table, flt)
    counts.update(vcounts)
    # autosomes only, as the GWAS and GCTA's --make-grm: X (hemizygous in males), Y and MT
    # would enter the GRM with the wrong dosage scale
    auto = table["chromosome"].astype(str).map(normal_chromosome).isin(AUTOSOMES).to_numpy()
    counts["variants_removed_non_autosomal"] = int((variants & ~auto).sum())
    if counts["variants_removed_non_autosomal"]:
        log.info("GRM: %d variants on X, Y, MT or other non-autosomes left out",
                 counts["variants_removed_non_autosomal"])
    variants &= auto
    if not variants.any():
        raise InputError(f"--bfile {bfile}: no autosomal variant (chromosomes 1-22) to build "
                         "the GRM from", hint="the GRM sums over autosomes, as GCTA's does")
    if flt.samples or flt.variants:
        log.info("filters: %d of %d samples and %d of %d variants kept %s", samples.sum(),
                 len(samples), variants.sum(), len(variants), counts)
    rows, cols = np.flatnonzero(variants), np.flatnonzero(samples)
    mat, cnt = compute_grm(reader, variants=None if variants.all() else rows,
                           samples=None if samples.all() else cols, progress=progress)
    fam = reader.fam[samples].reset_index(drop=True)
    prefix = str(out / "grm")
    write_grm(prefix, mat, cnt, fam)
    return mat, fam[["FID", "IID"]], int(variants.sum()), prefix


def estimate_h2(grm: np.ndarray, ids: pd.DataFrame, m: int, grm_prefix: str,
                pheno_path: Path, pheno_names: list[str] | None, covar_path: Path | None,
                covar_names: list[str] | None, out: Path, backend: str = "embedded",
                cutoff: float | None = 0.025, min_n: int = 50, threads: int = 1,
                minus9: bool = False) -> pd.DataFrame:
    """Heritability of every phenotype; writes ``<pheno>.hsq`` files into ``out``
    (``minus9``: -9 is missing, :func:`gwas.inputs.missing_cells`)."""
    pheno = load_phenotypes(pheno_path, pheno_names, minus9)
    covar = load_covariates(covar_path, covar_names, minus9) if covar_path else None
    check_not_phenotype(pheno, covar, str(pheno_path), str(covar_path))
    ids = ids.copy()
    ids["IID"] = ids["IID"].astype(str)
    keep = np.arange(len(ids)) if cutoff is None else unrelated(grm, cutoff)
    if len(keep) < len(ids):
        log.info("relatedness cut-off %.3f removed %d samples", cutoff, len(ids) - len(keep))
    if len(keep) < 0.5 * len(ids):
        off = grm[np.tril_indices(len(ids), -1)]
        raise InputError(
            f"the relatedness cut-off {cutoff} would remove {len(ids) - len(keep)} of "
            f"{len(ids)} samples: the GRM's off-diagonal SD is {off.std():.4f} (about "
            f"1/sqrt(effective number of variants)), so unrelated pairs exceed it",
            hint="use more (or less correlated) variants for the GRM, or raise/disable the "
                 "cut-off with --grm-cutoff 0")
    in_grm = ids.iloc[keep]
    ph = pheno.set_index("IID")
    common = in_grm[in_grm["IID"].isin(ph.index)]
    if covar is not None:
        cv = covar.set_index("IID")
        common = common[common["IID"].isin(cv.index)]
        complete = cv.loc[common["IID"]].notna().all(axis=1).to_numpy()
        common = common[complete]
    if len(common) == 0:
        raise InputError(f"{pheno_path}: no sample is both in the GRM ({len(ids)} samples) and "
                         f"in the phenotype{'/covariate' if covar is not None else ''} file",
                         hint="check that IIDs match the genotype .fam / .grm.id")
    rows = []
    eig_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    pos = {iid: i for i, iid in enumerate(ids["IID"])}
    for name in [c for c in pheno.columns if c != "IID"]:
        y_all = ph.loc[common["IID"], name]
        use = y_all.notna().to_numpy()
        sub = common[use]
        y = y_all[use].to_numpy(dtype=float)
        base = {"phenotype": name, "method": "greml", "backend": backend, "intercept": np.nan,
                "intercept_se": np.nan, "n": int(use.sum()), "m": m}
        if use.sum() < min_n:
            rows.append({**base, "status": f"skipped: {int(use.sum())} non-missing values "
                         f"(< {min_n})", "converged": False})
            continue
        if np.ptp(y) == 0:
            rows.append({**base, "status": "skipped: constant phenotype", "converged": False})
            continue
        x = np.ones((len(y), 1))
        if covar is not None:
            c = covar.set_index("IID").loc[sub["IID"]]
            check_covariates(c.reset_index(), str(covar_path))
            x = np.column_stack([x, c.to_numpy(dtype=float)])
        if backend == "gcta":
            files = gcta.write_gcta_inputs(
                out / "gcta", pd.DataFrame({"FID": sub["FID"], "IID": sub["IID"], "y": y}),
                None if covar is None else pd.concat(
                    [sub[["FID", "IID"]].reset_index(drop=True),
                     pd.DataFrame(x[:, 1:])], axis=1), None)
            res = gcta.run_reml(grm_prefix, files, out / file_stem(name), threads=threads)
            t = h2_from_hsq(res["hsq"])
            rows.append({**base, **{k: t[k] for k in ("h2", "h2_se", "vg", "vg_se", "ve",
                                                      "ve_se", "logL", "logL0", "LRT", "pval")},
                         "converged": res["log"]["converged"], "status": "ok"})
            continue
        idx = np.array([pos[i] for i in sub["IID"]])
        key = hashlib.sha1(idx.tobytes()).hexdigest()
        if key not in eig_cache:
            eig_cache[key] = np.linalg.eigh(grm[np.ix_(idx, idx)])
        try:
            r = greml(y, x, eig=eig_cache[key])
        except np.linalg.LinAlgError as exc:
            rows.append({**base, "status": f"failed: singular matrix in REML ({exc})",
                         "converged": False})
            continue
        write_hsq(out / f"{file_stem(name)}.hsq", r)
        status = "ok" if r.converged else "not converged: estimate unreliable"
        if r.constrained:
            status += "; a component was constrained at 1e-6 Var(y)"
        rows.append({**base, "h2": r.h2, "h2_se": r.h2_se, "vg": r.vg, "vg_se": r.vg_se,
                     "ve": r.ve, "ve_se": r.ve_se, "logL": r.logl, "logL0": r.logl0,
                     "LRT": r.lrt, "pval": r.pval, "converged": r.converged, "status": status})
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    return write_heritability(table, pheno_path, out)


def write_heritability(table: pd.DataFrame, pheno_path: Path, out: Path) -> pd.DataFrame:
    """Write ``heritability.tsv``; InputError (each phenotype's status) when no phenotype
    could be estimated."""
    if not table["status"].astype(str).str.startswith("ok").any():
        raise InputError(f"{pheno_path}: no phenotype could be estimated: "
                         + "; ".join(f"{a}: {b}" for a, b in zip(table["phenotype"],
                                                                  table["status"], strict=True)))
    write_output(H2, "heritability", table, out)
    return table


def bolt_h2(bfile: str, pheno_path: Path, pheno_names: list[str] | None,
            covar_path: Path | None, covar_names: list[str] | None, out: Path,
            threads: int = 1, minus9: bool = False) -> pd.DataFrame:
    """``--backend bolt``: BOLT-REML per phenotype (:mod:`gwas.heritability.bolt_reml`),
    written as ``heritability.tsv``."""
    from gwas.heritability.bolt_reml import bolt_reml_h2

    table = bolt_reml_h2(bfile, pheno_path, pheno_names, covar_path, covar_names, out,
                         threads, minus9, columns=COLUMNS)
    return write_heritability(table, pheno_path, out)


def bolt_rg(bfile: str, pheno_path: Path, pheno_names: list[str] | None,
            covar_path: Path | None, covar_names: list[str] | None, out: Path,
            threads: int = 1, minus9: bool = False) -> pd.DataFrame:
    """``rg --backend bolt``: BOLT's two-trait REML per pair of phenotypes
    (:mod:`gwas.heritability.bolt_reml`), written as ``rg.tsv``."""
    from gwas.heritability.bolt_reml import bolt_reml_rg

    table = bolt_reml_rg(bfile, pheno_path, pheno_names, covar_path, covar_names, out,
                         threads, minus9, columns=RG_COLUMNS)
    write_output(RG, "rg", table, out)
    return table


RG_COLUMNS = ["p1", "p2", "method", "rg", "rg_se", "p", "backend", "h2_1", "h2_1_se", "h2_2",
              "h2_2_se", "h2_diff_se", "n", "converged", "status"]


def estimate_rg(grm: np.ndarray, ids: pd.DataFrame, pheno_path: Path,
                pheno_names: list[str] | None, covar_path: Path | None,
                covar_names: list[str] | None, out: Path, cutoff: float | None = 0.025,
                min_n: int = 50, backend: str = "embedded", grm_prefix: str | None = None,
                threads: int = 1, minus9: bool = False) -> pd.DataFrame:
    """Bivariate GREML for every pair of phenotypes -> ``rg.tsv`` and ``<p1>__<p2>.hsq``.

    ``backend`` ``gcta`` runs ``gcta64 --reml-bivar`` on ``grm_prefix`` with the same
    samples and covariates (exit 3 without gcta64) and reads its ``.hsq``.
    """
    from itertools import combinations

    pheno = load_phenotypes(pheno_path, pheno_names, minus9)
    names = [c for c in pheno.columns if c != "IID"]
    if len(names) < 2:
        raise InputError(f"{pheno_path}: rg needs at least two phenotypes, found {names}")
    covar = load_covariates(covar_path, covar_names, minus9) if covar_path else None
    check_not_phenotype(pheno, covar, str(pheno_path), str(covar_path))
    ids = ids.copy()
    ids["IID"] = ids["IID"].astype(str)
    keep = np.arange(len(ids)) if cutoff is None else unrelated(grm, cutoff)
    if len(keep) < 0.5 * len(ids):
        raise InputError(f"the relatedness cut-off {cutoff} would remove "
                         f"{len(ids) - len(keep)} of {len(ids)} samples",
                         hint="raise or disable it with --grm-cutoff 0")
    pos = {iid: i for i, iid in enumerate(ids["IID"])}
    base_ids = ids.iloc[keep]["IID"]
    ph = pheno.set_index("IID")
    rows = []
    for a, b in combinations(names, 2):
        cand = base_ids[base_ids.isin(ph.index)]
        both = ph.loc[cand, [a, b]].notna().all(axis=1)
        sel = cand[both.to_numpy()]
        if covar is not None:
            cv = covar.set_index("IID")
            sel = sel[sel.isin(cv.index)]
            sel = sel[cv.loc[sel].notna().all(axis=1).to_numpy()]
        row = {"p1": a, "p2": b, "method": "greml", "backend": backend, "n": len(sel)}
        if len(sel) < min_n:
            rows.append({**row, "status": f"skipped: {len(sel)} samples with both traits "
                         f"(< {min_n})", "converged": False})
            continue
        y1, y2 = ph.loc[sel, a].to_numpy(float), ph.loc[sel, b].to_numpy(float)
        check_estimable_pair(pheno_path, a, b, y1, y2)
        x = np.ones((len(sel), 1))
        if covar is not None:
            x = np.column_stack([x, covar.set_index("IID").loc[sel].to_numpy(dtype=float)])
        if backend == "gcta":
            rows.append({**row, **_gcta_rg(ids, sel, y1, y2, x, grm_prefix, threads,
                                           out / f"{file_stem(a)}__{file_stem(b)}")})
            continue
        idx = np.array([pos[i] for i in sel])
        r = bivariate_greml(y1, y2, x, grm[np.ix_(idx, idx)])
        write_text(out / f"{file_stem(a)}__{file_stem(b)}.hsq", format_bivariate_hsq(r))
        rows.append({**row, "rg": r.rg, "rg_se": r.rg_se, "p": r.pval, "h2_1": r.h2[0],
                     "h2_1_se": r.h2_se[0], "h2_2": r.h2[1], "h2_2_se": r.h2_se[1],
                     "h2_diff_se": r.h2_diff_se,
                     "converged": r.converged,
                     "status": rg_status(r.converged, r.rg, r.at_boundary, r.h2)})
    table = pd.DataFrame(rows).reindex(columns=RG_COLUMNS)
    write_output(RG, "rg", table, out)
    return table


def check_estimable_pair(pheno_path: Path, a: str, b: str, y1: np.ndarray,
                         y2: np.ndarray) -> None:
    """InputError when phenotypes ``a`` and ``b`` (their values on the n samples with both,
    shape (n,)) are identical, one is constant or they correlate beyond 0.9999: rg is not
    estimable."""
    if np.ptp(y1) == 0 or np.ptp(y2) == 0 or abs(np.corrcoef(y1, y2)[0, 1]) > 0.9999:
        raise InputError(f"{pheno_path}: phenotypes {a!r} and {b!r} are identical (or "
                         f"one is constant, or |correlation| > 0.9999) on the {len(y1)} "
                         "samples with both: their genetic correlation is not estimable",
                         hint="drop one of them with --pheno-name")


def _gcta_rg(ids: pd.DataFrame, sel: pd.Series, y1: np.ndarray, y2: np.ndarray, x: np.ndarray,
             grm_prefix: str | None, threads: int, out: Path) -> dict:
    """One pair by ``gcta64 --reml-bivar 1 2``: the rg row's fields from its ``.hsq``."""
    if grm_prefix is None:
        raise InputError("--backend gcta needs the GRM on disk (--grm, or --bfile to write it)")
    fid = ids.set_index("IID").loc[sel, "FID"].to_numpy()
    sub = pd.DataFrame({"FID": fid, "IID": sel.to_numpy()})
    files = gcta.write_gcta_inputs(
        out.parent / "gcta" / out.name, sub.assign(y1=y1, y2=y2),
        pd.concat([sub, pd.DataFrame(x[:, 1:])], axis=1) if x.shape[1] > 1 else None, None)
    res = gcta.run_reml(grm_prefix, files, out, threads=threads, bivar=(1, 2))
    t = rg_from_hsq(res["hsq"])
    comps = res["hsq"]["components"]
    h2_se = [comps.get(f"V(G)/Vp_tr{i}", (np.nan, np.nan))[1] for i in (1, 2)]
    converged = bool(res["log"]["converged"])
    return {"rg": t["rg"], "rg_se": t["rg_se"], "p": np.nan if t["pval"] is None
            else t["pval"], "h2_1": t["h2_1"], "h2_1_se": h2_se[0], "h2_2": t["h2_2"],
            "h2_2_se": h2_se[1], "converged": converged,
            "status": rg_status(converged, t["rg"], res["log"]["constrained"],
                                (t["h2_1"], t["h2_2"]))}


def rg_status(converged: bool, rg: float, at_boundary: bool = False,
              h2: tuple[float, float] = (1.0, 1.0)) -> str:
    """The ``status`` of an rg row: flags non-convergence, an h2 near 0 (rg undefined), the
    boundary and |rg| > 1."""
    status = "ok" if converged else "not converged: estimate unreliable"
    if min(h2) < 0.01:
        status += "; an h2 is ~0, so rg is undefined"
    elif np.isfinite(rg) and abs(rg) > 1:
        status += "; rg outside [-1, 1]"
    elif at_boundary:
        status += "; rg at the boundary |rg| = 1 (constrained REML)"
    return status


def _ldsc_inputs(sumstats: list[Path], bfile: str | None, ref_ld: str | None, w_ld: str | None,
                 out: Path, backend: str) -> tuple[dict[str, str], str, str, dict[str, dict]]:
    """Munged ``.sumstats.gz`` per trait and the LD score prefixes to use."""
    from gwas.heritability.ldsc import cohort_ld_scores, to_ldsc_sumstats
    from gwas.sumstats import read_sumstats

    if not sumstats:
        raise InputError("--method ldsc needs --sumstats (GWAS-SSF or PLINK 2/REGENIE/BOLT/"
                         "Hail output), one per trait")
    if backend == "ldsc-cli" and not (ref_ld and w_ld):
        raise InputError("--backend ldsc-cli needs --ref-ld and --w-ld (per-chromosome LD "
                         "score prefixes for ldsc.py's --ref-ld-chr/--w-ld-chr)")
    if not (ref_ld and w_ld) and not bfile:
        raise InputError("give --bfile (LD scores from the cohort's genotypes) or "
                         "--ref-ld and --w-ld")
    # every summary-statistics file is read and checked before the (slow) LD scores
    (out / "ldsc").mkdir(parents=True, exist_ok=True)
    munged, info = {}, {}
    for path in sumstats:
        name = Path(path).name.split(".")[0]
        ssf = read_sumstats(path)
        target = out / "ldsc" / f"{name}.sumstats.gz"
        m = to_ldsc_sumstats(ssf, target)
        munged[name] = str(target)
        info[name] = {"n": int(ssf["n"].max()), "m": m}
    if not (ref_ld and w_ld):
        ref_ld = w_ld = cohort_ld_scores(bfile, out / "ldscores")
    return munged, ref_ld, w_ld, info


def ldsc_heritability(sumstats: list[Path], out: Path, bfile: str | None = None,
                      ref_ld: str | None = None, w_ld: str | None = None,
                      backend: str = "embedded") -> pd.DataFrame:
    """LDSC h2 of every trait -> ``heritability.tsv`` (intercept and ratio included)."""
    from gwas.heritability.ldsc import ldsc_h2, run_ldsc_cli

    munged, ref_ld, w_ld, info = _ldsc_inputs(sumstats, bfile, ref_ld, w_ld, out, backend)
    rows = []
    for name, path in munged.items():
        res = ldsc_h2(path, ref_ld, w_ld) if backend == "embedded" else run_ldsc_cli(
            "h2", [path], ref_ld, w_ld, out / "ldsc" / name)
        ok = np.isfinite(res.get("h2", np.nan))
        rows.append({"phenotype": name, "method": "ldsc", "backend": backend, **info[name],
                     **{k: res.get(k, np.nan) for k in ("h2", "h2_se", "intercept",
                                                        "intercept_se")},
                     "ratio": res.get("ratio", np.nan), "converged": bool(ok),
                     "status": "ok" if ok else "failed: no estimate"})
    table = pd.DataFrame(rows).reindex(columns=[*COLUMNS, "ratio"])
    write_output(H2, "heritability", table, out)
    return table


def ldsc_genetic_correlation(sumstats: list[Path], out: Path, bfile: str | None = None,
                             ref_ld: str | None = None, w_ld: str | None = None,
                             backend: str = "embedded") -> pd.DataFrame:
    """LDSC rg for every pair of traits -> ``rg.tsv``."""
    from itertools import combinations

    from gwas.heritability.ldsc import ldsc_rg, run_ldsc_cli

    if len(sumstats) < 2:
        raise InputError("rg needs at least two --sumstats files")
    munged, ref_ld, w_ld, info = _ldsc_inputs(sumstats, bfile, ref_ld, w_ld, out, backend)
    rows = []
    for a, b in combinations(munged, 2):
        res = ldsc_rg(munged[a], munged[b], ref_ld, w_ld) if backend == "embedded" else \
            run_ldsc_cli("rg", [munged[a], munged[b]], ref_ld, w_ld, out / "ldsc" / f"{a}__{b}")
        ok = np.isfinite(res.get("rg", np.nan))
        rows.append({"p1": a, "p2": b, "method": "ldsc", "backend": backend,
                     "rg": res.get("rg", np.nan), "rg_se": res.get("rg_se", np.nan),
                     "p": res.get("p", np.nan), "n": min(info[a]["n"], info[b]["n"]),
                     "converged": bool(ok),
                     "status": rg_status(True, res["rg"]) if ok
                     else "failed: an h2 is negative or rg undefined"})
    table = pd.DataFrame(rows).reindex(columns=RG_COLUMNS)
    write_output(RG, "rg", table, out)
    return table
