"""``h2``/``rg --backend bolt``: BOLT-REML (Loh et al. 2015), SNP heritability and genetic
correlation without a dense GRM.

BOLT-REML fits the variance components by Monte Carlo REML on the genotypes themselves,
so memory grows with the genotype file, not with n^2: the backend for sample sizes where
the embedded GREML's n x n GRM does not fit. It reads ``--bfile`` (a GRM cannot be given)
and the same phenotype and covariate files (``--gwas`` too: the association's samples
and covariates). Each phenotype (``h2``) or pair of phenotypes (``rg``, BOLT's
multi-trait REML) is one ``bolt --reml`` run, on the samples with every phenotype of the
run; estimates and standard errors come from BOLT's log (``h2g (1,1): 0.44 (0.05)``,
``gen corr (1,2): 0.15 (0.26)``), its warnings go to the status.

No relatedness cut-off is applied (there is no GRM to apply one to): give the unrelated
set through ``--gwas`` (the GWAS's KING QC) or a filtered fileset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from gwas.inputs import check_not_phenotype, load_covariates, load_phenotypes
from gwas.plink_io import read_fam
from rnce_bag.core.errors import ExternalToolError, InputError
from rnce_bag.core.names import file_stem
from rnce_bag.core.tools import require_tool, run_tool

NUMBER = r"([-\d.eE]+|nan|-?inf)\s*\(([-\d.eE]+|nan|-?inf)\)"
#: BOLT-REML's lines with the heritabilities, the genetic correlation and their SEs
H2G = re.compile(r"h2g \((\d),\1\):\s*" + NUMBER)
GEN_CORR = re.compile(r"gen corr \(1,2\):\s*" + NUMBER)
#: BOLT's last line of a converged AI-REML
CONVERGED = "AI iteration converged"


def parse_reml_log(text: str, trait: int = 1) -> tuple[float, float]:
    """``(h2, se)`` of phenotype ``trait`` (1 or 2) from a ``bolt --reml`` log; ValueError
    when it holds none. BOLT prints its iterations first: the last line is the estimate."""
    found = [(h2, se) for t, h2, se in H2G.findall(text) if int(t) == trait]
    if not found:
        raise ValueError(f"no 'h2g ({trait},{trait}): ...' line")
    h2, se = found[-1]
    return float(h2), float(se)


def parse_gen_corr(text: str) -> tuple[float, float]:
    """``(rg, se)`` from a two-trait ``bolt --reml`` log; ValueError when it holds none."""
    found = GEN_CORR.findall(text)
    if not found:
        raise ValueError("no 'gen corr (1,2): ...' line")
    rg, se = found[-1]
    return float(rg), float(se)


@dataclass
class RemlInputs:
    """The phenotype and covariate files BOLT reads, written once per run.

    ``table``: FID, IID, the phenotypes and covariates of the samples in the ``.fam``
    with every covariate (n rows); ``names``: the phenotypes; ``internal``: phenotype ->
    its column in ``pheno`` (``P1``...); ``covars``: BOLT's covariate columns.
    """

    table: pd.DataFrame
    names: list[str]
    internal: dict[str, str]
    covars: list[str]
    pheno: Path
    covar: Path | None


def reml_inputs(bfile: str, pheno_path: Path, pheno_names: list[str] | None,
                covar_path: Path | None, covar_names: list[str] | None, out: Path,
                minus9: bool = False) -> RemlInputs:
    """Line the phenotypes and covariates up with ``bfile.fam`` and write them as
    ``out/bolt_pheno.tsv`` and ``out/bolt_covar.tsv`` (columns renamed so any phenotype
    name reaches BOLT intact); InputError when no sample has them all."""
    pheno = load_phenotypes(pheno_path, pheno_names, minus9)
    covar = load_covariates(covar_path, covar_names, minus9) if covar_path else None
    check_not_phenotype(pheno, covar, str(pheno_path), str(covar_path))
    fam = read_fam(bfile)
    fam["IID"] = fam["IID"].astype(str)
    table = fam[["FID", "IID"]].merge(pheno, on="IID", how="inner")
    qcov = []
    if covar is not None:
        table = table.merge(covar, on="IID", how="inner", suffixes=("", "_covar"))
        qcov = [c for c in covar.columns if c != "IID"]
        table = table[table[qcov].notna().all(axis=1)]
    if table.empty:
        raise InputError(f"{pheno_path}: no sample is both in {bfile}.fam and in the "
                         "phenotype/covariate files", hint="check that IIDs match")
    names = [c for c in pheno.columns if c != "IID"]
    internal = {n: f"P{i + 1}" for i, n in enumerate(names)}
    cov_map = {c: f"C{i + 1}" for i, c in enumerate(qcov)}
    files = table.rename(columns={**internal, **cov_map})
    files[["FID", "IID", *internal.values()]].to_csv(out / "bolt_pheno.tsv", sep="\t",
                                                     index=False, na_rep="NA")
    covar_file = None
    if qcov:
        covar_file = out / "bolt_covar.tsv"
        files[["FID", "IID", *cov_map.values()]].to_csv(covar_file, sep="\t", index=False,
                                                        float_format="%.10g")
    return RemlInputs(table, names, internal, list(cov_map.values()), out / "bolt_pheno.tsv",
                      covar_file)


def run_reml(bfile: str, inputs: RemlInputs, phenotypes: list[str], log_path: Path,
             threads: int = 1) -> str:
    """One ``bolt --reml`` on ``phenotypes`` (one, or two for the genetic correlation);
    its log is written to ``log_path`` and returned. ExternalToolError when BOLT fails."""
    cmd = [require_tool("bolt"), "--reml", "--bfile", bfile, "--phenoFile", str(inputs.pheno),
           *[a for p in phenotypes for a in ("--phenoCol", inputs.internal[p])],
           "--numThreads", str(threads), "--noMapCheck"]
    if inputs.covar is not None:
        cmd += ["--covarFile", str(inputs.covar), *[f"--qCovarCol={c}" for c in inputs.covars]]
    proc = run_tool(cmd)
    text = proc.stdout + proc.stderr
    log_path.write_text(text)
    if proc.returncode != 0:
        tail = "\n".join(text.strip().splitlines()[-6:])
        raise ExternalToolError(f"bolt --reml failed for {' x '.join(phenotypes)} (exit "
                                f"{proc.returncode}): {tail}", hint=f"see {log_path}")
    return text


def bolt_warnings(text: str) -> str:
    """BOLT's warnings of a log, for the ``status`` ('' when none; the genetic-map check is
    off on purpose, :func:`run_reml`)."""
    warnings = [ln.strip() for ln in text.splitlines() if "WARNING" in ln.upper()
                and "genetic map" not in ln.lower()]
    return "; BOLT: " + " | ".join(warnings[:2]) if warnings else ""


def bolt_reml_h2(bfile: str, pheno_path: Path, pheno_names: list[str] | None,
                 covar_path: Path | None, covar_names: list[str] | None, out: Path,
                 threads: int = 1, minus9: bool = False, min_n: int = 50,
                 columns: list[str] | None = None) -> pd.DataFrame:
    """Heritability of every phenotype by BOLT-REML: the rows of ``heritability.tsv``
    (``columns``), ``backend`` ``bolt``; BOLT's logs as ``out/<pheno>.bolt.log``."""
    inputs = reml_inputs(bfile, pheno_path, pheno_names, covar_path, covar_names, out, minus9)
    rows = []
    for name in inputs.names:
        n = int(inputs.table[name].notna().sum())
        base = {"phenotype": name, "method": "greml", "backend": "bolt", "n": n,
                "intercept": np.nan, "intercept_se": np.nan}
        if n < min_n:
            rows.append({**base, "status": f"skipped: {n} non-missing values (< {min_n})",
                         "converged": False})
            continue
        log_path = out / f"{file_stem(name)}.bolt.log"
        text = run_reml(bfile, inputs, [name], log_path, threads)
        try:
            h2, se = parse_reml_log(text)
        except ValueError:
            rows.append({**base, "status": "failed: BOLT-REML printed no estimate (see "
                         f"{log_path.name})", "converged": False})
            continue
        rows.append({**base, "h2": h2, "h2_se": se, "converged": True,
                     "status": "ok" + bolt_warnings(text)})
    return pd.DataFrame(rows).reindex(columns=columns or list(rows[0]))


def bolt_reml_rg(bfile: str, pheno_path: Path, pheno_names: list[str] | None,
                 covar_path: Path | None, covar_names: list[str] | None, out: Path,
                 threads: int = 1, minus9: bool = False, min_n: int = 50,
                 columns: list[str] | None = None) -> pd.DataFrame:
    """Genetic correlation of every pair of phenotypes by BOLT's two-trait REML: the rows
    of ``rg.tsv`` (``columns``), ``backend`` ``bolt``, on the samples with both traits;
    BOLT's logs as ``out/<p1>__<p2>.bolt.log``.

    ``p`` is the Wald p of rg = 0 (BOLT reports no likelihood-ratio test); ``h2_diff_se``
    is not reported (BOLT prints no sampling covariance of the two h2).
    """
    from gwas.heritability.run import check_estimable_pair, rg_status

    inputs = reml_inputs(bfile, pheno_path, pheno_names, covar_path, covar_names, out, minus9)
    if len(inputs.names) < 2:
        raise InputError(f"{pheno_path}: rg needs at least two phenotypes, found "
                         f"{inputs.names}")
    rows = []
    for a, b in combinations(inputs.names, 2):
        both = inputs.table[[a, b]].dropna()
        row = {"p1": a, "p2": b, "method": "greml", "backend": "bolt", "n": len(both)}
        if len(both) < min_n:
            rows.append({**row, "status": f"skipped: {len(both)} samples with both traits "
                         f"(< {min_n})", "converged": False})
            continue
        check_estimable_pair(pheno_path, a, b, both[a].to_numpy(float), both[b].to_numpy(float))
        log_path = out / f"{file_stem(a)}__{file_stem(b)}.bolt.log"
        text = run_reml(bfile, inputs, [a, b], log_path, threads)
        try:
            rg, rg_se = parse_gen_corr(text)
            (h1, h1_se), (h2, h2_se) = parse_reml_log(text, 1), parse_reml_log(text, 2)
        except ValueError:
            rows.append({**row, "status": "failed: BOLT-REML printed no estimate (see "
                         f"{log_path.name})", "converged": False})
            continue
        converged = CONVERGED in text
        p = float(2 * stats.norm.sf(abs(rg / rg_se))) if rg_se > 0 else np.nan
        rows.append({**row, "rg": rg, "rg_se": rg_se, "p": p, "h2_1": h1, "h2_1_se": h1_se,
                     "h2_2": h2, "h2_2_se": h2_se, "converged": converged,
                     "status": rg_status(converged, rg, False, (h1, h2))
                     + bolt_warnings(text)})
    return pd.DataFrame(rows).reindex(columns=columns or list(rows[0]))
