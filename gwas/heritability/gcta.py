"""Wrapper of ``gcta64`` (``--backend gcta``): inputs, command lines, output parsing.

GCTA is not installable from the package registries this project uses; when
``gcta64`` is not on PATH the backend stops with exit code 3 and install guidance.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from gwas.heritability.hsq import read_hsq
from rnce_bag.core.errors import ExternalToolError
from rnce_bag.core.tools import require_tool, run_tool


def write_gcta_inputs(work: Path, pheno: pd.DataFrame, qcovar: pd.DataFrame | None,
                      covar: pd.DataFrame | None) -> dict[str, Path]:
    """``.phen`` (FID IID y1 y2 ..., NA missing), ``.qcovar`` and ``.covar`` (no headers).

    Each table has ``FID IID`` first; returns the paths written.
    """
    work.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, df in (("phen", pheno), ("qcovar", qcovar), ("covar", covar)):
        if df is None or df.shape[1] <= 2:
            continue
        p = work / f"gcta.{name}"
        df.to_csv(p, sep="\t", header=False, index=False, na_rep="NA", float_format="%.8g")
        out[name] = p
    return out


def reml_command(exe: str, grm: str, files: dict[str, Path], out: str, mpheno: int = 1,
                 threads: int = 1, prevalence: float | None = None,
                 bivar: tuple[int, int] | None = None) -> list[str]:
    """The ``gcta64`` argument list for ``--reml`` (or ``--reml-bivar i j``)."""
    cmd = [exe, "--grm", grm, "--pheno", str(files["phen"])]
    if bivar:
        cmd += ["--reml-bivar", str(bivar[0]), str(bivar[1])]
    else:
        cmd += ["--reml", "--mpheno", str(mpheno)]
    if "qcovar" in files:
        cmd += ["--qcovar", str(files["qcovar"])]
    if "covar" in files:
        cmd += ["--covar", str(files["covar"])]
    if prevalence is not None:
        cmd += ["--prevalence", str(prevalence)]
    cmd += ["--thread-num", str(threads), "--out", out]
    return cmd


def parse_log(path: str | os.PathLike[str]) -> dict:
    """Errors, iterations and convergence from a GCTA ``.log``."""
    text = Path(path).read_text(errors="replace") if Path(path).is_file() else ""
    lines = text.splitlines()
    errors = [ln.strip() for ln in lines if ln.strip().lower().startswith("error")]
    iters = [ln for ln in lines if ln.strip().startswith("Iteration ")]
    return {"errors": errors, "iterations": len(iters),
            "converged": "Log-likelihood ratio converged" in text or
            ("Summary result of REML analysis" in text),
            "constrained": "constrained" in text.lower()}


def run_reml(grm: str, files: dict[str, Path], out: Path, mpheno: int = 1, threads: int = 1,
             prevalence: float | None = None, bivar: tuple[int, int] | None = None) -> dict:
    """Run GCTA; return the parsed ``.hsq`` and log. Exit code 3 when it fails."""
    exe = require_tool("gcta64")
    cmd = reml_command(exe, grm, files, str(out), mpheno, threads, prevalence, bivar)
    proc = run_tool(cmd)
    log = parse_log(f"{out}.log")
    if proc.returncode != 0 or not Path(f"{out}.hsq").is_file():
        reason = log["errors"][0] if log["errors"] else (proc.stderr or proc.stdout).strip()[-300:]
        raise ExternalToolError(f"gcta64 failed (exit {proc.returncode}): {reason}",
                                hint=f"see {out}.log")
    return {"hsq": read_hsq(f"{out}.hsq"), "log": log, "command": cmd}
