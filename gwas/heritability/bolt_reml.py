"""``h2 --backend bolt``: BOLT-REML (Loh et al. 2015), SNP heritability without a dense GRM.

BOLT-REML fits the variance components by Monte Carlo REML on the genotypes themselves,
so memory grows with the genotype file, not with n^2: the backend for sample sizes where
the embedded GREML's n x n GRM does not fit. It reads ``--bfile`` (a GRM cannot be given)
and the same phenotype and covariate files (``--gwas`` too: the association's samples
and covariates); each phenotype is one ``bolt --reml`` run. Its estimate and standard
error come from BOLT's log (``h2g (1,1): 0.44 (0.05)``); its warnings go to the status.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from gwas.inputs import check_not_phenotype, load_covariates, load_phenotypes
from gwas.plink_io import read_fam
from rnce_bag.core.errors import ExternalToolError, InputError
from rnce_bag.core.names import file_stem
from rnce_bag.core.tools import require_tool, run_tool

#: BOLT-REML's line with the heritability and its SE
H2G = re.compile(r"h2g \(1,1\):\s*([-\d.eE]+)\s*\(([-\d.eE]+)\)")


def parse_reml_log(text: str) -> tuple[float, float]:
    """``(h2, se)`` from a ``bolt --reml`` log; ValueError when it holds none."""
    found = H2G.findall(text)
    if not found:
        raise ValueError("no 'h2g (1,1): ...' line")
    h2, se = found[-1]  # the final estimate (BOLT prints its iterations first)
    return float(h2), float(se)


def bolt_reml_h2(bfile: str, pheno_path: Path, pheno_names: list[str] | None,
                 covar_path: Path | None, covar_names: list[str] | None, out: Path,
                 threads: int = 1, minus9: bool = False, min_n: int = 50,
                 columns: list[str] | None = None) -> pd.DataFrame:
    """Heritability of every phenotype by BOLT-REML: the rows of ``heritability.tsv``
    (``columns``), ``backend`` ``bolt``; BOLT's logs as ``out/<pheno>.bolt.log``."""
    exe = require_tool("bolt")
    pheno = load_phenotypes(pheno_path, pheno_names, minus9)
    covar = load_covariates(covar_path, covar_names, minus9) if covar_path else None
    check_not_phenotype(pheno, covar, str(pheno_path), str(covar_path))
    fam = read_fam(bfile)
    fam["IID"] = fam["IID"].astype(str)
    table = fam[["FID", "IID"]].merge(pheno, on="IID", how="inner")
    if covar is not None:
        table = table.merge(covar, on="IID", how="inner", suffixes=("", "_covar"))
        qcov = [c for c in covar.columns if c != "IID"]
        table = table[table[qcov].notna().all(axis=1)]
    else:
        qcov = []
    if table.empty:
        raise InputError(f"{pheno_path}: no sample is both in {bfile}.fam and in the "
                         "phenotype/covariate files", hint="check that IIDs match")
    names = [c for c in pheno.columns if c != "IID"]
    internal = {n: f"P{i + 1}" for i, n in enumerate(names)}
    cov_map = {c: f"C{i + 1}" for i, c in enumerate(qcov)}
    files = table.rename(columns={**internal, **cov_map})
    files[["FID", "IID", *internal.values()]].to_csv(out / "bolt_pheno.tsv", sep="\t",
                                                     index=False, na_rep="NA")
    if qcov:
        files[["FID", "IID", *cov_map.values()]].to_csv(out / "bolt_covar.tsv", sep="\t",
                                                        index=False, float_format="%.10g")
    rows = []
    for name in names:
        n = int(table[name].notna().sum())
        base = {"phenotype": name, "method": "greml", "backend": "bolt", "n": n,
                "intercept": np.nan, "intercept_se": np.nan}
        if n < min_n:
            rows.append({**base, "status": f"skipped: {n} non-missing values (< {min_n})",
                         "converged": False})
            continue
        cmd = [exe, "--reml", "--bfile", bfile, "--phenoFile", str(out / "bolt_pheno.tsv"),
               "--phenoCol", internal[name], "--numThreads", str(threads), "--noMapCheck"]
        if qcov:
            cmd += ["--covarFile", str(out / "bolt_covar.tsv"),
                    *[f"--qCovarCol={c}" for c in cov_map.values()]]
        proc = run_tool(cmd)
        text = proc.stdout + proc.stderr
        log_path = out / f"{file_stem(name)}.bolt.log"
        log_path.write_text(text)
        if proc.returncode != 0:
            tail = "\n".join(text.strip().splitlines()[-6:])
            raise ExternalToolError(f"bolt --reml failed for {name} (exit {proc.returncode}):"
                                    f" {tail}", hint=f"see {log_path}")
        try:
            h2, se = parse_reml_log(text)
        except ValueError:
            rows.append({**base, "status": "failed: BOLT-REML printed no estimate (see "
                         f"{log_path.name})", "converged": False})
            continue
        warnings = [ln.strip() for ln in text.splitlines() if "WARNING" in ln.upper()
                    and "genetic map" not in ln.lower()]
        rows.append({**base, "h2": h2, "h2_se": se, "converged": True,
                     "status": "ok" + ("; BOLT: " + " | ".join(warnings[:2]) if warnings
                                       else "")})
    return pd.DataFrame(rows).reindex(columns=columns or list(rows[0]))
