"""Hail engine: the only module that imports ``hail``.

Hail runs on a local Spark session (``local[*]``) by default and on a Spark cluster
when given a master URL; the same code serves both.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from gwas.engines import (
    EngineRequest,
    EngineResult,
    GwasEngine,
    Relatives,
    analysed,
    relatedness_plan,
    remove_relatives,
)
from gwas.relatedness import REPORT_FLOOR
from rnce_bag.core.errors import ExternalToolError, InputError
from rnce_bag.core.tools import find_executable

log = logging.getLogger(__name__)

_JAVA_WARNING = "Hail was built and tested with Java 11"
#: Contig names seen in the wild -> GRCh37's: zero-padded (BGEN "01") and "chr1" styles.
CONTIG_RECODING = {**{f"{i:02d}": str(i) for i in range(1, 10)},
                   **{f"chr{i}": str(i) for i in range(1, 23)}, "chrX": "X", "chrY": "Y"}


#: this process's Hail session: the temporary folder it was started with
_SESSION: dict[str, str] = {}


def absolute(path: str | os.PathLike[str]) -> str:
    """``path`` as Spark executors can open it: a URI unchanged, a local path absolute."""
    text = str(path)
    if "://" in text:
        return text
    return os.path.abspath(text)


def _is_local_master(master: str) -> bool:
    if master.startswith("local"):
        return True
    if master.startswith("spark://"):
        hosts = master.removeprefix("spark://").split(",")
        return all(h.split(":")[0] in ("127.0.0.1", "localhost", socket.gethostname())
                   for h in hosts)
    return False


def check_shared_tmp(master: str, tmp_dir: str, explicit: bool) -> None:
    """Refuse a temporary folder the executors of a remote cluster cannot reach.

    On ``local[*]`` or a standalone master on this machine any local folder works. On a
    remote master (``spark://other-host``, ``yarn``, ``k8s://``) Hail's temporary files
    must be on storage every node sees: a URI (``hdfs://``, ``gs://``, ``s3a://``, or
    ``file:///shared/...`` to say a local path is mounted everywhere).
    """
    if _is_local_master(master) or "://" in tmp_dir:
        return
    where = "hail.tmp_dir" if explicit else "the default tmp_dir (inside --out)"
    raise InputError(f"Spark master '{master}' is remote but {where} '{tmp_dir}' is a local "
                     "path its executors may not see",
                     hint="set --set hail.tmp_dir=URI on shared storage (hdfs://..., gs://..., "
                          "s3a://..., or file:///path mounted on every node)")


def init_hail(
    spark_master: str = "local[*]",
    tmp_dir: str | os.PathLike[str] | None = None,
    log_path: str | os.PathLike[str] | None = None,
    driver_memory_gb: int = 8,
    quiet: bool = True,
    native_lib_dir: str | None = None,
) -> Any:
    """Start (or reuse) a Hail session and return the ``hail`` module.

    Parameters
    ----------
    spark_master
        Spark master URL: ``local[*]``, ``local[2]``, ``spark://host:7077``, ``yarn``.
    tmp_dir
        Hail's temporary directory (defaults to a fresh folder under the system temp).
    log_path
        Hail log file (defaults to one inside ``tmp_dir``).
    driver_memory_gb
        Spark driver memory for local sessions.
    quiet
        Hide Spark's progress output.
    native_lib_dir
        Folder holding ``libgfortran.so.3`` on every node of a remote cluster (its
        executors' ``LD_LIBRARY_PATH``); a master on this machine gets the shim built here.

    Raises
    ------
    ExternalToolError
        If Java is missing or the Spark session cannot start (exit code 3).
    """
    if find_executable("java") is None and not os.environ.get("JAVA_HOME"):
        raise ExternalToolError(
            "Hail needs a Java runtime (JRE 11 or 17) but 'java' is not on PATH",
            hint="install one: sudo apt-get install openjdk-17-jre-headless",
        )
    check_master_reachable(spark_master)
    import hail as hl

    if hl.utils.java.Env._hc is not None:  # already running in this process
        old = _SESSION.get("tmp_dir")
        if old is None or "://" in old or Path(old).is_dir():
            return hl
        # its temporary folders were a finished run's (published or removed since): Spark
        # would write shuffle blocks into a folder that is gone, so start a fresh session
        log.info("Hail's temporary folder %s is gone; restarting the Hail session", old)
        hl.stop()
    tmp = Path(tmp_dir) if tmp_dir else Path(tempfile.mkdtemp(prefix="rnce-bag-hail-"))
    tmp.mkdir(parents=True, exist_ok=True)
    logfile = Path(log_path) if log_path else tmp / "hail.log"
    spark_conf = {"spark.driver.memory": f"{driver_memory_gb}g",
                  # Spark's [Stage 3:>  (0 + 2) / 2] bars fill a log with carriage returns;
                  # the run says its steps (and how long they take) itself
                  "spark.ui.showConsoleProgress": "true" if sys.stderr.isatty() else "false"}
    spark_conf.update(_native_blas(spark_master, native_lib_dir))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_JAVA_WARNING)
            hl.init(
                master=spark_master,
                tmp_dir=str(tmp),
                local_tmpdir=str(tmp),
                log=str(logfile),
                quiet=quiet,
                spark_conf=spark_conf,
                idempotent=True,
            )
            hl.default_reference("GRCh37")
        _SESSION["tmp_dir"] = str(tmp)
        _SESSION["log"] = str(logfile)
    except Exception as exc:  # py4j / Spark errors come in many types
        raise ExternalToolError(
            f"Hail could not start a Spark session on master '{spark_master}': "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
            hint=f"see the Hail log {logfile}; check 'java -version' and JAVA_HOME",
        ) from exc
    return hl


def check_master_reachable(spark_master: str, timeout: float = 5.0) -> None:
    """A ``spark://host:port`` master answers a TCP connection within ``timeout`` seconds
    (Spark itself would wait about 90 s and end in a Java stack trace).

    Raises
    ------
    InputError
        Naming the master and what the connection said; ``local[...]`` and other
        schemes (yarn, k8s) are not checked here.
    """
    import socket
    from urllib.parse import urlsplit

    if not spark_master.startswith("spark://"):
        return
    for hostport in spark_master.removeprefix("spark://").split(","):  # HA: several masters
        parts = urlsplit(f"//{hostport}")
        try:
            port = parts.port or 7077
        except ValueError:
            raise InputError(f"--spark-master {spark_master!r}: cannot read the port of "
                             f"{hostport!r}", hint="e.g. spark://host:7077") from None
        try:
            with socket.create_connection((parts.hostname or "", port), timeout=timeout):
                return
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
    raise InputError(f"--spark-master {spark_master!r}: no Spark master answers there "
                     f"({reason})",
                     hint="start the master (sbin/start-master.sh) or check the URL; "
                          "'local[*]' runs Spark on this machine")


def _native_blas(spark_master: str, node_lib_dir: str | None = None) -> dict[str, str]:
    """Let the JVM about to start load native BLAS (see :mod:`gwas.engines.hail_blas`).

    The driver inherits this process's ``LD_LIBRARY_PATH``; executors of a master on this
    machine get it through ``spark.executorEnv``, those of a remote cluster get
    ``node_lib_dir`` (``hail.native_lib_dir``) when given.
    """
    from gwas.engines import hail_blas

    setup = hail_blas.prepare()
    _SESSION["blas"] = setup.detail
    log.info("Hail BLAS: %s", setup.detail)
    if setup.library_dir is not None:
        os.environ.update(hail_blas.with_library_dir(dict(os.environ), setup.library_dir))
    if node_lib_dir:
        executors = hail_blas.with_library_dir({}, node_lib_dir)["LD_LIBRARY_PATH"]
    elif _is_local_master(spark_master) and setup.library_dir is not None:
        executors = os.environ["LD_LIBRARY_PATH"]
    else:
        return {}
    return {"spark.executorEnv.LD_LIBRARY_PATH": executors}


def probe_local_spark(timeout: float = 240.0) -> dict[str, Any]:
    """Start Hail on ``local[1]`` in a child process, count a small table, stop.

    Returns
    -------
    dict
        ``ok`` (bool), ``hail`` and ``spark`` versions, ``seconds`` to start and count,
        and ``error`` when it failed.
    """
    cmd = [sys.executable, "-m", "gwas.engines.hail", "--probe"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"no answer within {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                break
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"ok": False, "error": tail[0]}


def _probe() -> dict[str, Any]:
    import time

    import numpy as np

    from gwas.engines import hail_blas

    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="rnce-bag-probe-") as tmp:
            hl = init_hail("local[1]", tmp_dir=tmp, driver_memory_gb=1)
            count = hl.utils.range_table(100, n_partitions=2).count()
            # a block product makes netlib-java load its BLAS and log which one
            bm = hl.linalg.BlockMatrix.from_numpy(np.arange(6.0).reshape(2, 3))
            product_ok = bool(np.allclose((bm @ bm.T).to_numpy(), [[5, 14], [14, 50]]))
            spark = hl.spark_context().version
            version = hl.version()
            hl.stop()
            blas = hail_blas.blas_from_log((Path(tmp) / "hail.log").read_text(errors="replace"))
        return {"ok": count == 100 and product_ok, "hail": version, "spark": spark,
                "blas": blas, "seconds": round(time.perf_counter() - start, 1)}
    except Exception as exc:  # report every failure as data, the caller decides
        return {"ok": False, "error": str(exc).splitlines()[0] if str(exc) else repr(exc)}


if __name__ == "__main__":  # pragma: no cover - exercised through probe_local_spark
    if sys.argv[1:] == ["--probe"]:
        print(json.dumps(_probe()))


def _paths(value: str | list[str] | None) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else list(value)


def import_key(bfile: str | list[str] | None = None, bgen: str | list[str] | None = None,
               sample: str | None = None, vcf: str | list[str] | None = None,
               reference: str = "GRCh37") -> str:
    """The cache key of imported genotypes: the inputs' paths, sizes and mtimes."""
    import hashlib

    bfiles, bgens, vcfs = _paths(bfile), _paths(bgen), _paths(vcf)
    files = [f"{b}.{e}" for b in bfiles for e in ("bed", "bim", "fam")] + bgens + vcfs + (
        [sample] if sample else [])
    ident = "|".join(f"{Path(f).resolve()}:{Path(f).stat().st_size}:"
                     f"{Path(f).stat().st_mtime_ns}" for f in files)
    return hashlib.sha1(f"{ident}|{reference}".encode()).hexdigest()[:12]


def import_genotypes(hl, cache: Path, bfile: str | list[str] | None = None,
                     bgen: str | list[str] | None = None, sample: str | None = None,
                     vcf: str | list[str] | None = None, reference: str = "GRCh37"):
    """Import genotypes once into a MatrixTable under ``cache`` and read it back.

    Each source may be a list of files of the same samples (one per chromosome): they are
    imported into one MatrixTable (rows unioned in the order given). The cache key is the
    inputs' paths, sizes and mtimes, so a second run reads the MatrixTable without
    re-importing. Row fields: ``locus alleles rsid``; entry: ``GT`` (and ``dosage`` for
    BGEN). Alleles are ``[A2, A1]`` for PLINK (A1 counted, as PLINK 2 counts its A1 = ALT).
    """
    bfiles, bgens, vcfs = _paths(bfile), _paths(bgen), _paths(vcf)
    key = import_key(bfile, bgen, sample, vcf, reference)
    path = cache / f"genotypes-{key}.mt"
    if (path / "_SUCCESS").exists():
        return hl.read_matrix_table(str(path))
    if bfiles:
        # PLINK's numeric codes as import_plink maps them by default, plus 'chr1' styles
        recode = {"23": "X", "24": "Y", "25": "X", "26": "MT", "chrM": "MT",
                  "chrMT": "MT", **CONTIG_RECODING}
        parts = [hl.import_plink(f"{b}.bed", f"{b}.bim", f"{b}.fam",
                                 reference_genome=reference, a2_reference=True,
                                 contig_recoding=recode) for b in bfiles]
        mt = parts[0].union_rows(*parts[1:]) if len(parts) > 1 else parts[0]
    elif bgens:
        # the indexes go to the cache: input folders may be read-only
        full = [str(Path(b).resolve()) for b in bgens]
        index = {b: str(cache / f"{key}.{i}.bgen.idx2") for i, b in enumerate(full)}
        hl.index_bgen(full, index_file_map=index, reference_genome=reference,
                      contig_recoding=CONTIG_RECODING)
        mt = hl.import_bgen(full, entry_fields=["GT", "GP", "dosage"], sample_file=sample,
                            index_file_map=index)
    elif vcfs:
        mt = hl.import_vcf(vcfs, reference_genome=reference,
                           force_bgz=all(v.endswith(".gz") for v in vcfs),
                           contig_recoding=CONTIG_RECODING)
        mt = mt.annotate_rows(rsid=mt.rsid)
    else:
        raise ExternalToolError("no genotype input given to the Hail engine")
    mt.write(str(path), overwrite=True)
    return hl.read_matrix_table(str(path))


def hail_qc(hl, mt, iids: list[str], qc, work: Path | None = None, variant_keep=None):
    """Sample call rate, then variant call rate, MAF and HWE; returns (mt, counts).

    ``variant_keep`` (``chromosome position variant_id``): the variants the user's filters
    keep. Two passes over the genotypes: one for the samples' call rates, one that writes the
    variants' QC statistics to a small Table; the regression pass then joins that table
    instead of recomputing QC. Imputed BGEN input (entry field ``GP``) is filtered on
    INFO and on MAF from dosages; call-rate and HWE filters apply to hard-called
    genotypes only, as in the PLINK 2 engine.
    """
    import tempfile

    work = Path(work) if work is not None else Path(tempfile.mkdtemp(prefix="rnce-hail-qc-"))
    keep = hl.literal(set(iids))
    mt = mt.filter_cols(keep.contains(mt.s))
    n_all = mt.count_rows()
    mt = mt.filter_rows(mt.locus.in_autosome())  # as the PLINK 2 engine: autosomes only
    n_auto = mt.count_rows()
    n_other = n_all - n_auto
    mt = mt.filter_rows(hl.len(mt.alleles) == 2)  # multi-allelic records left out
    # counted before the user's filters, whose removals are counted by gwas.filters
    n_multi = n_auto - mt.count_rows()
    if variant_keep is not None:  # the user's --chr/--extract/--exclude, by position and ID
        chrom = variant_keep["chromosome"].astype(str).str.removeprefix("chr")
        at = chrom + ":" + variant_keep["position"].astype(str)
        keys = hl.literal(set(at + ":" + variant_keep["variant_id"].astype(str)))
        positions = hl.literal(set(at))
        here = mt.locus.contig.replace("^chr", "") + ":" + hl.str(mt.locus.position)
        no_id = hl.is_missing(mt.rsid) | (mt.rsid == ".")  # PLINK 2 named it chr:pos:ref:alt
        mt = mt.filter_rows(keys.contains(here + ":" + mt.rsid)
                            | (no_id & positions.contains(here)))
    imputed = "GP" in mt.entry
    min_call = 0.0 if imputed else qc.sample_call_rate
    cr = mt.annotate_cols(cr=hl.agg.fraction(hl.is_defined(mt.GT))).cols().to_pandas()
    good = cr.loc[cr["cr"] >= min_call, "s"].astype(str).tolist()
    counts = {"samples_in": int(len(cr)), "samples_removed_call_rate": int(len(cr) - len(good)),
              "variants_not_autosomal": int(n_other), "variants_not_biallelic": int(n_multi)}
    mt = mt.filter_cols(hl.literal(set(good)).contains(mt.s))
    if imputed:
        rows = mt.annotate_rows(
            info=hl.agg.info_score(mt.GP).score, af=hl.agg.mean(mt.dosage) / 2,
            call_rate=hl.float64(1.0), hwe_p=hl.float64(1.0)).rows()
    else:
        rows = mt.annotate_rows(
            call_rate=hl.agg.fraction(hl.is_defined(mt.GT)),
            af=hl.agg.call_stats(mt.GT, mt.alleles).AF[1],
            hwe_p=hl.agg.hardy_weinberg_test(mt.GT).p_value, info=hl.float64(1.0)).rows()
    rows = rows.select("call_rate", "af", "hwe_p", "info").checkpoint(
        str(work / "variant_qc.ht"), overwrite=True)
    maf = hl.min(rows.af, 1 - rows.af)
    info_ok = rows.info >= qc.info
    call_ok = rows.call_rate >= qc.variant_call_rate
    hwe_ok = rows.hwe_p >= qc.hwe_p
    st = rows.aggregate(hl.struct(
        n=hl.agg.count(), info=hl.agg.count_where(~info_ok),
        call=hl.agg.count_where(info_ok & ~call_ok),
        maf=hl.agg.count_where(info_ok & call_ok & ~(maf >= qc.maf)),
        hwe=hl.agg.count_where(info_ok & call_ok & (maf >= qc.maf) & ~hwe_ok)))
    counts.update({"variants_in": st.n, "variants_removed_call_rate": st.call,
                   "variants_removed_maf": st.maf, "variants_removed_hwe": st.hwe})
    if imputed:
        counts["variants_removed_info"] = st.info
    passing = rows.filter(info_ok & call_ok & (maf >= qc.maf) & hwe_ok)
    mt = mt.semi_join_rows(passing)
    mt = mt.annotate_rows(qc_af=passing[mt.row_key].af)
    counts["variants_out"] = st.n - st.info - st.call - st.maf - st.hwe
    counts["samples_out"] = len(good)
    return mt, counts


def hail_pruned(hl, mt, pca_cfg, cache: Path | None = None, key: str | None = None):
    """The LD-pruned common variants of ``mt`` (``ld_prune``): those of the ancestry PCA
    and of the KING kinship.

    With ``cache`` and ``key`` (the genotypes, the QC'd samples and the QC and pruning
    settings), the pruned variants are kept as ``cache/pruned-<key>.ht`` and reused:
    ``ld_prune`` is most of the Hail run at biobank scale (an hour of the first run at
    10,000 x 500,000 on 2 cores), and a rerun with new phenotypes of the same subjects
    prunes the same variants.
    """
    common = mt.filter_rows(hl.min(mt.qc_af, 1 - mt.qc_af) >= pca_cfg.min_maf)
    saved = cache / f"pruned-{key}.ht" if cache is not None and key else None
    if saved is not None and (saved / "_SUCCESS").exists():
        pruned = hl.read_table(str(saved))
    else:
        pruned = hl.ld_prune(common.GT, r2=pca_cfg.prune_r2,
                             bp_window_size=pca_cfg.prune_window_kb * 1000)
        if saved is not None:
            pruned = pruned.checkpoint(str(saved), overwrite=True)
    return common.filter_rows(hl.is_defined(pruned[common.row_key]))


def hail_king(hl, mt, floor: float):
    """KING-robust kinship (``hl.king``, PLINK 2's estimator) of the pairs of ``mt`` at or
    above ``floor``: pandas ``IID1 IID2 kinship`` (each pair once)."""
    km = hl.king(mt.GT)
    km = km.filter_entries((km.phi >= floor) & (km.s_1 != km.s))
    df = km.entries().select("phi").to_pandas()
    ids = mt.s.collect()
    rank = {s: i for i, s in enumerate(ids)}
    first = [rank[a] < rank[b] for a, b in zip(df["s_1"], df["s"], strict=True)]
    df = df[first]
    import pandas as pd

    return pd.DataFrame({"IID1": df["s_1"].astype(str).to_numpy(),
                         "IID2": df["s"].astype(str).to_numpy(),
                         "kinship": df["phi"].astype(float).to_numpy()})


def hail_pca(hl, pruned, pca_cfg):
    """``hwe_normalized_pca`` on :func:`hail_pruned`'s variants: pandas ``IID PC1..PCk``."""
    import pandas as pd

    _, scores, _ = hl.hwe_normalized_pca(pruned.GT, k=pca_cfg.n_pcs)
    df = scores.to_pandas()
    pcs = pd.DataFrame(df["scores"].tolist(), columns=[f"PC{i + 1}" for i in
                                                       range(pca_cfg.n_pcs)])
    pcs.insert(0, "IID", df["s"].astype(str).to_numpy())
    return pcs


def hail_linear_regression(hl, mt, pheno, covar, work: Path, block_size: int = 64):
    """All phenotypes in one pass, each with its own missingness.

    Missing genotype calls are mean-imputed per variant (Hail's convention; PLINK 2
    drops those samples instead), so the engines agree exactly on complete genotypes.

    Returns
    -------
    dict
        phenotype -> pandas DataFrame ``chromosome base_pair_location effect_allele
        other_allele beta standard_error effect_allele_frequency p_value rsid n``.
    """
    import pandas as pd

    names = [c for c in pheno.columns if c != "IID"]
    covs = [c for c in covar.columns if c != "IID"]
    tbl = hl.Table.from_pandas(pheno.merge(covar, on="IID"), key="IID")
    mt = mt.annotate_cols(v=tbl[mt.s])
    mt = mt.filter_cols(hl.is_defined(mt.v))
    x = mt.dosage if "dosage" in mt.entry else mt.GT.n_alt_alleles()
    # pandas NaN arrives as a float NaN, not as missing: make it missing so that each
    # phenotype drops its own missing samples
    ys = [[hl.or_missing(hl.is_finite(mt.v[n]), mt.v[n])] for n in names]
    res = hl.linear_regression_rows(
        y=ys, x=x,
        covariates=[1.0, *[mt.v[c] for c in covs]],
        pass_through=["rsid"], block_size=block_size)
    res = res.select(
        chromosome=res.locus.contig, base_pair_location=res.locus.position,
        effect_allele=res.alleles[1], other_allele=res.alleles[0], rsid=res.rsid,
        beta=res.beta.map(lambda b: b[0]), standard_error=res.standard_error.map(lambda b: b[0]),
        p_value=res.p_value.map(lambda b: b[0]), n=res.n,
        effect_allele_frequency=hl.range(len(names)).map(
            lambda i: res.sum_x[i] / (2 * res.n[i])))
    path = work / "hail_linreg.tsv.bgz"
    res.export(str(path))
    flat = pd.read_csv(path, sep="\t", compression="gzip", dtype={"chromosome": str})
    out = {}
    for i, name in enumerate(names):
        df = flat[["chromosome", "base_pair_location", "effect_allele", "other_allele",
                   "rsid"]].copy()
        for col in ("beta", "standard_error", "p_value", "n", "effect_allele_frequency"):
            df[col] = flat[col].map(lambda s, i=i: json.loads(s)[i] if isinstance(s, str)
                                    else float("nan"))
        out[name] = df
    return out


def blas_used(out: Path) -> str:
    """``native`` or ``java`` (F2J, ~20x slower block products): what the driver's
    ``hail.log`` says. On a local master that is all of Hail; a remote cluster's executors
    log their own BLAS, so ``unused`` or ``native`` there says nothing about them."""
    from gwas.engines.hail_blas import blas_from_log

    path = out / "hail.log"
    used = blas_from_log(path.read_text(errors="replace")) if path.exists() else "unused"
    if used == "java":
        log.warning("Hail used pure-Java BLAS (no loadable libgfortran.so.3 and no C "
                    "compiler to build the shim): LD pruning and PCA run ~20x slower")
    return used


def run(req: EngineRequest) -> EngineResult:
    """Import, QC, PCs and ``linear_regression_rows`` with Hail (the engine interface,
    :mod:`gwas.engines`)."""
    import hashlib

    from gwas.sumstats import to_ssf

    cfg, geno, work, cache, say = req.cfg, req.geno, req.work, req.cache, req.say
    cache.mkdir(parents=True, exist_ok=True)
    # every path handed to Hail is absolute (or a URI): Spark executors resolve a relative
    # one in their own working folder, which on a cluster is not ours
    tmp_dir = absolute(cfg.hail.tmp_dir) if cfg.hail.tmp_dir else str(work / "hail-tmp")
    check_shared_tmp(cfg.hail.spark_master, tmp_dir, explicit=bool(cfg.hail.tmp_dir))
    hl = init_hail(cfg.hail.spark_master, tmp_dir=tmp_dir, log_path=req.out / "hail.log",
                   driver_memory_gb=cfg.hail.driver_memory_gb, quiet=cfg.hail.quiet,
                   native_lib_dir=cfg.hail.native_lib_dir)
    say("importing genotypes (Hail)", "inputs")
    parts = geno.per_file(autosomes=True)

    def files(kind: str) -> list[str] | None:  # absolute: executors resolve them
        return [absolute(getattr(g, kind)) for g in parts] if getattr(geno, kind) else None

    sample = absolute(parts[0].sample) if geno.sample else None
    mt = import_genotypes(hl, cache, files("bfile"), files("bgen"), sample, files("vcf"))
    say("QC (Hail)", "import")
    mt, counts = hail_qc(hl, mt, req.samples.iids, cfg.qc, work, req.variant_keep)
    say("", "qc")
    pcs, relatives = None, relatedness_plan(cfg, counts)
    kept = mt.s.collect()
    if relatives == "run":  # on every QC'd variant, as the PLINK 2 engine
        say("relatedness (Hail king, KING-robust kinship)")
        pairs = hail_king(hl, mt, REPORT_FLOOR)
        kept, relatives = remove_relatives(req.samples.iids, kept, pairs,
                                           cfg.qc.king_cutoff, counts)
        say("", "relatedness")
    if cfg.pca.n_pcs > 0:
        say(f"{cfg.pca.n_pcs} ancestry PCs (Hail hwe_normalized_pca)")
        key = None
        if req.variant_keep is None:  # a filtered variant set is not worth a cache entry
            ident = json.dumps([import_key(files("bfile"), files("bgen"),
                                           parts[0].sample if geno.sample else None,
                                           files("vcf")),
                                sorted(map(str, mt.s.collect())),
                                cfg.qc.model_dump(exclude={"king_cutoff"}),
                                cfg.pca.model_dump(exclude={"n_pcs"})])
            key = hashlib.sha1(ident.encode()).hexdigest()[:12]
        # pruned on the QC'd samples (relatives too: LD barely changes), PCs of the analysed
        pruned = hail_pruned(hl, mt, cfg.pca, cache, key)
        if isinstance(relatives, Relatives) and relatives.removed:
            pruned = pruned.filter_cols(hl.literal(set(kept)).contains(pruned.s))
        pcs = hail_pca(hl, pruned, cfg.pca)
        say("", "pca")
    if isinstance(relatives, Relatives) and relatives.removed:
        mt = mt.filter_cols(hl.literal(set(kept)).contains(mt.s))
    pheno, covar = analysed(req.samples, pcs, kept)
    say("association (Hail linear_regression_rows)")
    raw = hail_linear_regression(hl, mt, pheno, covar, work)
    say("", "association")
    results = {k: to_ssf(v, f"Hail results for {k}") for k, v in raw.items()}
    say("", "read_results")
    return EngineResult(results, counts, pcs, {
        "hail_blas": blas_used(req.out),
        "note": "Hail mean-imputes missing genotype calls per variant; PLINK 2 drops those "
                "samples per variant"}, None if relatives == "off" else relatives)


ENGINE = GwasEngine("hail", "Hail", run, order=10)
