"""Summary statistics: the GWAS-SSF format, readers of other tools' outputs, lambda GC.

GWAS-SSF (GWAS Catalog summary-statistics format v1.0): a tab-separated table sorted by
chromosome and position with the columns ``chromosome base_pair_location effect_allele
other_allele beta standard_error effect_allele_frequency p_value variant_id rsid n``,
BGZF-compressed with a tabix index (``.tsv.gz.tbi``, htslib's own code through pysam, so
``tabix`` and LocusZoom's local files read regions of it), plus a ``<file>-meta.yaml``
sidecar with the standard's metadata fields (``data_file_md5sum``, ``samples:
[{sample_size}]``, ``adjusted_covariates``, ...; checked against the GWAS Catalog's own
validator, ``gwas-ssf validate``, in the tests).

Readers take other tools' outputs by column *name* (PLINK 2's default columns differ
between versions): PLINK 2 ``.glm.linear``, REGENIE ``.regenie``, BOLT-LMM, and Hail's
``linear_regression_rows`` table exported to TSV.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from gwas.config import GENOME_WIDE_P
from rnce_bag.core.errors import InputError
from rnce_bag.core.io import write_text
from rnce_bag.core.schema import validate_frame

SSF_COLUMNS = ["chromosome", "base_pair_location", "effect_allele", "other_allele", "beta",
               "standard_error", "effect_allele_frequency", "p_value", "variant_id", "rsid", "n"]
CHI2_MEDIAN_1DF = float(stats.chi2.ppf(0.5, 1))  # 0.4549364...


def _chrom_key(c: pd.Series) -> pd.Series:
    order = {str(i): i for i in range(1, 23)} | {"X": 23, "Y": 24, "XY": 25, "MT": 26, "M": 26}
    return c.astype(str).str.replace("chr", "", regex=False).map(order).fillna(99)


def to_ssf(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Sort, build ``variant_id`` and validate a table with the GWAS-SSF columns."""
    df["chromosome"] = df["chromosome"].astype(str).str.replace("chr", "", regex=False)
    df["variant_id"] = (df["chromosome"] + "_" + df["base_pair_location"].astype(str) + "_"
                        + df["other_allele"].astype(str) + "_" + df["effect_allele"].astype(str))
    if "rsid" not in df.columns:
        df["rsid"] = pd.NA
    out = df[SSF_COLUMNS].copy()
    out = out.iloc[np.lexsort((out["base_pair_location"].to_numpy(),
                               _chrom_key(out["chromosome"]).to_numpy()))].reset_index(drop=True)
    return validate_frame(out, "sumstats", source=source)


def unambiguous_rsids(ssf: pd.DataFrame, shared: set[str] | frozenset[str] = frozenset()
                      ) -> tuple[pd.DataFrame, int]:
    """``rsid`` set to NA where it names no single variant: '.', shared by several rows, or
    in ``shared`` (IDs the input gives to several records, some perhaps removed by QC).

    ``variant_id`` (chromosome_position_other_effect) stays the key; tools that key on the
    rsid (LDSC's SNP column, loci) fall back to it where the rsid is NA. Returns the table
    and the number of variants left without an rsid (cleared here or missing before).
    """
    rsid = ssf["rsid"].astype("string")
    bad = rsid.isin([".", "", *shared]) | (rsid.duplicated(keep=False) & rsid.notna())
    if not bad.any():
        return ssf, int(rsid.isna().sum())
    out = ssf.copy()
    out["rsid"] = out["rsid"].astype(object).mask(bad.to_numpy(), pd.NA)
    return out, int((bad | rsid.isna()).sum())


def _read(path: str | os.PathLike[str]) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"summary statistics '{p}' not found")
    try:
        return pd.read_csv(p, sep=r"\s+|\t", engine="python") if p.suffix != ".gz" else \
            pd.read_csv(p, sep="\t")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"summary statistics '{p}' cannot be parsed: {exc}") from None


def _need(df: pd.DataFrame, cols: list[str], path, fmt: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(f"{path}: {fmt} output lacks column(s) {', '.join(missing)}; found "
                         f"{', '.join(map(str, df.columns))}")


def from_plink2_glm(path: str | os.PathLike[str]) -> pd.DataFrame:
    """PLINK 2 ``--glm`` output (``.glm.linear``), additive test rows only."""
    df = pd.read_csv(path, sep="\t", dtype={"#CHROM": str})
    df = df.rename(columns={"#CHROM": "CHROM"})
    _need(df, ["CHROM", "POS", "ID", "REF", "ALT", "A1", "BETA", "SE", "P"], path, "PLINK 2")
    if "TEST" in df.columns:
        df = df[df["TEST"] == "ADD"]
    freq = df["A1_FREQ"] if "A1_FREQ" in df.columns else (
        df["ALT_FREQS"] if "ALT_FREQS" in df.columns else np.nan)
    n = df["OBS_CT"] if "OBS_CT" in df.columns else pd.NA
    other = np.where(df["A1"] == df["ALT"], df["REF"], df["ALT"])
    out = pd.DataFrame({
        "chromosome": df["CHROM"], "base_pair_location": df["POS"], "effect_allele": df["A1"],
        "other_allele": other, "beta": df["BETA"], "standard_error": df["SE"],
        "effect_allele_frequency": freq, "p_value": df["P"], "rsid": df["ID"], "n": n,
    })
    return to_ssf(out, str(path))


def from_regenie(path: str | os.PathLike[str]) -> pd.DataFrame:
    """REGENIE step-2 output (``.regenie``): ALLELE1 is the effect allele."""
    df = _read(path)
    _need(df, ["CHROM", "GENPOS", "ID", "ALLELE0", "ALLELE1", "BETA", "SE", "LOG10P"], path,
          "REGENIE")
    if "TEST" in df.columns:
        df = df[df["TEST"] == "ADD"]
    out = pd.DataFrame({
        "chromosome": df["CHROM"].astype(str), "base_pair_location": df["GENPOS"],
        "effect_allele": df["ALLELE1"], "other_allele": df["ALLELE0"], "beta": df["BETA"],
        "standard_error": df["SE"], "effect_allele_frequency": df.get("A1FREQ", np.nan),
        "p_value": 10.0 ** (-df["LOG10P"].astype(float)), "rsid": df["ID"], "n": df.get("N"),
    })
    return to_ssf(out, str(path))


def from_bolt(path: str | os.PathLike[str], n: int) -> pd.DataFrame:
    """BOLT-LMM output: ALLELE1 is the effect allele; P_BOLT_LMM, else P_BOLT_LMM_INF."""
    df = _read(path)
    _need(df, ["SNP", "CHR", "BP", "ALLELE1", "ALLELE0", "BETA", "SE"], path, "BOLT-LMM")
    pcol = "P_BOLT_LMM" if "P_BOLT_LMM" in df.columns else "P_BOLT_LMM_INF"
    _need(df, [pcol], path, "BOLT-LMM")
    out = pd.DataFrame({
        "chromosome": df["CHR"].astype(str), "base_pair_location": df["BP"],
        "effect_allele": df["ALLELE1"], "other_allele": df["ALLELE0"], "beta": df["BETA"],
        "standard_error": df["SE"], "effect_allele_frequency": df.get("A1FREQ", np.nan),
        "p_value": df[pcol], "rsid": df["SNP"], "n": n,
    })
    return to_ssf(out, str(path))


def from_hail_tsv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A Hail ``linear_regression_rows`` table exported with ``Table.export`` (one phenotype).

    Expects ``locus`` (``1:12345``), ``alleles`` (``["A","G"]``, the second is counted),
    ``beta``, ``standard_error``, ``p_value``, ``n`` and optionally ``rsid`` and
    ``effect_allele_frequency``.
    """
    df = pd.read_csv(path, sep="\t")
    _need(df, ["locus", "alleles", "beta", "standard_error", "p_value"], path, "Hail")
    loc = df["locus"].astype(str).str.rsplit(":", n=1, expand=True)
    alleles = df["alleles"].astype(str).str.findall(r'"([^"]+)"')
    out = pd.DataFrame({
        "chromosome": loc[0], "base_pair_location": loc[1].astype(int),
        "effect_allele": alleles.str[1], "other_allele": alleles.str[0], "beta": df["beta"],
        "standard_error": df["standard_error"],
        "effect_allele_frequency": df.get("effect_allele_frequency", np.nan),
        "p_value": df["p_value"], "rsid": df.get("rsid", pd.NA), "n": df.get("n", pd.NA),
    })
    return to_ssf(out, str(path))


def from_ssf(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A GWAS-SSF file (gzipped or not)."""
    df = pd.read_csv(path, sep="\t", dtype={"chromosome": str})
    if "variant_id" not in df.columns:  # optional in files written by other tools
        _need(df, [c for c in SSF_COLUMNS if c not in ("variant_id", "rsid")], path,
              "GWAS-SSF")
        return to_ssf(df, str(path))
    _need(df, SSF_COLUMNS, path, "GWAS-SSF")
    return validate_frame(df[SSF_COLUMNS], "sumstats", source=str(path))


def read_sumstats(path: str | os.PathLike[str], fmt: str = "auto", n: int | None = None
                  ) -> pd.DataFrame:
    """Read summary statistics from any supported tool, detecting the format by header."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"summary statistics '{p}' not found",
                         hint="pass the GWAS-SSF file written by 'rnce-bag gwas' "
                              "(<out>/<phenotype>.tsv.gz) or another tool's output")
    import zlib

    try:
        return _read_sumstats(p, fmt, n)
    except (EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError,
            pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"summary statistics '{p}' cannot be read: {first} (truncated, "
                         "corrupt, or not text)",
                         hint="rewrite the file, e.g. rerun the GWAS that made it") from None


def _read_sumstats(p: Path, fmt: str, n: int | None) -> pd.DataFrame:
    if fmt == "auto":
        opener = gzip.open if p.suffix == ".gz" else open
        with opener(p, "rt") as fh:
            header = fh.readline()
        if header.startswith("#CHROM"):
            fmt = "plink2"
        elif "LOG10P" in header and "ALLELE1" in header:
            fmt = "regenie"
        elif "P_BOLT_LMM" in header:
            fmt = "bolt"
        elif header.startswith("locus"):
            fmt = "hail"
        elif header.startswith("chromosome"):
            fmt = "ssf"
        else:
            raise InputError(f"{p}: cannot tell the summary-statistics format from its header "
                             f"{header.strip()[:80]!r}",
                             hint="supported: GWAS-SSF, PLINK 2 .glm.linear, REGENIE, BOLT-LMM, "
                                  "Hail TSV")
    if fmt == "bolt":
        if n is None:
            raise InputError(f"{p}: BOLT-LMM output has no sample size; pass it (--n)")
        return _no_duplicates(from_bolt(p, n), p)
    readers = {"plink2": from_plink2_glm, "regenie": from_regenie, "hail": from_hail_tsv,
               "ssf": from_ssf}
    return _no_duplicates(readers[fmt](p), p)


def _no_duplicates(ssf: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Refuse a variant listed twice (it would be counted twice by LDSC and the loci)."""
    key = (ssf["chromosome"].astype(str) + ":" + ssf["base_pair_location"].astype(str) + ":"
           + ssf["other_allele"].astype(str) + ":" + ssf["effect_allele"].astype(str))
    dup = key.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(f"{path}, row {i + 1}: variant {key.iloc[i]} appears more than once "
                         f"({int(dup.sum())} repeated rows)",
                         hint="keep one row per variant (chromosome, position, alleles)")
    return ssf


def lambda_gc(p: np.ndarray) -> float:
    """Genomic inflation: median of chi2(1) statistics over its expectation 0.4549."""
    p = np.asarray(p, dtype=float)
    p = p[np.isfinite(p)]
    if p.size == 0:
        return float("nan")
    return float(np.median(stats.chi2.isf(p, 1)) / CHI2_MEDIAN_1DF)


def summarise(ssf: pd.DataFrame, phenotype: str, genome_wide: float = GENOME_WIDE_P) -> dict:
    """Samples, variants, lambda GC, mean chi2 and genome-wide significant count."""
    p = ssf["p_value"].to_numpy(dtype=float)
    chi2 = stats.chi2.isf(p[np.isfinite(p)], 1)
    return {"phenotype": phenotype, "n_samples": int(ssf["n"].max()),
            "n_variants": int(len(ssf)), "lambda_gc": lambda_gc(p),
            "mean_chi2": float(np.mean(chi2)) if chi2.size else float("nan"),
            "n_genome_wide": int((p < genome_wide).sum()),
            "min_p": float(np.nanmin(p)) if p.size else float("nan")}


#: the GWAS-SSF metadata fields in the standard's canonical order (gwas-sumstats-tools'
#: SumStatsMetadata); a caller's other keys follow
META_ORDER = ("date_metadata_last_modified", "trait_description", "genome_assembly",
              "coordinate_system", "samples", "data_file_name", "file_type",
              "data_file_md5sum", "analysis_software", "adjusted_covariates",
              "minor_allele_freq_lower_limit", "is_harmonised", "is_sorted")


def write_ssf(ssf: pd.DataFrame, path: str | os.PathLike[str], meta: dict,
              genome_assembly: str = "GRCh37") -> Path:
    """Write ``<path>`` (``.tsv.gz``: BGZF, reproducible bytes), its tabix index
    ``<path>.tbi`` and ``<stem>-meta.yaml``.

    Parameters
    ----------
    ssf : DataFrame, shape (m, 11)
        The GWAS-SSF columns, sorted by chromosome then position.
    meta : dict
        Metadata in the standard's field names (``trait_description``, ``samples``,
        ``analysis_software``, ``adjusted_covariates``, ...); the file's own fields
        (name, md5, type, date, assembly, coordinates, sorting) are added here.
    """
    import datetime

    import pysam

    p = Path(path)
    text = ssf[SSF_COLUMNS].to_csv(sep="\t", index=False, na_rep="NA", float_format="%.10g",
                                   lineterminator="\n")
    plain = p.with_name(f".{p.name}.{os.getpid()}.tsv")
    bgzf = p.with_name(f".{p.name}.{os.getpid()}.gz")
    try:
        plain.write_text(text, encoding="utf-8")
        pysam.tabix_compress(str(plain), str(bgzf), force=True)
        # 1-based, inclusive positions in column 2, sequence names in column 1, one header
        pysam.tabix_index(str(bgzf), seq_col=0, start_col=1, end_col=1, line_skip=1,
                          zerobased=False, force=True)
        os.replace(f"{bgzf}.tbi", f"{p}.tbi")
        os.replace(bgzf, p)
    finally:
        for leftover in (plain, bgzf, Path(f"{bgzf}.tbi")):
            leftover.unlink(missing_ok=True)
    stem = re.sub(r"\.tsv\.gz$", "", p.name)
    own = {"date_metadata_last_modified": datetime.date.today(),
           "genome_assembly": genome_assembly, "coordinate_system": "1-based",
           "data_file_name": p.name, "file_type": "GWAS-SSF v1.0",
           "data_file_md5sum": hashlib.md5(p.read_bytes()).hexdigest(),  # noqa: S324 (the standard's)
           "is_harmonised": False, "is_sorted": True}
    full = {**own, **meta}
    ordered = {k: full[k] for k in META_ORDER if k in full}
    ordered.update({k: v for k, v in full.items() if k not in ordered})
    write_text(p.with_name(f"{stem}-meta.yaml"), yaml.safe_dump(ordered, sort_keys=False))
    return p
