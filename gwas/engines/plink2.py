"""PLINK 2 engine: QC, ancestry PCs and ``--glm`` on one machine (subprocess, no shell).

Every step writes into a work folder of the run and is checked for PLINK's exit code;
its log is kept. QC thresholds are applied in order (sample call rate, then variant
call rate, MAF, HWE) from PLINK's own statistics so the counts removed at each step
can be reported.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from gwas.config import GwasConfig
from gwas.engines import (
    EngineRequest,
    EngineResult,
    GwasEngine,
    Relatives,
    analysed,
    relatedness_plan,
    remove_relatives,
)
from gwas.inputs import SampleSet
from gwas.relatedness import REPORT_FLOOR
from rnce_bag.core.errors import ExternalToolError, InputError
from rnce_bag.core.tools import require_tool, run_tool

log = logging.getLogger(__name__)


def run_plink2(args: list[str], out: Path, threads: int | None = None) -> None:
    """Run ``plink2 ARGS --out OUT``; raise :class:`ExternalToolError` with the log tail."""
    exe = require_tool("plink2")
    cmd = [exe, *args, "--out", str(out)]
    if threads:
        cmd += ["--threads", str(threads)]
    log.debug("running %s", " ".join(cmd))
    proc = run_tool(cmd)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-6:])
        raise ExternalToolError(f"plink2 failed (exit {proc.returncode}): {tail}",
                                hint=f"see {out}.log")


def genotype_args(bfile: str | None = None, bgen: str | None = None, sample: str | None = None,
                  vcf: str | None = None, keyed: bool = False) -> list[str]:
    """PLINK 2 input flags for one of the supported genotype formats (autosomes only: X/Y/MT
    would need sex-aware models, and a sex covariate is collinear on chrY). ``keyed``:
    every variant named ``chrom:pos:ref:alt`` (:data:`ALLELE_KEYS`), for inputs whose IDs
    are not unique."""
    if bfile:
        return ["--bfile", bfile, "--autosome", *(ALLELE_KEYS if keyed else [])]
    ids = ALLELE_KEYS if keyed else ["--set-missing-var-ids", "@:#:$r:$a",
                                     "--new-id-max-allele-len", "200", "truncate"]
    if bgen:
        if not sample:
            raise InputError("--bgen needs --sample")
        return ["--bgen", bgen, "ref-first", "--sample", sample, "--autosome", *ids]
    if vcf:
        return ["--vcf", vcf, "--double-id", "--autosome", *ids]
    raise InputError("give one of --bfile, --bgen (with --sample) or --vcf")


#: PLINK 2 flags keying variants on chromosome:position:REF:ALT (plus removing records that
#: repeat one), for inputs whose IDs are not unique: '.', or one rsID on several records
ALLELE_KEYS = ["--set-all-var-ids", "@:#:$r:$a", "--new-id-max-allele-len", "200", "truncate",
               "--rm-dup", "force-first", "list"]


class AmbiguousIds(Exception):
    """The input's variant IDs are not unique; rerun keyed on alleles (:data:`ALLELE_KEYS`)."""


def allele_key(table: pd.DataFrame) -> pd.Series:
    """``chrom:pos:ref:alt`` as :data:`ALLELE_KEYS` names a variant (``chr`` prefix dropped,
    as PLINK 2 prints autosomes); ``table`` has ``chromosome position ref alt``."""
    return (table["chromosome"].astype(str).str.removeprefix("chr") + ":"
            + table["position"].astype(str) + ":" + table["ref"].astype(str) + ":"
            + table["alt"].astype(str))


def sample_ids(geno: list[str], work: Path, threads: int | None = None) -> pd.DataFrame:
    """``FID IID`` exactly as PLINK 2 reads them from the input (FID may be absent -> IID)."""
    work.mkdir(parents=True, exist_ok=True)
    run_plink2([*geno, "--write-samples"], work / "samples", threads)
    ids = pd.read_csv(work / "samples.id", sep="\t", dtype=str)
    ids = ids.rename(columns={"#FID": "FID", "#IID": "IID"})
    if "FID" not in ids.columns:
        ids.insert(0, "FID", pd.NA)
    return ids[["FID", "IID"]]


def _write_keep(path: Path, fam: pd.DataFrame, iids: list[str]) -> None:
    sub = fam.set_index("IID").loc[iids].reset_index()
    if sub["FID"].isna().all():
        sub[["IID"]].to_csv(path, sep="\t", index=False, header=["#IID"])
    else:
        sub[["FID", "IID"]].to_csv(path, sep="\t", index=False, header=["#FID", "IID"])


def variant_table(geno: list[str], work: Path, threads: int | None = None) -> pd.DataFrame:
    """``chromosome position variant_id`` of the input's autosomal variants, as PLINK 2
    reads them (``--make-just-pvar``: one pass over the variant records)."""
    work.mkdir(parents=True, exist_ok=True)
    run_plink2([*geno, "--make-just-pvar", "cols=", "--allow-extra-chr"], work / "variants",
               threads)
    pvar = pd.read_csv(work / "variants.pvar", sep="\t", comment=None, dtype=str)
    pvar = pvar[~pvar.iloc[:, 0].str.startswith("##")]
    return pd.DataFrame({"chromosome": pvar["#CHROM"].to_numpy(),
                         "position": pvar["POS"].astype(np.int64).to_numpy(),
                         "variant_id": pvar["ID"].to_numpy(), "ref": pvar["REF"].to_numpy(),
                         "alt": pvar["ALT"].to_numpy()})


Sources = list[list[str]]  # PLINK 2 input flags, one list per genotype file


def _per_source(sources: Sources, args: list[str], out: Path, threads: int | None = None
                ) -> list[Path]:
    """Run ``plink2 SOURCE ARGS`` for each source; returns the output prefixes.

    One file: ``out`` itself. Several (one per chromosome): ``out.1``, ``out.2``, ... run
    side by side within ``threads``, each with its share of threads and memory.
    """
    if len(sources) == 1:
        run_plink2([*sources[0], *args], out, threads)
        return [out]
    outs = [out.with_name(f"{out.name}.{i + 1}") for i in range(len(sources))]
    total = threads or os.cpu_count() or 1
    jobs = max(1, min(len(sources), total))
    share = ["--memory", str(max(256, _memory_mb() // (2 * jobs)))]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(lambda so: run_plink2([*so[0], *args, *share], so[1],
                                            max(1, total // jobs)),
                      zip(sources, outs, strict=True)))
    return outs


def _memory_mb() -> int:
    """Physical memory in MiB (PLINK 2 takes half by default; jobs split that half)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20)
    except (ValueError, OSError, AttributeError):
        return 4096


def _concat(paths: list[Path], suffix: str) -> pd.DataFrame:
    return pd.concat([pd.read_csv(f"{p}{suffix}", sep="\t", dtype={"#CHROM": str, "ID": str})
                      for p in paths], ignore_index=True)


def sample_missingness(sources: Sources, keep: Path, work: Path, threads: int | None = None
                       ) -> pd.DataFrame:
    """``IID F_MISS`` over the whole genome: missing calls summed across the files."""
    outs = _per_source(sources, ["--keep", str(keep), "--missing", "sample-only"],
                       work / "smiss", threads)
    tables = [pd.read_csv(f"{o}.smiss", sep="\t", dtype={"IID": str, "#IID": str})
              .rename(columns={"#IID": "IID", "#FID": "FID"}) for o in outs]
    out = tables[0][["IID"]].copy()
    missing = sum(t["MISSING_CT"].to_numpy() for t in tables)
    observed = sum(t["OBS_CT"].to_numpy() for t in tables)
    out["F_MISS"] = missing / np.maximum(observed, 1)
    return out


def qc(geno: Sources, fam: pd.DataFrame, samples: SampleSet, cfg: GwasConfig, work: Path,
       threads: int | None = None, variant_keep: pd.DataFrame | None = None
       ) -> tuple[list[str], Path, dict]:
    """Apply QC; return kept IIDs, the ``--extract`` file and counts removed per step.

    ``geno``: one list of input flags per genotype file (one, or one per chromosome):
    sample call rate is genome-wide (missing calls summed over the files), variant
    statistics are per variant, so the result equals a run on the merged files.
    ``variant_keep`` (``variant_id`` column): the variants the user's filters keep; QC
    statistics are computed on those only.

    Imputed BGEN input is filtered on INFO (PLINK 2's MaCH r2) and MAF from dosages;
    call-rate and HWE filters apply to hard-called genotypes only (PLINK, VCF).
    """
    imputed = "--bgen" in geno[0]
    work.mkdir(parents=True, exist_ok=True)
    keep0 = work / "keep0.tsv"
    _write_keep(keep0, fam, samples.iids)
    smiss = sample_missingness(geno, keep0, work, threads)
    ok = (smiss["F_MISS"] <= 1 - cfg.qc.sample_call_rate) | imputed
    counts = {"samples_in": len(samples.iids),
              "samples_removed_call_rate": int((~ok).sum())}
    kept = smiss.loc[ok, "IID"].astype(str).tolist()
    keep = work / "keep.tsv"
    _write_keep(keep, fam, kept)
    freq = ["--freq", "cols=+machr2"] if imputed else ["--freq"]
    chosen: list[str] = []
    keyed = "--set-all-var-ids" in geno[0]
    if variant_keep is not None:
        ids = allele_key(variant_keep) if keyed else variant_keep["variant_id"].astype(str)
        if ids.duplicated().any():  # --extract keys on the ID: it must be unambiguous
            raise AmbiguousIds() if not keyed else duplicate_id_error(geno[0], ids)
        ids.to_csv(work / "filters.txt", index=False, header=False)
        chosen = ["--extract", str(work / "filters.txt")]
    outs = _per_source(geno, ["--keep", str(keep), *chosen, "--missing", "variant-only", *freq,
                              "--hardy"], work / "vstats", threads)
    vm, fr, hw = (_concat(outs, s) for s in (".vmiss", ".afreq", ".hardy"))
    if vm["ID"].duplicated().any():
        raise AmbiguousIds() if not keyed else duplicate_id_error(geno[0], vm["ID"])
    if keyed:  # records repeating chrom:pos:ref:alt, of which --rm-dup kept the first
        lists = [Path(f"{o}.rmdup.list") for o in outs]
        counts["variants_duplicate_removed"] = sum(
            len(p.read_text().split()) for p in lists if p.exists())
    # a multi-allelic record (ALT "G,T"): left out, as the Hail engine does
    multi = fr["ALT"].astype(str).str.contains(",", regex=False).to_numpy()
    counts["variants_not_biallelic"] = int(multi.sum())
    counts["variants_in"] = len(vm) - int(multi.sum())
    call_ok = (vm["F_MISS"] <= 1 - cfg.qc.variant_call_rate).to_numpy() | imputed
    counts["variants_removed_call_rate"] = int((~call_ok & ~multi).sum())
    alive = call_ok & ~multi
    if imputed:  # imputation quality (MaCH r2, PLINK 2's INFO-like measure)
        low_info = ~(fr["MACH_R2"].to_numpy() >= cfg.qc.info)
        counts["variants_removed_info"] = int(low_info.sum())
        alive &= ~low_info
    alt = pd.to_numeric(fr["ALT_FREQS"], errors="coerce")  # "0.1,0.2" for multi-allelic
    maf = np.minimum(alt, 1 - alt).to_numpy()
    low = alive & (maf < cfg.qc.maf)
    counts["variants_removed_maf"] = int(low.sum())
    alive &= ~low
    # --hardy writes one row per allele of a multi-allelic variant (left out above)
    hwe_p = vm["ID"].map(hw.drop_duplicates("ID").set_index("ID")["P"]).fillna(1.0)
    bad_hwe = alive & (hwe_p.to_numpy() < cfg.qc.hwe_p) & (not imputed)
    counts["variants_removed_hwe"] = int(bad_hwe.sum())
    alive &= ~bad_hwe
    counts["variants_out"] = int(alive.sum())
    counts["samples_out"] = len(kept)
    extract = work / "extract.txt"
    vm.loc[alive, "ID"].to_csv(extract, index=False, header=False)
    return kept, extract, counts


def _lines_of(path: str, variant_id: str, id_column: int, limit: int = 2) -> list[int]:
    """1-based line numbers of the first ``limit`` records of ``path`` with that ID."""
    import gzip

    opener = gzip.open if path.endswith((".gz", ".bgz")) else open
    found = []
    with opener(path, "rt") as fh:
        for number, line in enumerate(fh, start=1):
            if line.startswith("#"):
                continue
            fields = line.split(maxsplit=id_column + 1)
            if len(fields) > id_column and fields[id_column] == variant_id:
                found.append(number)
                if len(found) == limit:
                    break
    return found


def duplicate_id_error(geno: list[str], ids: pd.Series) -> InputError:
    """The error for variant IDs PLINK 2 sees more than once: the file, the lines, how many.

    ``--extract`` keys variants on their ID, so an ID shared by two variants would keep or
    drop both: the input is refused before any association.
    """
    dup = ids[ids.duplicated(keep=False)]
    first = str(dup.iloc[0])
    n_ids, n_rows = dup.nunique(), len(dup)
    where, source = "", "the genotypes"
    if "--bfile" in geno:
        source = f"{geno[geno.index('--bfile') + 1]}.bim"
        lines = _lines_of(source, first, 1)
    elif "--vcf" in geno:
        source = geno[geno.index("--vcf") + 1]
        lines = _lines_of(source, first, 2)
    else:
        source, lines = geno[geno.index("--bgen") + 1], []
    if lines:
        where = f", lines {' and '.join(str(n) for n in lines)}"
    dots = " ('.' means no ID: PLINK 1 files do not get one assigned)" if first == "." else ""
    return InputError(f"{source}{where}: variant ID {first!r} is given to more than one variant"
                      f"{dots}; {n_ids} ID(s) shared by {n_rows} variants",
                      hint="give each variant a unique ID, e.g. plink2 --bfile IN "
                           "--set-all-var-ids @:#:$r:$a --new-id-max-allele-len 200 "
                           "--make-bed --out OUT")


def one_fileset(geno: Sources, keep: Path, extracts: list[Path], name: str, work: Path,
                threads: int | None = None) -> list[str]:
    """PLINK 2 input flags of the variants in ``extracts`` (one list per file, or one for
    all) as one genome-wide fileset: the input itself when it is one file, else the
    files' variants of the samples in ``keep`` joined into ``work/<name>`` (hard calls).
    Give ``--keep`` with the flags."""
    if len(geno) == 1:
        return [*geno[0], "--extract", str(extracts[0])]
    from gwas.plink_io import concat_bed

    parts = []
    for i, src in enumerate(geno):
        part = work / f"{name}.{i + 1}"
        run_plink2([*src, "--keep", str(keep), "--extract", str(extracts[i % len(extracts)]),
                    "--make-bed"], part, threads)
        parts.append(str(part))
    concat_bed(parts, work / name)
    return ["--bfile", str(work / name)]


def pruned_source(geno: Sources, keep: Path, extract: Path, cfg: GwasConfig, work: Path,
                  threads: int | None = None) -> list[str]:
    """PLINK 2 input flags of the LD-pruned common variants of the QC'd samples (``keep``,
    ``extract``): the variants of the ancestry PCA.

    Pruning works within chromosomes, so per-chromosome files are pruned one by one; their
    pruned variants are joined into one fileset, so that the PCs are computed once,
    genome-wide. Give ``--keep`` with the flags.
    """
    pruned = _per_source(geno, ["--keep", str(keep), "--extract", str(extract), "--maf",
                                str(cfg.pca.min_maf), "--indep-pairwise",
                                f"{cfg.pca.prune_window_kb}kb", "1", str(cfg.pca.prune_r2)],
                         work / "prune", threads)
    return one_fileset(geno, keep, [Path(f"{p}.prune.in") for p in pruned], "pruned", work,
                       threads)


def king_pairs(source: list[str], keep: Path, floor: float, work: Path,
               threads: int | None = None) -> pd.DataFrame:
    """KING-robust kinship (``--make-king-table``) of the pairs of ``keep`` at or above
    ``floor``: ``IID1 IID2 kinship n_variants``."""
    run_plink2([*source, "--keep", str(keep), "--make-king-table", "--king-table-filter",
                repr(floor)], work / "king", threads)
    table = pd.read_csv(work / "king.kin0", sep="\t", dtype={"IID1": str, "IID2": str,
                                                             "#IID1": str})
    table = table.rename(columns={"#IID1": "IID1", "KINSHIP": "kinship",
                                  "NSNP": "n_variants"})
    return table[["IID1", "IID2", "kinship", "n_variants"]]


def relatives_of(source: list[str], keep: Path, order: list[str], kept: list[str],
                 cfg: GwasConfig, counts: dict, work: Path, threads: int | None = None,
                 remove: bool = True) -> tuple[list[str], Relatives]:
    """KING-robust kinship of the samples in ``keep`` on every variant of ``source`` (a
    short, simulated, genome has too few independent segments for the pruned PCA set:
    unrelated pairs reach 0.09 on the demo's 5,000), then the shared rule
    (:func:`gwas.engines.remove_relatives`; ``remove=False`` lists them only)."""
    pairs = king_pairs(source, keep, REPORT_FLOOR, work, threads)
    return remove_relatives(order, kept, pairs, cfg.qc.king_cutoff, counts, remove)


def pca(source: list[str], keep: Path, cfg: GwasConfig, n_samples: int, work: Path,
        threads: int | None = None) -> pd.DataFrame:
    """Ancestry PCs of the samples in ``keep`` on :func:`pruned_source`'s variants:
    ``IID PC1..PCk``."""
    k = cfg.pca.n_pcs
    # the randomized algorithm starts from PLINK 2's RNG, seeded from the clock unless
    # --seed is given: unseeded, reruns give different PCs past the first few
    pca = ["--pca", "approx", str(k), "--seed", str(cfg.pca.seed)] if n_samples >= 5000 \
        else ["--pca", str(k)]
    run_plink2([*source, "--keep", str(keep), *pca], work / "pca", threads)
    ev = pd.read_csv(work / "pca.eigenvec", sep="\t")
    ev = ev.rename(columns={"#IID": "IID", "#FID": "FID"})
    ev["IID"] = ev["IID"].astype(str)
    return ev[["IID", *[f"PC{i}" for i in range(1, k + 1)]]]


def check_quantitative(pheno: pd.DataFrame) -> None:
    """Refuse phenotypes PLINK 2 would read as case/control (only 0/1/2 values)."""
    names = [c for c in pheno.columns if c != "IID"]
    for n in names:
        levels = set(pheno[n].dropna().unique())
        if levels <= {0.0, 1.0, 2.0}:
            raise InputError(f"phenotype {n!r} only takes the values "
                             f"{'/'.join(str(int(v)) for v in sorted(levels))}: PLINK 2 reads "
                             "such a column as case/control (1 = control, 2 = case, 0 = "
                             "missing) and would run logistic regression, silently dropping "
                             "0s", hint="rnce-bag gwas analyses quantitative phenotypes: use "
                             "--engine hail to run it as a linear (quantitative) model")


def _real_names(message: str, *maps: dict[str, str]) -> str:
    """PLINK 2's message with the internal names P1.., C1.. followed by the user's names."""
    import re

    back = {v: k for m in maps for k, v in m.items()}
    return re.sub(r"\b([PC]\d+)\b", lambda m: f"{m.group(1)} ('{back[m.group(1)]}')"
                  if m.group(1) in back else m.group(1), message)


def glm(geno: Sources, keep: Path, extract: Path, pheno: pd.DataFrame, covar: pd.DataFrame,
        fam: pd.DataFrame, work: Path, threads: int | None = None) -> dict[str, list[Path]]:
    """``--glm`` for all phenotypes in one pass per genotype file; returns phenotype ->
    its ``.glm.linear`` paths (one per file, in genome order).

    ``omit-ref`` makes PLINK 2 count the ALT allele (the .bim A1 column) for every variant,
    as Hail counts its alternate allele, instead of the minor allele.
    """
    # PLINK 2 takes only some characters in phenotype and covariate names and builds its
    # output file names from them: it sees P1..Pk and C1..Cm, the results map back.
    names = [c for c in pheno.columns if c != "IID"]
    internal = {n: f"P{i + 1}" for i, n in enumerate(names)}
    pheno = pheno.rename(columns=internal)
    covar_map = {c: f"C{i + 1}" for i, c in enumerate(c for c in covar.columns if c != "IID")}
    covar = covar.rename(columns=covar_map)
    fid = fam.set_index("IID")["FID"]
    no_fid = fid.isna().all()
    ph = pheno.copy()
    if no_fid:
        ph = ph.rename(columns={"IID": "#IID"})
    else:
        ph.insert(0, "#FID", fid.loc[ph["IID"]].to_numpy())
    ph.to_csv(work / "pheno.tsv", sep="\t", index=False, na_rep="NA")
    args = ["--keep", str(keep), "--extract", str(extract), "--pheno",
            str(work / "pheno.tsv"),
            # missing values are already NA: -9 is a value here, exactly as the loader, the
            # Hail engine and GREML read it (one rule: gwas.minus9_is_missing)
            "--no-input-missing-phenotype",
            # never the .fam/.psam phenotype column: only the requested phenotypes
            "--no-psam-pheno",
            "--glm", "hide-covar", "omit-ref", "allow-no-covars",
            "cols=chrom,pos,ref,alt,a1freq,nobs,beta,se,tz,p"]
    if covar.shape[1] > 1:
        cv = covar.copy()
        if no_fid:
            cv = cv.rename(columns={"IID": "#IID"})
        else:
            cv.insert(0, "#FID", fid.loc[cv["IID"]].to_numpy())
        cv.to_csv(work / "covar.tsv", sep="\t", index=False, na_rep="NA", float_format="%.10g")
        args += ["--covar", str(work / "covar.tsv"), "--covar-variance-standardize"]
    try:
        prefixes = _per_source(geno, args, work / "assoc", threads)
    except ExternalToolError as exc:
        raise ExternalToolError(_real_names(exc.message, internal, covar_map),
                                hint=exc.hint) from None
    out: dict[str, list[Path]] = {}
    for name in names:
        out[name] = []
        for prefix in prefixes:
            path = Path(f"{prefix}.{internal[name]}.glm.linear")
            if not path.exists():
                raise ExternalToolError(f"plink2 wrote no results for phenotype {name} ({path})",
                                        hint=f"see {prefix}.log")
            out[name].append(path)
    return out



def input_variants(geno, work: Path, threads: int | None = None) -> pd.DataFrame:
    """``chromosome position variant_id ref alt`` of every input variant (for the filters).

    A PLINK 1 fileset is read from its ``.bim``; BGEN and VCF through PLINK 2 (IDs assigned
    to '.' as in the association).
    """
    from gwas.plink_io import open_bed

    if geno.bfile:
        bim = open_bed(geno.bfile).bim
        return pd.DataFrame({"chromosome": bim["chromosome"].to_numpy(),
                             "position": bim["position"].astype(np.int64).to_numpy(),
                             "variant_id": bim["id"].to_numpy(),
                             # PLINK 2 reads A2 as REF, A1 as ALT
                             "ref": bim["a2"].to_numpy(), "alt": bim["a1"].to_numpy()})
    return pd.concat([variant_table(genotype_args(None, g.bgen, g.sample, g.vcf),
                                    work / "filters" / str(i), threads)
                      for i, g in enumerate(geno.per_file())], ignore_index=True)


def run(req: EngineRequest) -> EngineResult:
    """QC, PCs and ``--glm`` with PLINK 2 (the engine interface, :mod:`gwas.engines`)."""
    from gwas.sumstats import from_plink2_glm

    cfg, work, threads, say, samples = req.cfg, req.work, req.threads, req.say, req.samples
    variant_keep, fam = req.variant_keep, req.fam
    parts = req.geno.per_file(autosomes=True)
    args = [genotype_args(g.bfile, g.bgen, g.sample, g.vcf) for g in parts]
    if not req.geno.bfile:  # the IDs PLINK 2 itself assigns to BGEN/VCF samples
        fam = sample_ids(args[0], work / "qc", threads)
    check_quantitative(samples.pheno)  # before any plink2 work
    say("QC (plink2)", "inputs")
    original = None  # chrom:pos:ref:alt -> the input's ID, when keyed on alleles
    try:
        kept, extract, counts = qc(args, fam, samples, cfg, work / "qc", threads, variant_keep)
    except AmbiguousIds:
        # '.' or one ID on several records: --extract/--exclude and QC cannot key on the ID,
        # so PLINK 2 names every variant chrom:pos:ref:alt; the output keeps the input IDs
        table = input_variants(req.geno, work, threads)
        shared_ids = table["variant_id"].astype(str)
        n_shared = int((shared_ids.duplicated(keep=False) | (shared_ids == ".")).sum())
        say(f"{n_shared} variants have an ID shared with another ('.' included): variants "
            "are keyed on chromosome:position:alleles")
        args = [genotype_args(g.bfile, g.bgen, g.sample, g.vcf, keyed=True) for g in parts]
        original = dict(zip(allele_key(table), table["variant_id"], strict=True))
        # IDs of several records: no rsid in the output
        req.shared_ids.update(shared_ids.loc[shared_ids.duplicated(keep=False)])
        if variant_keep is not None:
            variant_keep = variant_keep.assign(variant_id=allele_key(variant_keep))
        kept, extract, counts = qc(args, fam, samples, cfg, work / "qc", threads, variant_keep)
        counts["variants_ids_shared"] = n_shared
    say("", "qc")
    keep = qc_keep = work / "qc" / "keep.tsv"
    pcs, relatives = None, relatedness_plan(cfg, counts)
    if relatives == "run":
        say("relatedness (plink2 KING-robust kinship)")
        every = one_fileset(args, keep, [extract], "qc_variants", work / "qc", threads)
        kept, relatives = relatives_of(every, keep, samples.iids, kept, cfg, counts,
                                       work / "qc", threads)
        if relatives.removed:  # type: ignore[union-attr]
            keep = work / "qc" / "keep_unrelated.tsv"
            _write_keep(keep, fam, kept)
        say("", "relatedness")
    if cfg.pca.n_pcs > 0:
        say(f"{cfg.pca.n_pcs} ancestry PCs (plink2)")
        # pruned on the QC'd samples (relatives too: LD barely changes), PCs of the analysed
        source = pruned_source(args, qc_keep, extract, cfg, work / "qc", threads)
        pcs = pca(source, keep, cfg, len(kept), work / "qc", threads)
        say("", "pca")
    pheno, covar = analysed(samples, pcs, kept)
    say("association (plink2 --glm)")
    paths = glm(args, keep, extract, pheno, covar, fam, work, threads)
    say("", "association")
    results = {name: pd.concat([from_plink2_glm(p) for p in ps], ignore_index=True)
               for name, ps in paths.items()}
    if original is not None:  # the input's own IDs back
        for ssf in results.values():
            ssf["rsid"] = ssf["rsid"].map(original).fillna(ssf["rsid"])
    say("", "read_results")
    return EngineResult(results, counts, pcs, relatives=None if relatives == "off"
                        else relatives)  # type: ignore[arg-type]


ENGINE = GwasEngine("plink2", "PLINK 2", run, order=0)
