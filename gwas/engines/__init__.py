"""Association engines, one module each, behind one interface: the registry.

An engine is a :class:`GwasEngine` declared as ``ENGINE`` in a module of this package
(``plink2.py``: PLINK 2 subprocesses on one machine; ``hail.py``: Hail on Spark, local
or a cluster). Its ``run`` takes an :class:`EngineRequest` (the genotypes, the matched
samples, the settings) and does QC, ancestry PCs and the association, returning an
:class:`EngineResult`: per phenotype a GWAS-SSF table (:func:`gwas.sumstats.to_ssf`),
the QC counts, the PCs and anything the run report should add. Everything before
(inputs, filters, sample matching) and after (rsids, GWAS-SSF files, loci, regions,
report) is shared (:mod:`gwas.run`), so the engines' outputs are the same tables and the
report has no engine branches. Adding one (REGENIE, say) is one new module here (see
``docs/ARCHITECTURE.md``, "Adding an engine"); a module elsewhere declaring ``ENGINE``
is a plug-in (:mod:`rnce_bag.core.plugins`, ``RNCE_BAG_PLUGINS``).

Modules without ``ENGINE`` (helpers such as :mod:`gwas.engines.hail_blas`) are not
engines. Declarations import nothing heavy: Hail loads when its engine runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from rnce_bag.core.plugins import Registry

#: progress callback: ``say(message, step=None)``; with ``step``, the time since the last
#: booking goes to that step of the report's ``timings_s``
Say = Callable[..., None]


@dataclass
class EngineRequest:
    """What every engine is given.

    Attributes
    ----------
    geno : gwas.genotype_input.GenotypeInput
        The genotype source (one file or a per-chromosome template).
    fam : pandas.DataFrame
        ``FID IID`` of the genotyped samples left by ``--keep/--remove``, file order.
    samples : gwas.inputs.SampleSet
        Samples with genotypes, covariates and a phenotype (their tables, genotype order).
    cfg : gwas.config.GwasConfig
        The run's settings (QC, PCA, engine-specific blocks), engine resolved.
    out, work, cache : Path
        The run folder (absolute), its work folder, and where reusable intermediate
        results may be kept between runs (an engine that uses it creates it: it may lie
        outside the run folder, which a failed run must not leave behind).
    threads : int or None
    say : Say
    variant_keep : pandas.DataFrame or None
        ``chromosome position variant_id ref alt`` of the variants the filters keep
        (None: no variant filter).
    shared_ids : set of str
        Variant IDs the input gives to several records; an engine that meets more adds to
        it (those get no rsid in the output).
    """

    geno: Any
    fam: pd.DataFrame
    samples: Any
    cfg: Any
    out: Path
    work: Path
    cache: Path
    threads: int | None
    say: Say
    variant_keep: pd.DataFrame | None = None
    shared_ids: set[str] = field(default_factory=set)


@dataclass
class Relatives:
    """What relatedness QC found and did (:mod:`gwas.relatedness`).

    Attributes
    ----------
    pairs : pandas.DataFrame
        :func:`gwas.relatedness.relatives_table`: every pair of third degree or closer.
    removed : list of str
        The samples removed, in the order of removal.
    cutoff : float
        ``qc.king_cutoff``.
    """

    pairs: pd.DataFrame
    removed: list[str]
    cutoff: float
    skipped: str = ""


def relatedness_plan(cfg, counts: dict) -> Relatives | str:
    """``"run"`` when relatedness QC is to run, ``"off"`` when ``qc.king_cutoff`` is null,
    else the :class:`Relatives` of a skipped check (too few QC'd variants for KING), with
    its reason."""
    from gwas.relatedness import empty_relatives

    if cfg.qc.king_cutoff is None:
        return "off"
    if counts["variants_out"] >= cfg.qc.king_min_variants:
        return "run"
    return Relatives(
        empty_relatives(), [], cfg.qc.king_cutoff,
        f"skipped: {counts['variants_out']} QC'd variants, below qc.king_min_variants "
        f"({cfg.qc.king_min_variants}): KING's kinship is mostly noise on so few; relatives "
        "were not checked (remove them with --remove, or lower qc.king_min_variants)")


def remove_relatives(order: list[str], kept: list[str], pairs: pd.DataFrame, cutoff: float,
                     counts: dict, remove: bool = True) -> tuple[list[str], Relatives]:
    """The samples of ``kept`` left by the relatedness rule, and what it did: the one
    step every engine calls with its own kinship pairs (``IID1 IID2 kinship``).

    ``order``: the analysed samples in the genotype file's order (the request's
    ``samples.iids``), which breaks ties the same way in every engine. ``counts`` gets
    ``samples_removed_related`` and the new ``samples_out``. ``remove=False`` (a mixed
    model, which keeps relatives): the pairs are listed the same way, nobody removed.
    """
    from gwas.relatedness import relatives_table, unrelated_set

    alive = set(kept)
    ordered = [s for s in order if s in alive]
    rank = {s: i for i, s in enumerate(ordered)}
    pairs = pairs[pairs["IID1"].astype(str).isin(rank) & pairs["IID2"].astype(str).isin(rank)]
    a, b = pairs["IID1"].astype(str), pairs["IID2"].astype(str)
    swap = (a.map(rank) > b.map(rank)).to_numpy()
    pairs = pairs.assign(IID1=a.where(~swap, b), IID2=b.where(~swap, a))
    unrelated, removed = unrelated_set(ordered, pairs, cutoff) if remove else (ordered, [])
    counts["samples_removed_related"] = len(removed)
    counts["samples_out"] = len(unrelated)
    return unrelated, Relatives(relatives_table(pairs, removed), removed, cutoff)


@dataclass
class EngineResult:
    """What every engine returns.

    Attributes
    ----------
    results : dict of str to pandas.DataFrame
        Per phenotype, the association as GWAS-SSF columns (:func:`gwas.sumstats.to_ssf`).
    counts : dict of str to int
        QC counts (``samples_in``, ``samples_out``, ``variants_in``, ``variants_out``,
        each filter's removals).
    pcs : pandas.DataFrame or None
        ``IID PC1..PCk`` of the analysed samples (None without PCA).
    report : dict
        Extra fields for ``gwas_report.json`` (e.g. Hail's BLAS), always including
        ``note``: what a reader comparing engines should know ('' when nothing).
    relatives : Relatives or None
        Relatedness QC's pairs and removals (None when ``qc.king_cutoff`` is null).
    """

    results: dict[str, pd.DataFrame]
    counts: dict[str, int]
    pcs: pd.DataFrame | None
    report: dict[str, Any] = field(default_factory=lambda: {"note": ""})
    relatives: Relatives | None = None


@dataclass(frozen=True)
class GwasEngine:
    """One association engine.

    Attributes
    ----------
    name : str
        ``--engine`` value.
    title : str
        How progress messages and the report write it.
    run : callable
        ``run(request: EngineRequest) -> EngineResult``.
    order : int
        Position in listings.
    """

    name: str
    title: str
    run: Callable[[EngineRequest], EngineResult]
    order: int = 100


#: the QC counts every engine reports (the stage's summary line and the report read them)
QC_COUNTS = ("samples_in", "samples_out", "variants_in", "variants_out",
             "variants_removed_call_rate", "variants_removed_maf", "variants_removed_hwe")


def check_result(engine: GwasEngine, result: EngineResult) -> EngineResult:
    """``result`` itself when it keeps the interface (TypeError naming what is missing)."""
    missing = [k for k in QC_COUNTS if k not in result.counts]
    if missing or not isinstance(result.results, dict):
        raise TypeError(f"engine {engine.name!r} returned "
                        + (f"no QC count {', '.join(missing)}" if missing
                           else "results that are not a dict of tables")
                        + " (gwas.engines.EngineResult)")
    return result


def _check(name: str) -> None:
    if name == "auto" or not name.isidentifier():
        raise ValueError(f"engine name {name!r}: an identifier other than 'auto'")


#: every engine: the modules of this package that declare one (others are helpers, such
#: as hail_blas) and the plug-ins
REGISTRY = Registry(__name__, "ENGINE", GwasEngine, required=False, check=_check)
register, unregister = REGISTRY.register, REGISTRY.unregister


def engines() -> list[GwasEngine]:
    """Every registered engine, in order."""
    return REGISTRY.all()


def names() -> list[str]:
    """The registered engine names, in order."""
    return [e.name for e in engines()]


def get(name: str) -> GwasEngine:
    """The engine called ``name`` (ValueError naming the known ones otherwise)."""
    engine = REGISTRY.find(name)
    if engine is None:
        raise ValueError(f"unknown engine {name!r}: expected auto, {', '.join(names())}")
    return engine


def check_choice(name: str) -> str:
    """``name`` when it is ``auto`` or a registered engine (pydantic validators)."""
    if name != "auto":
        get(name)
    return name


def covariates_with_pcs(samples, pcs: pd.DataFrame | None) -> pd.DataFrame:
    """The samples' covariates with the PCs joined on IID (the association's design)."""
    cov = samples.covar
    if pcs is None:
        return cov
    return cov.merge(pcs, on="IID", how="inner")


def analysed(samples, pcs: pd.DataFrame | None, kept) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Phenotypes and covariates (with PCs) of the samples QC kept: (pheno, covar)."""
    covar = covariates_with_pcs(samples, pcs)
    kept = set(kept)
    return samples.pheno[samples.pheno["IID"].isin(kept)], covar[covar["IID"].isin(kept)]
