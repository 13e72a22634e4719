"""Brain-age table -> GWAS-ready phenotype and covariate files.

PLINK 2: ``pheno.tsv`` (``#FID IID BAG_<REP> ...``, ``NA`` missing) and ``covar.tsv``
(``#FID IID age age2 sex site_<k> ... eTIV``, sex 1 = male, 0 = female, site dummies
without the first site). GCTA: ``bag.phen`` (FID IID and one column per BAG, no header,
``NA`` missing, pick one with ``--mpheno``), ``bag.qcovar`` (age age2 eTIV) and
``bag.covar`` (sex site as text). Column order is written to ``gcta_columns.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from rnce_bag.core.errors import InputError
from rnce_bag.core.io import write_table, write_text
from rnce_bag.core.outputs import output_path, write_output
from rnce_bag.stages import BRAIN_AGE


def phenotype_name(rep: str) -> str:
    """``fs`` -> ``BAG_FS`` (PLINK-safe upper case)."""
    return "BAG_" + "".join(ch if ch.isalnum() else "_" for ch in rep).upper()


def covariates(manifest: pd.DataFrame, etiv: pd.Series | None) -> pd.DataFrame:
    """Numeric covariates per subject: age, age2, sex (1 = M), site dummies, eTIV.

    Parameters
    ----------
    manifest
        ``IID FID age sex site`` (FID defaults to IID).
    etiv
        eTIV indexed by IID, or ``None`` to leave it out.
    """
    fid = manifest["FID"] if "FID" in manifest.columns else manifest["IID"]
    age = manifest["age"].astype(float)
    out = pd.DataFrame({"#FID": fid.astype(str).to_numpy(), "IID": manifest["IID"].to_numpy(),
                        "age": age.to_numpy(), "age2": ((age - age.mean()) ** 2).to_numpy()})
    if "sex" in manifest.columns:
        sex = manifest["sex"].astype(str)
        bad = ~sex.isin(["M", "F"])
        if bad.any():
            raise InputError(f"manifest column 'sex': expected M or F, found "
                             f"{sex[bad].iloc[0]!r} (subject {manifest['IID'][bad].iloc[0]})")
        out["sex"] = (sex == "M").astype(int).to_numpy()
    if "site" in manifest.columns and manifest["site"].nunique() > 1:
        sites = sorted(manifest["site"].astype(str).unique())
        for s in sites[1:]:
            out[f"site_{s}"] = (manifest["site"].astype(str) == s).astype(int).to_numpy()
    if etiv is not None:
        out["eTIV"] = etiv.reindex(manifest["IID"]).to_numpy(dtype=float)
    return out


def write_gwas_files(bags: pd.DataFrame, manifest: pd.DataFrame, etiv: pd.Series | None,
                     out: str | os.PathLike[str], keep: np.ndarray | None = None,
                     diagnosis_covariate: bool = False) -> list[Path]:
    """Write PLINK 2 and GCTA phenotype/covariate files.

    Parameters
    ----------
    bags
        ``IID`` and one ``bag_<rep>`` column per representation.
    manifest
        Subjects (same IIDs, any order) with ``age sex site`` (and ``FID``).
    etiv
        eTIV by IID or ``None``.
    out
        Folder to write into.
    keep
        Boolean mask over ``manifest`` rows (shape (n,)): subjects whose BAGs the genetic
        analyses use; the others get ``NA`` (so every BAG has the same subjects).
    diagnosis_covariate
        Add ``dx_<level>`` dummies (all but the first level of ``diagnosis``) to the
        covariates, for analyses that keep patients.
    """
    out = Path(out)
    man = manifest.set_index("IID").loc[bags["IID"]].reset_index()
    cov = covariates(man, etiv)
    if diagnosis_covariate and "diagnosis" in man.columns:
        levels = sorted(man["diagnosis"].astype(str).unique())
        for lv in levels[1:]:
            cov.insert(len(cov.columns) - ("eTIV" in cov.columns), f"dx_{lv}",
                       (man["diagnosis"].astype(str) == lv).astype(int).to_numpy())
    reps = [c[len("bag_"):] for c in bags.columns if c.startswith("bag_")]
    pheno = cov[["#FID", "IID"]].copy()
    use = np.ones(len(man), dtype=bool) if keep is None else pd.Series(
        np.asarray(keep, dtype=bool), index=manifest["IID"]).reindex(man["IID"]).to_numpy()
    for rep in reps:
        pheno[phenotype_name(rep)] = np.where(use, bags[f"bag_{rep}"].to_numpy(), np.nan)
    paths = [output_path(BRAIN_AGE, "pheno", out), output_path(BRAIN_AGE, "covar", out),
             out / "bag.phen", out / "bag.qcovar", out / "bag.covar"]
    write_output(BRAIN_AGE, "pheno", pheno, out)
    write_output(BRAIN_AGE, "covar", cov, out)
    gcta_p = pheno.rename(columns={"#FID": "FID"})
    write_table(gcta_p, paths[2], header=False)
    qcols = [c for c in ("age", "age2", "eTIV") if c in cov.columns]
    write_table(cov.rename(columns={"#FID": "FID"})[["FID", "IID", *qcols]], paths[3],
               header=False)
    ccols = pd.DataFrame({"FID": cov["#FID"], "IID": cov["IID"]})
    if "sex" in man.columns:
        ccols["sex"] = man["sex"].astype(str).to_numpy()
    if "site" in man.columns:
        ccols["site"] = man["site"].astype(str).to_numpy()
    if diagnosis_covariate and "diagnosis" in man.columns:
        ccols["diagnosis"] = man["diagnosis"].astype(str).to_numpy()
    write_table(ccols, paths[4], header=False)
    write_text(out / "gcta_columns.json", json.dumps({
        "bag.phen": list(gcta_p.columns), "mpheno": {phenotype_name(r): i + 1
                                                    for i, r in enumerate(reps)},
        "bag.qcovar": ["FID", "IID", *qcols], "bag.covar": list(ccols.columns)}, indent=2)
        + "\n")
    if not np.isfinite(cov.drop(columns=["#FID", "IID"]).to_numpy(dtype=float)).all():
        raise InputError("covariates contain missing values (age or eTIV)",
                         hint="every subject needs age and, when used, eTIV")
    return paths
