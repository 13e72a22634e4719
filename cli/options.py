"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a config value with a dotted key, e.g. --set qc.maf=0.05 "
        "(repeatable; the value is parsed as YAML).",
        metavar="KEY=VALUE",
    ),
]


def split_names(values: list[str] | None) -> list[str] | None:
    """``--pheno-name A,B --pheno-name C`` -> ``["A", "B", "C"]`` (``None`` when empty)."""
    names = [v for item in values or [] for v in item.split(",") if v]
    return names or None


def genetic_params(model, flags: dict):
    """``h2``/``rg``: their flags (a command's ``locals()``) mapped onto ``model``."""
    from rnce_bag.core.stage import make_params

    names = ("out", "pheno", "ref_ld", "w_ld", "bfile", "grm", "covar", "method", "backend",
             "grm_cutoff", "threads", "keep", "remove", "extract", "exclude",
             "minus9_is_missing", "gwas")
    return make_params(model, **{k: flags[k] for k in names}, sumstats=flags["sumstats"] or [],
                       pheno_name=split_names(flags["pheno_name"]),
                       covar_name=split_names(flags["covar_name"]), chr=flags["chr_"])


_UNION = " Repeat the flag for several files: their union is read."
KeepOption = Annotated[
    list[Path] | None, typer.Option("--keep", help="Samples to keep: a PLINK list ('FID IID' "
                                    "or 'IID' per line)." + _UNION)]
RemoveOption = Annotated[
    list[Path] | None, typer.Option("--remove", help="Samples to remove (PLINK list)."
                                    + _UNION)]
ExtractOption = Annotated[
    list[Path] | None, typer.Option("--extract", help="Variants to keep: IDs or chr:start-end "
                                    "ranges, one per line." + _UNION)]
ExcludeOption = Annotated[
    list[Path] | None, typer.Option("--exclude", help="Variants to remove (IDs or ranges)."
                                    + _UNION)]
ChrOption = Annotated[
    str | None, typer.Option("--chr", help="Chromosomes to analyse, e.g. 1-5,7,22.")]

Minus9Option = Annotated[
    bool, typer.Option("--minus9-is-missing", help="Read -9 in phenotype and covariate files "
                       "as missing (PLINK 1's code); by default it is a value, and columns "
                       "holding it are warned about.")]

GwasDirOption = Annotated[
    Path | None, typer.Option("--gwas", help="A finished 'rnce-bag gwas --out': fit h2/rg on "
                              "its samples and covariates, PCs included (instead of --covar).")]
