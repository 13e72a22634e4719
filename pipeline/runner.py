"""``rnce-bag run``: the study's stages in order, cached, locked and resumable.

Each stage is one ``rnce-bag`` command run in a child process (``python -m cli ...``)
so that a stage's memory (torch, the Hail JVM) is returned when it ends and its own
progress bars show. A stage writes into ``OUT/.<stage>.partial`` and is renamed to
``OUT/<stage>`` only when its command succeeds, so an interrupted stage never looks
complete; ``train`` stages keep their partial folder and continue with ``--resume``.

Caching: a stage's key is the SHA-256 of its command line, the fingerprints of its
external inputs (content hash up to 64 MB, size and modification time beyond, so
biobank genotypes are not re-read), the keys of the stages it depends on and the
code version (hash of the package sources). A stage whose ``OUT/<stage>/.stage.json``
holds the same key is skipped. ``OUT/run.json`` records every stage's key, status,
time and its own provenance. A lock file (``fcntl``; released by the kernel when the
process dies, even by ``kill -9``) stops two runs writing one folder; child processes
are killed with their parent (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cli.study import STAGE_ORDER, StudyConfig
from gwas.genotype_files import genotype_paths
from rnce_bag.core.errors import InputError, RnceBagError
from rnce_bag.core.io import write_text
from rnce_bag.core.outdir import check_removable, remove_owned
from rnce_bag.core.presets import shipped

REPO_PACKAGES = ("rnce_bag", "gwas", "cli")
HASH_LIMIT = 64 * 1024**2
STAMP = ".stage.json"


class StageFailed(RnceBagError):
    """A stage's command failed; the exit code is the command's."""

    def __init__(self, stage: str, code: int) -> None:
        super().__init__(f"stage '{stage}' failed (exit {code}); its message is above",
                         hint="fix the cause and rerun the same command: finished stages "
                              "are cached")
        self.exit_code = code if code in (2, 3) else 1


@dataclass
class Stage:
    """One command of the pipeline.

    ``argv`` may hold ``{out}`` (the stage's folder while it runs) and ``{root}`` (the
    run folder); ``inputs`` are external files whose fingerprints enter the key.
    """

    name: str
    kind: str
    argv: list[str]
    inputs: list[Path] = field(default_factory=list)
    deps: list[str] = field(default_factory=list)
    resumable: bool = False
    dynamic: Callable[[Path], list[str]] | None = None  # extra argv decided at run time


def code_version() -> str:
    """SHA-256 of every source file of the three packages (any code change reruns)."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for pkg in REPO_PACKAGES:
        for p in sorted((root / pkg).rglob("*")):
            if p.is_file() and p.suffix in (".py", ".j2", ".yaml", ".tsv") \
                    and "__pycache__" not in p.parts:
                h.update(str(p.relative_to(root)).encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def fingerprint(path: Path) -> str:
    """Content hash of a file up to 64 MB, else size + mtime; ``missing`` if absent."""
    if not path.exists():
        return "missing"
    st = path.stat()
    if path.is_dir() or st.st_size > HASH_LIMIT:
        return f"stat:{st.st_size}:{st.st_mtime_ns}"
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def stage_key(stage: Stage, dep_keys: list[str], code: str) -> str:
    payload = {"name": stage.name, "argv": stage.argv, "deps": dep_keys, "code": code,
               "inputs": {str(p): fingerprint(p) for p in stage.inputs}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@contextmanager
def run_lock(root: Path) -> Iterator[None]:
    """Exclusive lock on ``root/.lock`` or :class:`InputError` naming the holder."""
    root.mkdir(parents=True, exist_ok=True)
    fh = open(root / ".lock", "a+")  # noqa: SIM115 (held for the whole run)
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        fh.close()
        raise InputError(f"{root} is being written by another run ({holder})",
                         hint="wait for it to finish or use another --out") from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}\n")
    fh.flush()
    try:
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def _die_with_parent() -> None:  # runs in the child before exec
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def select(stages: list[Stage], name: str | None) -> set[str]:
    """Names of the stages matching ``name`` (a stage name or a kind, e.g. ``train``)."""
    if name is None:
        return set()
    hit = {s.name for s in stages if name in (s.name, s.kind)}
    if not hit:
        raise InputError(f"no stage called {name!r} in this study",
                         hint="stages: " + ", ".join(s.name for s in stages))
    return hit


def run_stages(stages: list[Stage], root: Path, from_: str | None = None,
               only: str | None = None, echo: Callable[[str], None] = print,
               study: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run (or reuse) every stage in order; return the run record (also ``run.json``)."""
    root = root.resolve()
    code = code_version()
    forced_from = select(stages, from_)
    only_set = select(stages, only)
    first_forced = min((i for i, s in enumerate(stages) if s.name in forced_from),
                       default=None)
    last_selected = max((i for i, s in enumerate(stages) if s.name in only_set), default=-1)
    record: dict[str, Any] = {"study": study, "code_version": code, "started": _now(),
                              "argv": sys.argv, "status": "running", "stages": {}}
    keys: dict[str, str] = {}
    with run_lock(root):
        try:
            for i, st in enumerate(stages):
                final, partial = root / st.name, root / f".{st.name}.partial"
                argv = [a.replace("{root}", str(root)) for a in st.argv]
                key = stage_key(Stage(st.name, st.kind, argv, st.inputs), [keys[d] for d in
                                                                           st.deps], code)
                keys[st.name] = key
                stamp = final / STAMP
                cached = stamp.exists() and json.loads(stamp.read_text())["key"] == key
                forced = (first_forced is not None and i >= first_forced) or st.name in only_set
                entry: dict[str, Any] = {"key": key, "folder": str(final)}
                if only_set and st.name not in only_set:
                    if not stamp.exists() and i < last_selected:  # upstream of a selected one
                        raise InputError(f"--only: stage '{st.name}' (needed first) has not run "
                                         f"in {root}", hint="run the whole study once first")
                    entry["status"] = "not selected"
                elif cached and not forced:
                    entry["status"] = "cached"
                    echo(f"[{i + 1}/{len(stages)}] {st.name}: cached")
                else:
                    echo(f"[{i + 1}/{len(stages)}] {st.name}: running")
                    check_removable(final, "run", markers=[STAMP])  # before the work, not after
                    if partial.exists() and not (st.resumable and
                                                 (partial / "checkpoint.pt").exists()):
                        shutil.rmtree(partial)
                    resume = st.resumable and (partial / "checkpoint.pt").exists()
                    argv = [a.replace("{out}", str(partial)) for a in argv]
                    if st.dynamic is not None:
                        argv += st.dynamic(root)
                    if resume:
                        argv.append("--resume")
                    tic = time.perf_counter()
                    proc = subprocess.run([sys.executable, "-m", "cli", *argv], check=False,
                                          preexec_fn=_die_with_parent)  # noqa: S603,PLW1509
                    if proc.returncode != 0:
                        record["status"] = "failed"
                        record["failed_stage"] = st.name
                        entry["status"] = "failed"
                        record["stages"][st.name] = entry
                        write_text(root / "run.json", json.dumps(record, indent=2) + "\n")
                        raise StageFailed(st.name, proc.returncode)
                    write_text(partial / STAMP, json.dumps({"key": key, "argv": argv,
                                                            "finished": _now()}) + "\n")
                    remove_owned(final, "run", markers=[STAMP])  # only a stage folder of ours
                    partial.rename(final)
                    entry.update(status="ran", seconds=round(time.perf_counter() - tic, 1),
                                 resumed=resume)
                    echo(f"    {st.name}: done in {entry['seconds']:.1f} s")
                sub = final / "run.json"
                if sub.exists():
                    entry["provenance"] = json.loads(sub.read_text())
                record["stages"][st.name] = entry
                write_text(root / "run.json", json.dumps(record, indent=2) + "\n")
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: say so, never "running"
            record.update(status="interrupted", finished=_now())
            write_text(root / "run.json", json.dumps(record, indent=2) + "\n")
            raise
        record.update(status="ok", finished=_now())
        write_text(root / "run.json", json.dumps(record, indent=2) + "\n")
    return record


def _covar_names(root: Path, names: list[str] | None) -> list[str]:
    if names:
        return ["--covar-name", ",".join(names)]
    header = (root / "brain_age" / "covar.tsv").read_text().split("\n", 1)[0].split("\t")
    return ["--covar-name", ",".join(c for c in header if c not in ("#FID", "FID", "IID"))]


def plan(study: StudyConfig, study_dir: Path, root: Path) -> list[Stage]:
    """The stages of ``study`` in order (see :data:`cli.study.STAGE_ORDER`)."""
    from gwas.run import COVARIATES_FILE

    def rel(p: str | None) -> Path | None:
        if p is None:
            return None
        q = Path(p)
        return q if q.is_absolute() else (study_dir / q).resolve()

    def repo_rel(p: str) -> Path:  # configs/... beside the study, else the shipped preset
        q = rel(p)
        if q is not None and q.exists():
            return q
        return shipped(p) or q  # type: ignore[return-value]

    st: list[Stage] = []
    c, s = study.cohort, study.stages
    if study.simulate is not None:
        sim = study.simulate
        argv = ["simulate", "--preset", sim.preset, "--seed", str(sim.seed), "--out", "{out}"]
        for o in sim.set:
            argv += ["--set", o]
        st.append(Stage("simulate", "simulate", argv))
        base = root / "simulate"
        manifest, bfile = base / "cohort.tsv", str(base / "genotypes" / "cohort")
        geno = ["--bfile", bfile]
        celltypes = [base / "truth" / "celltype_specificity.tsv"]
        ext: list[Path] = []
        up = ["simulate"]
    else:
        manifest = rel(c.manifest)  # type: ignore[assignment]
        bfile = str(rel(c.bfile)) if c.bfile else ""
        geno = (["--bfile", bfile] if c.bfile else
                ["--bgen", str(rel(c.bgen))] + (["--sample", str(rel(c.sample))] if c.sample
                                                else []) if c.bgen else
                ["--vcf", str(rel(c.vcf))])
        celltypes = [rel(x) for x in c.celltypes]  # type: ignore[misc]
        # every genotype file (per-chromosome templates expanded): the stage keys hash them
        gfiles = genotype_paths(bfile or None, str(rel(c.bgen)) if c.bgen else None,
                                str(rel(c.sample)) if c.sample else None,
                                str(rel(c.vcf)) if c.vcf else None)
        ext = [manifest, *gfiles]  # type: ignore[list-item]
        up = []
    ld = str(rel(c.ld_bfile)) if c.ld_bfile else bfile
    # --keep/--remove/--extract/--exclude/--chr of the genetic stages (PLINK semantics)
    flt_files = [(f"--{k}", rel(getattr(c, k))) for k in ("keep", "remove", "extract",
                                                         "exclude") if getattr(c, k)]
    filters = [x for flag, path in flt_files for x in (flag, str(path))] + (
        ["--chr", c.chr] if c.chr else [])
    flt_inputs = [path for _, path in flt_files]
    features = root / "features" / "features.parquet"
    if "features" not in study.skip:
        argv = ["features", "--manifest", str(manifest), "--out", "{out}"]
        for a in s.features_atlases:
            argv += ["--atlas", a]
        st.append(Stage("features", "features", argv, ext[:1], up))
    reps = {"FS": features}
    if "train" not in study.skip:
        cfg = repo_rel(s.train.config)
        for m in s.train.methods:
            argv = ["train", "--manifest", str(manifest), "--features", str(features),
                    "--out", "{out}", "--config", str(cfg), "--method", m,
                    "--cache-dir", str(root / "cache")]
            for o in s.train.set:
                argv += ["--set", o]
            st.append(Stage(f"train_{m}", "train", argv, [cfg, *ext[:1]], [*up, "features"],
                            resumable=True))
            if "embed" not in study.skip:
                st.append(Stage(f"embed_{m}", "embed",
                                ["embed", "--run", str(root / f"train_{m}"), "--manifest",
                                 str(manifest), "--out", "{out}", "--cache-dir",
                                 str(root / "cache")], ext[:1], [f"train_{m}"]))
                reps[m.upper()] = root / f"embed_{m}" / "embeddings.parquet"
    rep_args = [x for name, path in reps.items() for x in ("--features", f"{name}={path}")]
    bag_names = set(reps)
    for combo in s.combined:  # e.g. FS+RNCE -> its own row FS_RNCE, never RNCE itself
        parts = combo.upper().split("+")
        if all(p in reps for p in parts):
            rep_args += ["--features", f"{'_'.join(parts)}={'+'.join(parts)}"]
            bag_names.add("_".join(parts))
    rep_deps = ["features", *[f"embed_{m}" for m in s.train.methods
                              if "train" not in study.skip and "embed" not in study.skip]]
    if "brain_age" not in study.skip:
        argv = ["brain-age", "--manifest", str(manifest), *rep_args, "--out", "{out}"]
        inputs = list(ext[:1])
        if s.brain_age_config:
            argv += ["--config", str(repo_rel(s.brain_age_config))]
            inputs.append(repo_rel(s.brain_age_config))
        for o in s.brain_age_set:
            argv += ["--set", o]
        st.append(Stage("brain_age", "brain_age", argv, inputs, [*up, *rep_deps]))
    if "probe" not in study.skip:
        st.append(Stage("probe", "probe", ["probe", "--manifest", str(manifest), *rep_args,
                                           "--out", "{out}"], ext[:1], [*up, *rep_deps]))
    pheno = str(root / "brain_age" / "pheno.tsv")
    if "gwas" not in study.skip:
        argv = ["gwas", *geno, "--pheno", pheno, "--covar",
                str(root / "brain_age" / "covar.tsv"), "--engine", s.gwas_engine,
                *filters, "--out", "{out}"]
        inputs = [*ext[1:], *flt_inputs]
        if s.gwas_config:
            argv += ["--config", str(repo_rel(s.gwas_config))]
            inputs.append(repo_rel(s.gwas_config))
        for o in s.gwas_set:
            argv += ["--set", o]
        names = s.covar_names
        st.append(Stage("gwas", "gwas", argv, inputs, [*up, "brain_age"],
                        dynamic=lambda r: _covar_names(r, names)))
    if "h2" not in study.skip and ld:
        st.append(Stage("h2", "h2", ["h2", "--bfile", ld, *filters, "--pheno", pheno, "--covar",
                                     str(root / "gwas" / COVARIATES_FILE), "--grm-cutoff",
                                     str(s.grm_cutoff), "--out", "{out}"],
                        [*ext[1:], *flt_inputs], [*up, "brain_age", "gwas"]))
    if "rg" not in study.skip and ld:
        for a, b in s.rg_pairs:
            if a.upper() not in bag_names or b.upper() not in bag_names:
                continue
            # the h2 stage's GRM (same genotypes) instead of computing it once per pair
            # (that GRM already holds the filters' samples and variants)
            grm = (["--grm", str(root / "h2" / "grm")] if "h2" not in study.skip
                   else ["--bfile", ld, *filters])
            st.append(Stage(f"rg_{a.lower()}_{b.lower()}", "rg",
                            ["rg", *grm, "--pheno", pheno, "--pheno-name",
                             f"BAG_{a.upper()},BAG_{b.upper()}", "--covar",
                             str(root / "gwas" / COVARIATES_FILE), "--grm-cutoff",
                             str(s.grm_cutoff), "--out", "{out}"],
                            ext[1:], [*up, "brain_age", "gwas",
                                      *(["h2"] if "h2" not in study.skip else [])]))
    if "enrich" not in study.skip and ld and celltypes:
        for name in s.enrich_phenotypes:
            if name.upper() not in reps:
                continue
            argv = ["enrich", "--sumstats", str(root / "gwas" / f"BAG_{name.upper()}.tsv.gz"),
                    "--bfile", ld, "--out", "{out}", "--build", c.build]
            for t in celltypes:
                argv += ["--celltypes", str(t)]
            if s.enrich_ldsc_seg:
                # LD scores depend on the reference and the tables, not the BAG: one
                # computation serves every enrich stage of the study
                argv += ["--ldsc-seg", "--ld-cache", str(root / "cache" / "ldsc")]
            st.append(Stage(f"enrich_{name.lower()}", "enrich", argv,
                            [*ext[1:], *([] if study.simulate else celltypes)], [*up, "gwas"]))
    if study.simulate is not None and "oracle" not in study.skip and "features" not in \
            study.skip:
        # ORACLE rows (simulated cohorts only; the one stage that reads truth/, labelled)
        argv = ["oracle", "--cohort", str(root / "simulate"), "--features", str(features),
                "--out", "{out}"]
        if "h2" not in study.skip:
            argv += ["--grm", str(root / "h2" / "grm")]
        st.append(Stage("oracle", "oracle", argv, [], [*up, "features",
                                                       *(["h2"] if "h2" not in study.skip
                                                         else [])]))
    if "report" not in study.skip:
        deps = [x.name for x in st if x.kind != "report"]
        st.append(Stage("report", "report", ["report", "--run", "{root}", "--out", "{out}"],
                        [], deps))
    unknown = [x.kind for x in st if x.kind not in STAGE_ORDER]
    assert not unknown, unknown
    return st
