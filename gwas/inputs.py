"""Phenotypes, covariates and the sample set shared by every engine.

Phenotype and covariate files are PLINK 2 files (``#FID IID ...`` or ``#IID ...``) or
any TSV/CSV with an ``IID`` column and named columns. One missing-value rule for both
(:func:`missing_cells`): ``NA``, ``nan``, ``None`` and empty cells are missing; ``-9`` is
missing only when ``minus9_is_missing`` is set (``--minus9-is-missing`` on gwas, h2 and
rg; PLINK 1's convention), else it is a value and every column holding exact ``-9``
values is warned about with their count (a BAG of -9 years is possible; a code is not).
Non-numeric covariates are one-hot encoded (first level dropped); a level held by fewer
than :data:`MIN_LEVEL_SAMPLES` samples, and constant or collinear covariates, are errors
naming them.

Samples are matched on IID alone, in phenotype and covariate files alike (the genotype
files' FIDs are not compared); a FID column that disagrees with the genotypes' FIDs is
warned about (:func:`warn_fid_mismatch`). Sample lists follow PLINK (``gwas.filters``).

Both engines analyse exactly the samples :func:`match_samples` returns: genotyped,
with every covariate, and with at least one phenotype; each phenotype keeps its own
missingness.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rnce_bag.core.errors import InputError
from rnce_bag.core.schema import NA_TOKENS, read_table

log = logging.getLogger(__name__)


def read_named_table(path: str | os.PathLike[str], kind: str) -> pd.DataFrame:
    """A phenotype/covariate table as text: ``IID`` (+ ``FID``) and value columns."""
    p = Path(path)
    df = read_table(p)
    df.columns = [str(c) for c in df.columns]
    rename = {"#FID": "FID", "#IID": "IID"}
    df = df.rename(columns=rename)
    if "IID" not in df.columns:
        raise InputError(f"{p}: no IID column in the {kind} file; found "
                         f"{', '.join(df.columns[:8])}",
                         hint="the header needs IID (PLINK 2: '#FID IID ...' or '#IID ...')")
    iid = df["IID"].astype(str).str.strip()
    spaced = iid.str.contains(r"\s", regex=True)
    if spaced.any():
        i = int(np.flatnonzero(spaced.to_numpy())[0])
        raise InputError(f"{p}, row {i + 1} (line {i + 2}), column 'IID': sample ID "
                         f"{iid.iloc[i]!r} contains whitespace, which PLINK and GCTA files "
                         "(whitespace-delimited) cannot hold",
                         hint="replace spaces in the IDs (e.g. by '_'), here and in the "
                              "genotype files")
    dup = iid.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(f"{p}, row {i + 1} (line {i + 2}), column 'IID': duplicated sample "
                         f"{iid.iloc[i]!r} in the {kind} file",
                         hint="each sample must appear once")
    df["IID"] = iid
    return df


#: a categorical covariate's level needs at least this many samples: a dummy on one or two
#: samples is a near-singular column (PLINK 2 stops with VIF_TOO_HIGH) and usually a code
#: for missing (-9, 'unknown') rather than a group
MIN_LEVEL_SAMPLES = 5
_MINUS9 = ("-9", "-9.0", "-9.00")


def missing_cells(raw: pd.Series, minus9: bool) -> pd.Series:
    """Which cells of a text column are missing (the module's one rule): (n,) bool."""
    missing = raw.isin(NA_TOKENS) | (raw == "None")
    return missing | raw.isin(_MINUS9) if minus9 else missing


def _warn_minus9(raw: pd.Series, path: str, column: str, kind: str) -> None:
    n = int(raw.isin(_MINUS9).sum())
    if n:
        log.warning("%s, column '%s': %d %s value(s) are exactly -9, analysed as values; if "
                    "-9 codes a missing value, pass --minus9-is-missing (gwas: --set "
                    "minus9_is_missing=true) or write NA", path, column, n, kind)


def _numeric(df: pd.DataFrame, cols: list[str], path: str, minus9: bool, kind: str
             ) -> pd.DataFrame:
    out = pd.DataFrame({"IID": df["IID"]})
    for c in cols:
        raw = df[c].astype(str).str.strip()
        missing = missing_cells(raw, minus9)
        if not minus9:
            _warn_minus9(raw, path, c, kind)
        values = pd.to_numeric(raw.where(~missing), errors="coerce")
        bad = values.isna() & ~missing
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{path}, row {i + 1} (line {i + 2}), column '{c}': expected a "
                             f"number in the {kind} file, found {raw.iloc[i]!r}",
                             hint="write NA for a missing value")
        if np.isinf(values).any():
            i = int(np.flatnonzero(np.isinf(values.to_numpy()))[0])
            raise InputError(f"{path}, row {i + 1}, column '{c}': infinite value")
        out[c] = values.astype(float)
    return out


def warn_fid_mismatch(path: str | os.PathLike[str], fam: pd.DataFrame, kind: str) -> int:
    """Warn when a table's FID column disagrees with the genotypes' FIDs (``fam``: ``FID
    IID``) for the same IID; samples are matched on IID alone. Returns how many disagree."""
    df = read_named_table(path, kind)
    if "FID" not in df.columns:
        return 0
    geno = fam.assign(IID=fam["IID"].astype(str)).drop_duplicates("IID").set_index("IID")
    both = df[df["IID"].isin(geno.index)]
    theirs = geno.loc[both["IID"], "FID"].astype(str).to_numpy()
    differ = both["FID"].astype(str).str.strip().to_numpy() != theirs
    n = int(differ.sum())
    if n:
        i = int(np.flatnonzero(differ)[0])
        log.warning("%s: %d sample(s) have another FID than in the genotype files (e.g. IID "
                    "%r: FID %r here, %r there); samples are matched on IID alone", path, n,
                    both["IID"].iloc[i], str(both["FID"].iloc[i]), theirs[i])
    return n


def load_phenotypes(path: str | os.PathLike[str], names: list[str] | None = None,
                    minus9_is_missing: bool = False) -> pd.DataFrame:
    """``IID`` + numeric phenotype columns (NaN = missing).

    Raises
    ------
    InputError
        Unknown phenotype names, non-numeric values, or a phenotype that is constant or
        entirely missing.
    """
    df = read_named_table(path, "phenotype")
    avail = [c for c in df.columns if c not in ("FID", "IID", "PAT", "MAT", "SEX")]
    cols = names or avail
    unknown = [c for c in cols if c not in df.columns]
    if unknown:
        raise InputError(f"{path}: phenotype(s) {', '.join(unknown)} not in the file; "
                         f"available: {', '.join(avail)}")
    out = _numeric(df, cols, str(path), minus9_is_missing, "phenotype")
    for c in cols:
        v = out[c].dropna()
        if v.empty:
            raise InputError(f"{path}, column '{c}': every value is missing")
        if v.nunique() < 2:
            raise InputError(f"{path}, column '{c}': phenotype is constant ({v.iloc[0]!r}); "
                             f"nothing to associate", hint="drop it with --pheno-name")
        big = float(v.abs().max())
        if big > 1e12 or v.std() <= 1e-10 * max(float(v.abs().mean()), 1e-300):
            raise InputError(f"{path}, column '{c}': degenerate phenotype (largest |value| "
                             f"{big:.3g}, SD {v.std():.3g}): numerically constant or of a "
                             "magnitude the regression cannot handle",
                             hint="rescale it (e.g. standardise) or drop it with --pheno-name")
        mode_share = float(v.value_counts().iloc[0]) / len(v)
        if mode_share > 0.99:
            log.warning("%s, column '%s': %.1f%% of the values are %r: almost constant, the "
                        "association rests on %d sample(s)", path, c, 100 * mode_share,
                        v.mode().iloc[0], int(round(len(v) * (1 - mode_share))))
    return out


#: largest |value| a covariate may hold (as for phenotypes): beyond it, or infinite, the
#: least-squares fit loses all precision
COVARIATE_LIMIT = 1e12


def check_not_phenotype(pheno: pd.DataFrame, covar: pd.DataFrame | None, pheno_source: str,
                        covar_source: str) -> None:
    """Error when a covariate is one of the phenotypes (the same values on every sample
    both have): the association would be degenerate (lambda 0, p = 1) and the
    heritability meaningless.

    Parameters
    ----------
    pheno, covar : pandas.DataFrame
        ``IID`` + numeric columns each.
    """
    if covar is None:
        return
    both = pheno.merge(covar, on="IID", suffixes=("", " (covariate)"))
    if both.empty:
        return
    for pc in (c for c in pheno.columns if c != "IID"):
        for cc in (c for c in covar.columns if c != "IID"):
            col = f"{cc} (covariate)" if cc in pheno.columns else cc
            a, b = both[pc].to_numpy(float), both[col].to_numpy(float)
            ok = ~(np.isnan(a) | np.isnan(b))
            if ok.sum() >= 3 and np.allclose(a[ok], b[ok], rtol=1e-9, atol=0):
                raise InputError(f"{covar_source}, column '{cc}' holds the same values as the "
                                 f"phenotype '{pc}' of {pheno_source}: a phenotype cannot be "
                                 "its own covariate",
                                 hint="check --covar (was the phenotype file given?) or drop "
                                      "the column with --covar-name")


def encode_covariates(df: pd.DataFrame, cols: list[str], path: str, minus9: bool = False
                      ) -> pd.DataFrame:
    """Numeric covariates; text columns one-hot encoded (``col_level``, first level dropped).

    Missing cells by :func:`missing_cells`; a text level held by fewer than
    :data:`MIN_LEVEL_SAMPLES` rows of the file is an error naming it.
    """
    out = pd.DataFrame({"IID": df["IID"]})
    for c in cols:
        raw = df[c].astype(str).str.strip()
        missing = missing_cells(raw, minus9)
        if not minus9:
            _warn_minus9(raw, path, c, "covariate")
        num = pd.to_numeric(raw.where(~missing), errors="coerce")
        if (num.notna() | missing).all():
            big = num.abs() > COVARIATE_LIMIT
            if big.any():  # inf, -inf, 1e308: the same rule as phenotypes get
                i = int(np.flatnonzero(big.to_numpy())[0])
                raise InputError(f"{path}, row {i + 1} (line {i + 2}), column '{c}': "
                                 f"covariate value {raw.iloc[i]!r} is infinite or beyond "
                                 f"{COVARIATE_LIMIT:g}, which the regression cannot handle",
                                 hint="write NA for a missing value, or rescale the column")
            out[c] = num.astype(float)
            continue
        levels = sorted(raw[~missing].unique())
        if len(levels) < 2:  # the same rule as for a constant numeric covariate
            raise InputError(f"{path}, column '{c}': constant covariate (every value is "
                             f"{levels[0]!r}); collinear with the intercept",
                             hint="drop it with --covar-name")
        sizes = raw[~missing].value_counts()
        rare = sizes[sizes < MIN_LEVEL_SAMPLES]
        if len(rare):
            level, count = str(rare.index[0]), int(rare.iloc[0])
            row = int(np.flatnonzero((raw == level).to_numpy())[0])
            raise InputError(f"{path}, column '{c}': level {level!r} is held by {count} "
                             f"sample(s) (first at row {row + 1}, line {row + 2}), fewer than "
                             f"{MIN_LEVEL_SAMPLES}: its indicator would be a near-singular "
                             "covariate", hint="if it codes a missing value write NA (for -9: "
                             "--minus9-is-missing); else merge it into another level")
        for level in levels[1:]:
            col = f"{c}_{level}"
            out[col] = np.where(missing, np.nan, (raw == level).astype(float))
    return out


def load_covariates(path: str | os.PathLike[str], names: list[str] | None = None,
                    minus9_is_missing: bool = False) -> pd.DataFrame:
    """``IID`` + numeric covariate columns (categorical ones one-hot encoded)."""
    df = read_named_table(path, "covariate")
    avail = [c for c in df.columns if c not in ("FID", "IID")]
    cols = names or avail
    unknown = [c for c in cols if c not in df.columns]
    if unknown:
        raise InputError(f"{path}: covariate(s) {', '.join(unknown)} not in the file; "
                         f"available: {', '.join(avail)}")
    return encode_covariates(df, cols, str(path), minus9_is_missing)


def check_covariates(cov: pd.DataFrame, source: str) -> None:
    """Error on constant or collinear covariates (on the complete rows)."""
    cols = [c for c in cov.columns if c != "IID"]
    x = cov[cols].dropna().to_numpy(dtype=float)
    if x.shape[0] == 0:
        return
    const = [c for c, sd in zip(cols, x.std(axis=0), strict=True) if sd == 0]
    if const:
        raise InputError(f"{source}: constant covariate(s) {', '.join(const)} among the "
                         f"analysed samples (collinear with the intercept)",
                         hint="drop them with --covar-name")
    design = np.column_stack([np.ones(len(x)), (x - x.mean(0)) / x.std(0)])
    rank = np.linalg.matrix_rank(design, tol=1e-8 * max(design.shape))
    if rank < design.shape[1]:
        # find the first column that adds nothing to the ones before it
        for k in range(2, design.shape[1] + 1):
            if np.linalg.matrix_rank(design[:, :k], tol=1e-8 * max(design.shape)) < k:
                raise InputError(f"{source}: covariate '{cols[k - 2]}' is collinear with the "
                                 f"covariates before it ({', '.join(cols[:k - 2]) or 'intercept'})",
                                 hint="drop one of them with --covar-name")


@dataclass
class SampleSet:
    """The samples every engine analyses and why others were dropped."""

    iids: list[str]
    pheno: pd.DataFrame  # IID + phenotypes, rows in genotype order
    covar: pd.DataFrame  # IID + covariates, rows in genotype order
    dropped: dict[str, int] = field(default_factory=dict)


def covariate_names(gwas_dir: Path) -> list[str]:
    """The covariates a finished GWAS used (the header of its declared ``covariates``
    output: the association's covariates with PCs, which GREML h2 and rg reuse)."""
    from gwas.stages import GWAS
    from rnce_bag.core.outputs import output_path

    path = output_path(GWAS, "covariates", Path(gwas_dir))
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        return fh.readline().rstrip("\n").split("\t")[1:]


def match_samples(genotype_iids: list[str], pheno: pd.DataFrame, covar: pd.DataFrame | None,
                  source: str = "inputs", filtered: Sequence[str] = ()) -> SampleSet:
    """Genotyped samples with all covariates and at least one phenotype, in genotype order.

    ``filtered``: genotyped samples that ``--keep``/``--remove`` took out before; a
    phenotyped one among them is counted as removed by the filters, not as lacking
    genotypes.
    """
    geno = pd.Index(genotype_iids)
    dropped = {}
    ph = pheno.set_index("IID")
    gone = ph.index.isin(pd.Index(filtered)) & ~ph.index.isin(geno)
    if len(filtered):
        dropped["phenotyped, removed by --keep/--remove"] = int(gone.sum())
    missing = ph.index[~ph.index.isin(geno) & ~gone]
    dropped["phenotyped but not genotyped"] = int(len(missing))
    if len(missing):
        zeros = {g.lstrip("0") for g in geno}
        similar = [m for m in missing if m.lstrip("0") in zeros]
        log.warning("%s: %d phenotyped sample(s) have no genotypes and are left out, e.g. %s%s",
                    source, len(missing), ", ".join(map(repr, missing[:3])),
                    f"; {len(similar)} of them match a genotyped ID once leading zeros are "
                    f"removed (IDs are compared as text: '007' is not '7'), e.g. "
                    f"{similar[0]!r}" if similar else "")
    if covar is not None:
        check_not_phenotype(pheno, covar, "the phenotype file", "the covariate file")
    keep = geno[geno.isin(ph.index)]
    dropped["genotyped but not phenotyped"] = int(len(geno) - len(keep))
    has_pheno = ph.loc[keep].notna().any(axis=1)
    dropped["all phenotypes missing"] = int((~has_pheno).sum())
    keep = keep[has_pheno.to_numpy()]
    if covar is not None:
        cv = covar.set_index("IID")
        in_cov = keep.isin(cv.index)
        dropped["no covariate row"] = int((~in_cov).sum())
        keep = keep[in_cov]
        complete = cv.loc[keep].notna().all(axis=1)
        dropped["missing covariate"] = int((~complete).sum())
        keep = keep[complete.to_numpy()]
        cov_out = cv.loc[keep].rename_axis("IID").reset_index()
    else:
        cov_out = pd.DataFrame({"IID": keep})
    if len(keep) < 10:
        raise InputError(f"{source}: only {len(keep)} samples have genotypes, covariates and a "
                         f"phenotype ({dropped})",
                         hint="check that the IIDs of the genotype, phenotype and covariate "
                              "files match")
    check_covariates(cov_out, source)
    return SampleSet(list(keep), ph.loc[keep].rename_axis("IID").reset_index(), cov_out, dropped)
