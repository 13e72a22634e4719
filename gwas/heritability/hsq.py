"""GCTA's ``.hsq`` text format: write our GREML results in its exact layout, read any.

Univariate (``--reml``): ``Source Variance SE`` header, rows ``V(G) V(e) Vp V(G)/Vp``
(``V(G)/Vp_L`` on the liability scale with ``--prevalence``), then ``logL``, ``logL0``,
``LRT``, ``df``, ``Pval`` (absent with ``--reml-no-lrt``) and ``n``. Bivariate
(``--reml-bivar``): ``V(G)_tr1``, ``C(G)_tr12``, ..., ``rG`` with its SE.
"""

from __future__ import annotations

import os
from pathlib import Path

from gwas.heritability.greml import GremlResult
from rnce_bag.core.errors import InputError
from rnce_bag.core.io import write_text


def format_hsq(r: GremlResult, lrt: bool = True) -> str:
    """``.hsq`` text of a univariate GREML result (GCTA's number formats)."""
    rows = ["Source\tVariance\tSE",
            f"V(G)\t{r.vg:.6f}\t{r.vg_se:.6f}",
            f"V(e)\t{r.ve:.6f}\t{r.ve_se:.6f}",
            f"Vp\t{r.vp:.6f}\t{r.vp_se:.6f}",
            f"V(G)/Vp\t{r.h2:.6f}\t{r.h2_se:.6f}",
            f"logL\t{r.logl:.3f}"]
    if lrt:
        rows += [f"logL0\t{r.logl0:.3f}", f"LRT\t{r.lrt:.3f}", "df\t1", f"Pval\t{r.pval:.4g}"]
    rows.append(f"n\t{r.n}")
    return "\n".join(rows) + "\n"


def write_hsq(path: str | os.PathLike[str], r: GremlResult, lrt: bool = True) -> Path:
    """Write ``path`` atomically."""
    return write_text(path, format_hsq(r, lrt))


def parse_hsq(text: str, source: str = "<hsq>") -> dict:
    """Parse any ``.hsq``: ``{"components": {name: (value, se)}, "scalars": {...}}``.

    Scalars are floats (``n``, ``df`` as int). Raises :class:`InputError` on a malformed
    line or a missing ``Source Variance SE`` header.
    """
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0].split()[:3] != ["Source", "Variance", "SE"]:
        raise InputError(f"{source}: not a GCTA .hsq file (no 'Source Variance SE' header)")
    comps: dict[str, tuple[float, float]] = {}
    scalars: dict[str, float | int] = {}
    for k, line in enumerate(lines[1:], start=2):
        f = line.split()
        try:
            if len(f) == 3:
                comps[f[0]] = (float(f[1]), float("nan") if f[2] == "NA" else float(f[2]))
            elif len(f) == 2:
                scalars[f[0]] = int(f[1]) if f[0] in ("n", "df") else float(f[1])
            else:
                raise ValueError
        except ValueError:
            raise InputError(f"{source}, line {k}: cannot parse {line.strip()!r}") from None
    return {"components": comps, "scalars": scalars}


def read_hsq(path: str | os.PathLike[str]) -> dict:
    """Parse a ``.hsq`` file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f".hsq file '{p}' not found")
    return parse_hsq(p.read_text(), str(p))


def h2_from_hsq(parsed: dict) -> dict:
    """Tidy fields of a univariate ``.hsq``: h2, h2_se (liability scale if present), n..."""
    c, s = parsed["components"], parsed["scalars"]
    key = "V(G)/Vp_L" if "V(G)/Vp_L" in c else "V(G)/Vp"
    if key not in c:
        raise InputError("the .hsq has no V(G)/Vp row (is it bivariate?)")
    return {"h2": c[key][0], "h2_se": c[key][1], "scale": "liability" if key.endswith("_L")
            else "observed", "vg": c["V(G)"][0], "vg_se": c["V(G)"][1], "ve": c["V(e)"][0],
            "ve_se": c["V(e)"][1], "logL": s.get("logL"), "logL0": s.get("logL0"),
            "LRT": s.get("LRT"), "pval": s.get("Pval"), "n": s.get("n")}


def rg_from_hsq(parsed: dict) -> dict:
    """rG and its SE (and the two h2) from a bivariate ``.hsq``."""
    c, s = parsed["components"], parsed["scalars"]
    if "rG" not in c:
        raise InputError("the .hsq has no rG row (is it univariate?)")
    return {"rg": c["rG"][0], "rg_se": c["rG"][1],
            "h2_1": c.get("V(G)/Vp_tr1", (float("nan"),))[0],
            "h2_2": c.get("V(G)/Vp_tr2", (float("nan"),))[0], "n": s.get("n"),
            "pval": s.get("Pval")}


def format_bivariate_hsq(r) -> str:
    """``.hsq`` text of a :class:`~gwas.heritability.bivariate.BivariateResult` (GCTA's
    ``--reml-bivar`` layout)."""
    names = ["V(G)_tr1", "V(G)_tr2", "C(G)_tr12", "V(e)_tr1", "V(e)_tr2", "C(e)_tr12"]
    rows = ["Source\tVariance\tSE"]
    rows += [f"{nm}\t{v:.6f}\t{s:.6f}" for nm, v, s in zip(names, r.theta, r.se, strict=True)]
    vp = (r.theta[0] + r.theta[3], r.theta[1] + r.theta[4])
    rows += [f"Vp_tr1\t{vp[0]:.6f}\tNA", f"Vp_tr2\t{vp[1]:.6f}\tNA",
             f"V(G)/Vp_tr1\t{r.h2[0]:.6f}\t{r.h2_se[0]:.6f}",
             f"V(G)/Vp_tr2\t{r.h2[1]:.6f}\t{r.h2_se[1]:.6f}",
             f"rG\t{r.rg:.6f}\t{r.rg_se:.6f}", f"logL\t{r.logl:.3f}", f"n\t{r.n}"]
    return "\n".join(rows) + "\n"
