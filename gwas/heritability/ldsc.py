"""LD score regression: embedded through pyldsc, or the user's ``ldsc.py`` (``ldsc-cli``).

Embedded: GWAS-SSF summary statistics become LDSC ``.sumstats.gz`` (``SNP A1 A2 Z N``,
Z = beta / SE, variants with MAF < 0.01 or non-finite statistics dropped: our own
munging, as ``munge_sumstats.py`` would do for these columns); LD scores come from a
reference panel, by default the cohort's own genotypes (``pyldsc.estimate_ldscore``,
1 cM windows), or from the user (``--ref-ld``/``--w-ld`` filesets). h2 with its
intercept and ratio, and rg, are pyldsc's (numerically equal to ldsc).
``ldsc-cli``: the same inputs, run with the user's ``munge_sumstats.py``/``ldsc.py``,
whose log lines are parsed.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from rnce_bag.core.errors import ExternalToolError, InputError
from rnce_bag.core.io import write_bytes

log = logging.getLogger(__name__)


def to_ldsc_sumstats(ssf: pd.DataFrame, path: str | os.PathLike[str], min_maf: float = 0.01
                     ) -> int:
    """Write ``SNP A1 A2 Z N`` (gzipped); returns the number of variants written."""
    df = ssf.copy()
    df["Z"] = df["beta"] / df["standard_error"]
    f = df["effect_allele_frequency"].astype(float)
    ok = np.isfinite(df["Z"]) & (df["n"].astype(float) > 0)
    ok &= ~(np.minimum(f, 1 - f) < min_maf)  # NaN frequency is kept
    snp = df["rsid"].where(df["rsid"].notna(), df["variant_id"])
    out = pd.DataFrame({"SNP": snp, "A1": df["effect_allele"], "A2": df["other_allele"],
                        "Z": df["Z"], "N": df["n"].astype(float)})[ok.to_numpy()]
    out = out.drop_duplicates("SNP")
    buf = io.StringIO()
    out.to_csv(buf, sep="\t", index=False, float_format="%.8g", lineterminator="\n")
    write_bytes(path, gzip.compress(buf.getvalue().encode(), mtime=0))
    return len(out)


def estimate_ld_scores(bfile: str, annot: np.ndarray | None = None, ld_wind_cm: float = 1.0,
                       maf: float = 0.01) -> dict:
    """``pyldsc.estimate_ldscore`` over one fileset or one per chromosome (``{chrom}``).

    LD scores are sums within a chromosome, so per-chromosome files are scored one by one
    (as ``ldsc.py --bfile chr@`` users do) and the tables concatenated, ``M`` summed.
    ``annot`` (n_variants, k) rows follow the concatenated ``.bim``.

    Returns
    -------
    dict
        ``ldscore`` (CHR SNP BP + one column per annotation), ``M``, ``M_5_50`` (k,).
    """
    import pyldsc

    from gwas.genotype_files import bfile_prefixes
    from gwas.plink_io import read_bim

    parts, start = [], 0
    for prefix in bfile_prefixes(bfile):
        n = len(read_bim(prefix))
        sub = None if annot is None else annot[start:start + n]
        start += n
        try:
            parts.append(pyldsc.estimate_ldscore(prefix, ld_wind_cm=ld_wind_cm, maf=maf,
                                                 annot=sub))
        except ValueError as exc:
            if "Whole-chromosome" not in str(exc):
                raise InputError(f"LD scores from '{prefix}' failed: {exc}") from None
            # a short genetic map (small panels, simulated data): the window spans whole
            # chromosomes, which ldsc allows only on request
            log.warning("the %s cM window spans whole chromosomes in '%s'; computing "
                        "whole-chromosome LD scores", ld_wind_cm, prefix)
            parts.append(pyldsc.estimate_ldscore(prefix, ld_wind_cm=ld_wind_cm, maf=maf,
                                                 annot=sub, yes_really=True))
    return {"ldscore": pd.concat([p["ldscore"] for p in parts], ignore_index=True),
            "M": sum(np.atleast_1d(p["M"]) for p in parts),
            "M_5_50": sum(np.atleast_1d(p["M_5_50"]) for p in parts)}


def write_ld_scores(res: dict, out_prefix: str | os.PathLike[str]) -> None:
    """``out_prefix.l2.ldscore.gz`` + ``.l2.M`` + ``.l2.M_5_50``, as ``ldsc.py --l2``."""
    out = str(out_prefix)
    res["ldscore"].to_csv(f"{out}.l2.ldscore.gz", sep="\t", index=False, float_format="%.3f",
                          compression="gzip")
    for suffix, m in ((".l2.M", res["M"]), (".l2.M_5_50", res["M_5_50"])):
        Path(f"{out}{suffix}").write_text("\t".join(str(x) for x in m) + "\n")


def cohort_ld_scores(bfile: str, out_prefix: str | os.PathLike[str], ld_wind_cm: float = 1.0,
                     maf: float = 0.01) -> str:
    """LD scores of the cohort's own genotypes (``out_prefix.l2.ldscore.gz`` + ``.M``)."""
    write_ld_scores(estimate_ld_scores(bfile, ld_wind_cm=ld_wind_cm, maf=maf), out_prefix)
    return str(out_prefix)


def _num(x) -> float:
    """pyldsc reports numbers, 1-element arrays, or "NA"; NaN for the latter."""
    try:
        return float(np.asarray(x, dtype=float).ravel()[0])
    except (TypeError, ValueError, IndexError):
        return float("nan")


def ldsc_h2(sumstats: str, ref_ld: str, w_ld: str) -> dict:
    """h2 (observed scale), intercept, ratio, mean chi2 and lambda GC via pyldsc."""
    import pyldsc

    try:
        h = pyldsc.estimate_h2(sumstats, ref_ld, w_ld)
    except ValueError as exc:
        raise InputError(f"LD score regression failed for {sumstats}: {exc}") from None
    return {"h2": _num(h.tot), "h2_se": _num(h.tot_se), "intercept": _num(h.intercept),
            "intercept_se": _num(h.intercept_se), "ratio": _num(getattr(h, "ratio", None)),
            "ratio_se": _num(getattr(h, "ratio_se", None)), "mean_chisq": _num(h.mean_chisq),
            "lambda_gc": _num(h.lambda_gc)}


def _numpy2_rg_class():
    """pyldsc 0.1's ``RG`` calls ``float()`` on (1, 1) arrays, which NumPy >= 2.4 refuses;
    this subclass repeats its last step with ``.item()`` (same numbers)."""
    from pyldsc import jackknife as jk
    from pyldsc import regressions as reg
    from pyldsc.regressions import p_z_norm

    class RG(reg.RG):
        def __init__(self, z1, z2, x, w, N1, N2, M, intercept_hsq1=None,  # noqa: N803
                     intercept_hsq2=None, intercept_gencov=None, n_blocks=200, slow=False,
                     twostep=None):
            self.intercept_gencov = intercept_gencov
            self._negative_hsq = None
            hsq1 = reg.Hsq(np.square(z1), x, w, N1, M, n_blocks=n_blocks,
                           intercept=intercept_hsq1, slow=slow, twostep=twostep)
            hsq2 = reg.Hsq(np.square(z2), x, w, N2, M, n_blocks=n_blocks,
                           intercept=intercept_hsq2, slow=slow, twostep=twostep)
            gencov = reg.Gencov(z1, z2, x, w, N1, N2, M, hsq1.tot, hsq2.tot, hsq1.intercept,
                                hsq2.intercept, n_blocks, intercept_gencov=intercept_gencov,
                                slow=slow, twostep=twostep)
            self.hsq1, self.hsq2, self.gencov = hsq1, hsq2, gencov
            if hsq1.tot <= 0 or hsq2.tot <= 0:
                self._negative_hsq = True
                self.rg_ratio = self.rg = self.rg_se = self.p = self.z = "NA"
                return
            ratio = np.array(gencov.tot / np.sqrt(hsq1.tot * hsq2.tot)).reshape((1, 1))
            denom = np.sqrt(np.multiply(hsq1.tot_delete_values, hsq2.tot_delete_values))
            rg = jk.RatioJackknife(ratio, gencov.tot_delete_values, denom)
            self.rg_jknife = np.asarray(rg.jknife_est).item()
            self.rg_se = np.asarray(rg.jknife_se).item()
            self.rg_ratio = self.rg = ratio.item()
            self.p, self.z = p_z_norm(self.rg_ratio, self.rg_se)

    return RG


def ldsc_rg(sumstats1: str, sumstats2: str, ref_ld: str, w_ld: str) -> dict:
    """rg, SE and p between two traits via pyldsc (NaN when an h2 is negative)."""
    from unittest import mock

    import pyldsc
    from pyldsc import api

    try:
        with mock.patch.object(api.reg, "RG", _numpy2_rg_class()):
            r = pyldsc.estimate_rg([sumstats1, sumstats2], ref_ld, w_ld)[0]
    except ValueError as exc:
        raise InputError(f"LDSC genetic correlation failed: {exc}") from None
    return {"rg": _num(r.rg_ratio), "rg_se": _num(r.rg_se), "p": _num(r.p)}


# --- ldsc-cli backend -------------------------------------------------------------------

_H2_RE = re.compile(r"Total (?:Observed|Liability) scale h2: ([-\d.eE+]+) \(([-\d.eE+]+)\)")
_INT_RE = re.compile(r"Intercept: ([-\d.eE+]+) \(([-\d.eE+]+)\)")
_RATIO_RE = re.compile(r"Ratio: ([-\d.eE+]+) \(([-\d.eE+]+)\)")
_RG_RE = re.compile(r"Genetic Correlation: ([-\d.eE+]+|nan) \(([-\d.eE+]+|nan)\)")
_P_RE = re.compile(r"^P: ([-\d.eE+]+|nan)", re.M)


def parse_ldsc_log(text: str) -> dict:
    """Numbers from an ``ldsc.py --h2`` or ``--rg`` log."""
    out: dict[str, float] = {}
    if m := _H2_RE.search(text):
        out["h2"], out["h2_se"] = float(m.group(1)), float(m.group(2))
    if m := _INT_RE.search(text):
        out["intercept"], out["intercept_se"] = float(m.group(1)), float(m.group(2))
    if m := _RATIO_RE.search(text):
        out["ratio"], out["ratio_se"] = float(m.group(1)), float(m.group(2))
    if m := _RG_RE.search(text):
        out["rg"], out["rg_se"] = float(m.group(1)), float(m.group(2))
    if m := _P_RE.search(text):
        out["p"] = float(m.group(1))
    return out


def ldsc_cli_command(ldsc: str, mode: str, sumstats: list[str], ref_ld_chr: str, w_ld_chr: str,
                     out: str) -> list[str]:
    """``ldsc.py --h2 A`` or ``--rg A,B`` with per-chromosome LD score prefixes."""
    flag = "--h2" if mode == "h2" else "--rg"
    return [ldsc, flag, ",".join(sumstats), "--ref-ld-chr", ref_ld_chr, "--w-ld-chr", w_ld_chr,
            "--out", out]


def run_ldsc_cli(mode: str, sumstats: list[str], ref_ld_chr: str, w_ld_chr: str, out: Path
                 ) -> dict:
    """Run the user's ``ldsc.py`` and parse its log (exit 3 when absent or failing)."""
    from rnce_bag.core.tools import require_tool, run_tool

    exe = require_tool("ldsc.py")
    cmd = ldsc_cli_command(exe, mode, sumstats, ref_ld_chr, w_ld_chr, str(out))
    proc = run_tool(cmd)
    log = Path(f"{out}.log")
    text = log.read_text(errors="replace") if log.is_file() else proc.stdout
    if proc.returncode != 0:
        raise ExternalToolError(f"ldsc.py failed (exit {proc.returncode}): "
                                f"{(proc.stderr or text).strip()[-300:]}", hint=f"see {log}")
    return parse_ldsc_log(text)
