"""BOLT-LMM engine: a linear mixed model that keeps relatives (``--engine bolt``).

QC and ancestry PCs are the PLINK 2 engine's (the same thresholds and counts); relatedness
is measured and reported (``relatives.tsv``) but nobody is removed: the mixed model's
genetic relationship matrix accounts for relatives, which is why biobank GWAS use it.
The QC'd samples and variants are written once as a PLINK 1 fileset (hard calls: a BGEN's
dosages are hard-called, said in the report's note) and BOLT-LMM (Loh et al. 2015, 2018;
the Debian package ``bolt-lmm``) runs once per phenotype with ``--lmm`` (the infinitesimal
and, where BOLT finds it worthwhile, the non-infinitesimal Gaussian-mixture statistic),
``--verboseStats`` (its linear-regression statistics beside them), the covariates and PCs
as quantitative covariates, and BOLT's reference tables when configured (``bolt.ld_scores``,
``bolt.genetic_map``), else LD scores from the data (``--LDscoresUseChip``: no table ships
with the Debian package) and the ``.bim``'s genetic positions. The GWAS-SSF ``p_value`` is
``P_BOLT_LMM`` when BOLT computed it, else ``P_BOLT_LMM_INF``; BOLT's warnings (below its
recommended sample size, for one) go to the report.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from gwas.engines import EngineRequest, EngineResult, GwasEngine, analysed, relatedness_plan
from gwas.engines.plink2 import (
    AmbiguousIds,
    genotype_args,
    one_fileset,
    pca,
    pruned_source,
    qc,
    relatives_of,
    run_plink2,
    sample_ids,
)
from rnce_bag.core.errors import ExternalToolError, InputError
from rnce_bag.core.tools import require_tool, run_tool

log = logging.getLogger(__name__)


def run_bolt(args: list[str], log_path: Path) -> list[str]:
    """Run ``bolt ARGS`` (no shell); its output goes to ``log_path``. Returns BOLT's
    warning lines; raises :class:`ExternalToolError` with the log's tail on failure."""
    exe = require_tool("bolt")
    proc = run_tool([exe, *args])
    text = proc.stdout + proc.stderr
    log_path.write_text(text)
    if proc.returncode != 0:
        tail = "\n".join(text.strip().splitlines()[-8:])
        raise ExternalToolError(f"bolt failed (exit {proc.returncode}): {tail}",
                                hint=f"see {log_path}")
    return [line.strip() for line in text.splitlines() if "WARNING" in line.upper()]


def _with_fid(table: pd.DataFrame, fam: pd.DataFrame) -> pd.DataFrame:
    """``FID IID ...``: BOLT matches samples on both (IID for a missing FID)."""
    fid = fam.assign(IID=fam["IID"].astype(str)).set_index("IID")["FID"]
    out = table.copy()
    ids = out["IID"].astype(str)
    found = fid.reindex(ids).to_numpy(dtype=object)
    out.insert(0, "FID", [f if isinstance(f, str) and f else i
                          for f, i in zip(found, ids, strict=True)])
    return out


def _genetic_map(bfile: Path) -> tuple[list[str], str]:
    """BOLT reads genetic positions from the ``.bim``; where they are not a genetic map
    (all zero, or not 0.3-3 cM per Mb on average: a simulated short genome), BOLT's check
    is turned off (``--noMapCheck``) and the note says so."""
    bim = pd.read_csv(f"{bfile}.bim", sep="\t", header=None, usecols=[0, 2, 3],
                      names=["chrom", "cm", "bp"])
    last = bim.groupby("chrom").agg(cm=("cm", "max"), bp=("bp", "max"))
    rate = float(last["cm"].sum() / max(last["bp"].sum(), 1) * 1e6)
    if 0.3 <= rate <= 3:
        return [], ""
    return ["--noMapCheck"], (f"the .bim's genetic positions are not a genetic map "
                              f"({rate:.3g} cM per Mb): BOLT ran with --noMapCheck")


def reference_args(bolt_cfg, bfile: Path) -> tuple[list[str], str]:
    """BOLT's LD-score and genetic-map flags: the configured tables (each must exist),
    else ``--LDscoresUseChip`` and the ``.bim``'s positions (:func:`_genetic_map`)."""
    args: list[str] = []
    for key, flag in (("ld_scores", "--LDscoresFile"), ("genetic_map", "--geneticMapFile")):
        path = getattr(bolt_cfg, key)
        if path is not None and not Path(path).is_file():
            raise InputError(f"bolt.{key}: {path} is not a file",
                             hint=f"give BOLT's table ({flag}) or leave bolt.{key} unset")
    if bolt_cfg.ld_scores:
        args += ["--LDscoresFile", str(bolt_cfg.ld_scores)]
    else:
        args.append("--LDscoresUseChip")
    if bolt_cfg.genetic_map:
        return [*args, "--geneticMapFile", str(bolt_cfg.genetic_map)], ""
    map_args, note = _genetic_map(bfile)
    return [*args, *map_args], note


def run(req: EngineRequest) -> EngineResult:
    """QC and PCs (PLINK 2), then BOLT-LMM per phenotype (the engine interface)."""
    from gwas.sumstats import from_bolt

    cfg, work, threads, say, samples = req.cfg, req.work, req.threads, req.say, req.samples
    fam = req.fam
    parts = req.geno.per_file(autosomes=True)
    args = [genotype_args(g.bfile, g.bgen, g.sample, g.vcf) for g in parts]
    if not req.geno.bfile:
        fam = sample_ids(args[0], work / "qc", threads)
    say("QC (plink2, for BOLT-LMM)", "inputs")
    try:
        kept, extract, counts = qc(args, fam, samples, cfg, work / "qc", threads,
                                   req.variant_keep)
    except AmbiguousIds:
        raise InputError("the BOLT-LMM engine needs unique variant IDs ('.' or an ID on "
                         "several records found)", hint="rename them (plink2 "
                         "--set-all-var-ids @:#:$r:$a) or use --engine plink2") from None
    say("", "qc")
    keep = work / "qc" / "keep.tsv"
    relatives = relatedness_plan(cfg, counts)
    # the QC'd samples and variants as one fileset: KING's input and BOLT's
    qc_source = one_fileset(args, keep, [extract], "qc_variants", work / "qc", threads)
    if relatives == "run":  # measured and listed, nobody removed: the LMM keeps relatives
        say("relatedness (plink2 KING-robust kinship; relatives kept by the mixed model)")
        kept, relatives = relatives_of(qc_source, keep, samples.iids, kept, cfg, counts,
                                       work / "qc", threads, remove=False)
        say("", "relatedness")
    pcs = None
    if cfg.pca.n_pcs > 0:
        say(f"{cfg.pca.n_pcs} ancestry PCs (plink2)")
        source = pruned_source(args, keep, extract, cfg, work / "qc", threads)
        pcs = pca(source, keep, cfg, len(kept), work / "qc", threads)
        say("", "pca")
    pheno, covar = analysed(samples, pcs, kept)
    say("BOLT-LMM input (plink2 --make-bed of the QC'd samples and variants)")
    bed = work / "bolt_input"
    run_plink2([*qc_source, "--keep", str(keep), "--make-bed"], bed, threads)
    map_args, map_note = reference_args(cfg.bolt, bed)
    names = [c for c in pheno.columns if c != "IID"]
    ph = _with_fid(pheno.rename(columns={n: f"P{i + 1}" for i, n in enumerate(names)}), fam)
    ph.to_csv(work / "bolt_pheno.tsv", sep="\t", index=False, na_rep="NA")
    qcov = [c for c in covar.columns if c != "IID"]
    cov = _with_fid(covar.rename(columns={c: f"C{i + 1}" for i, c in enumerate(qcov)}), fam)
    cov.to_csv(work / "bolt_covar.tsv", sep="\t", index=False, na_rep="NA",
               float_format="%.10g")
    results, warnings, models = {}, [], {}
    for i, name in enumerate(names):
        say(f"association (BOLT-LMM, {name})")
        stats = work / f"bolt.P{i + 1}.stats"
        cmd = ["--bfile", str(bed), "--phenoFile", str(work / "bolt_pheno.tsv"),
               "--phenoCol", f"P{i + 1}", "--lmm", "--verboseStats",
               "--numThreads", str(threads or 1), "--statsFile", str(stats), *map_args]
        if qcov:
            cmd += ["--covarFile", str(work / "bolt_covar.tsv"),
                    *[f"--qCovarCol=C{j + 1}" for j in range(len(qcov))]]
        warnings += [f"{name}: {w}" for w in run_bolt(cmd, work / f"bolt.P{i + 1}.log")]
        n = int(pheno[name].notna().sum())
        table = pd.read_csv(stats, sep="\t")
        models[name] = "non-infinitesimal (P_BOLT_LMM)" if "P_BOLT_LMM" in table.columns \
            else "infinitesimal (P_BOLT_LMM_INF)"
        results[name] = from_bolt(stats, n)
        say("", "association")
    note = ("BOLT-LMM keeps relatives (a mixed model); p-values are BOLT's "
            + "; ".join(f"{k}: {v}" for k, v in models.items())
            + (". BGEN dosages were hard-called for BOLT" if req.geno.bgen else "")
            + (f". {map_note}" if map_note else ""))
    return EngineResult(results, counts, pcs, {"bolt_warnings": warnings,
                                               "bolt_models": models, "note": note},
                        None if relatives == "off" else relatives)  # type: ignore[arg-type]


ENGINE = GwasEngine("bolt", "BOLT-LMM", run, order=20)
