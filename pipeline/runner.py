"""Running a study's stages in order, cached, locked and resumable.

Each stage is one stage function (:mod:`pipeline.registry`) run in a child process
(``python -m cli stage --params FILE``, the stage's params as JSON) so that a stage's
memory (torch, the Hail JVM) is returned when it ends and its own progress bars show.
A stage writes into ``OUT/.<stage>.partial`` and is renamed to ``OUT/<stage>`` only
when it succeeds, so an interrupted stage never looks complete; ``train`` stages keep
their partial folder and continue with ``resume``.

Caching: a stage's key is the SHA-256 of its params (all but the output folder), the
fingerprints of its external inputs (content hash up to 64 MB, size and modification
time beyond, so biobank genotypes are not re-read), the keys of the stages it depends
on and the code version (hash of the package sources). A stage whose
``OUT/<stage>/.stage.json`` holds the same key is skipped. ``OUT/run.json`` records every
stage's key, status, time and its own provenance; ``OUT/.params/<stage>.json`` the
params it last ran with. A lock file (``fcntl``; released by the kernel when the
process dies, even by ``kill -9``) stops two runs writing one folder; child processes
are killed with their parent (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnce_bag.core.errors import InputError, RnceBagError
from rnce_bag.core.io import sha256_file, write_text
from rnce_bag.core.outdir import (
    check_removable,
    folder_lock,
    list_files,
    read_run_record,
    recorded_command,
    remove_entry,
    remove_owned,
)
from rnce_bag.core.plugins import plugin_files
from rnce_bag.core.stage import StageParams, write_params
from rnce_bag.stages import TRAIN

REPO_PACKAGES = ("rnce_bag", "gwas", "report", "cli", "pipeline")
#: a resumable stage's checkpoint (the train stage's declared output)
CHECKPOINT_FILE = TRAIN.outputs["checkpoint"].file
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
    """One stage of the pipeline: its kind (a key of :data:`pipeline.registry.STAGES`)
    and its params, whose ``out`` is replaced by the stage's partial folder while it runs.

    ``inputs`` are external files whose fingerprints enter the key; ``dynamic`` completes
    the params at run time from what upstream stages wrote (never part of the key: the
    upstream keys already are). ``group`` names a set of stages selected together (the
    oracle's ``oracle_*`` stages: ``--only oracle``); a grouped stage is not selected by
    its kind (``--only rg`` selects the study's rg stages, not the oracle's).
    """

    name: str
    kind: str
    params: StageParams
    inputs: list[Path] = field(default_factory=list)
    deps: list[str] = field(default_factory=list)
    resumable: bool = False
    dynamic: Callable[[StageParams], StageParams] | None = None
    group: str | None = None


def run_child(kind: str, params: StageParams, params_file: Path,
              capture: bool = False) -> subprocess.CompletedProcess:
    """Run one stage in a child process given its params as JSON (written to
    ``params_file``); the child dies with this process."""
    write_params(params_file, kind, params)
    return subprocess.run(  # noqa: S603,PLW1509
        [sys.executable, "-m", "cli", "stage", "--params", str(params_file)], check=False,
        preexec_fn=_die_with_parent, capture_output=capture, text=capture)


def code_version() -> str:
    """SHA-256 of every source file of the three packages and of the plug-ins (any code
    change reruns)."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for pkg in REPO_PACKAGES:
        for p in sorted((root / pkg).rglob("*")):
            if p.is_file() and p.suffix in (".py", ".j2", ".yaml", ".tsv") \
                    and "__pycache__" not in p.parts:
                h.update(str(p.relative_to(root)).encode())
                h.update(p.read_bytes())
    for p in plugin_files():  # RNCE_BAG_PLUGINS: methods and engines outside the packages
        h.update(str(p).encode())
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
    """SHA-256 of the stage's name, kind, params (not ``out``), inputs, deps and code."""
    payload = {"name": stage.name, "kind": stage.kind, "params": stage.params.key_payload(),
               "deps": dep_keys, "code": code,
               "inputs": {str(p): fingerprint(p) for p in stage.inputs}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def run_lock(root: Path):
    """Exclusive lock on ``root/.lock`` (:func:`rnce_bag.core.outdir.folder_lock`)."""
    return folder_lock(root)


def output_digest(folder: Path) -> dict[str, str]:
    """What a stage folder's stamp vouches for: each file (relative path) with its size
    and SHA-256, or its size and modification time beyond 64 MB (cheap to verify)."""
    found = {}
    for rel in list_files(folder):
        if rel == STAMP:
            continue
        p = folder / rel
        st = p.lstat()
        if p.is_symlink():
            found[rel] = "link:" + os.readlink(p)
        elif st.st_size > HASH_LIMIT:
            found[rel] = f"stat:{st.st_size}:{st.st_mtime_ns}"
        else:
            found[rel] = f"{st.st_size}:{sha256_file(p)}"
    return found


def reusable(final: Path, key: str) -> tuple[bool, str | None]:
    """Whether the stage folder ``final`` holds a finished result for ``key``.

    Returns ``(ok, why_not)``: ``why_not`` says why a stamped folder is recomputed (a
    corrupt stamp, or outputs that differ from what the stamp vouches for); ``None`` when
    there is no stamp or the key differs (an ordinary rerun).
    """
    stamp = final / STAMP
    if not stamp.exists():
        return False, None
    try:
        data = json.loads(stamp.read_text())
        recorded_key, outputs = data["key"], data.get("outputs")
    except (OSError, ValueError, TypeError, KeyError):
        return False, f"its stamp {stamp} is unreadable"
    if recorded_key != key:
        return False, None
    if not isinstance(outputs, dict):
        return False, f"its stamp {stamp} records no outputs to verify"
    if output_digest(final) != outputs:
        now = output_digest(final)
        changed = sorted(k for k in outputs.keys() | now.keys()
                         if outputs.get(k) != now.get(k))
        return False, (f"its outputs changed since it ran ({', '.join(changed[:3])}"
                       + (f" and {len(changed) - 3} more" if len(changed) > 3 else "") + ")")
    return True, None


def _die_with_parent() -> None:  # runs in the child before exec
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def select(stages: list[Stage], name: str | None) -> set[str]:
    """Names of the stages matching ``name``: a stage name, a kind (e.g. ``train``; the
    stages outside groups) or a group (``oracle``)."""
    if name is None:
        return set()
    hit = {s.name for s in stages
           if name in (s.name, s.group) or (s.group is None and name == s.kind)}
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
    previous = recorded_command(root)
    if previous not in (None, "run"):
        raise InputError(f"{root} holds the output of 'rnce-bag {previous}'; a study will not "
                         "write over it", hint="choose another --out for the study")
    record: dict[str, Any] = {"command": "run", "study": study, "code_version": code,
                              "started": _now(), "argv": sys.argv, "status": "running",
                              "stages": {}}
    keys: dict[str, str] = {}
    with run_lock(root):
        try:
            for i, st in enumerate(stages):
                final, partial = root / st.name, root / f".{st.name}.partial"
                key = stage_key(st, [keys[d] for d in st.deps], code)
                keys[st.name] = key
                stamp = final / STAMP
                cached, why = reusable(final, key)
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
                    echo(f"[{i + 1}/{len(stages)}] {st.name}: running"
                         + (f" (not reused: {why})" if why and not forced else ""))
                    check_removable(final, "run", markers=[STAMP])  # before the work, not after
                    if os.path.lexists(partial) and (partial.is_symlink() or not (
                            st.resumable and (partial / CHECKPOINT_FILE).exists())):
                        remove_entry(partial)  # a link as a link, never what it points to
                    resume = st.resumable and (partial / CHECKPOINT_FILE).exists()
                    params = st.params.model_copy(update={"out": partial})
                    if st.dynamic is not None:
                        params = st.dynamic(params)
                    if resume:
                        params = params.model_copy(update={"resume": True})
                    tic = time.perf_counter()
                    proc = run_child(st.kind, params, root / ".params" / f"{st.name}.json")
                    if proc.returncode != 0:
                        record["status"] = "failed"
                        record["failed_stage"] = st.name
                        entry["status"] = "failed"
                        record["stages"][st.name] = entry
                        write_text(root / "run.json", json.dumps(record, indent=2) + "\n")
                        raise StageFailed(st.name, proc.returncode)
                    write_text(partial / STAMP, json.dumps(
                        {"key": key, "kind": st.kind, "params": params.model_dump(mode="json"),
                         "finished": _now(), "outputs": output_digest(partial)},
                        indent=2) + "\n")
                    remove_owned(final, "run", markers=[STAMP])  # only a stage folder of ours
                    partial.rename(final)
                    entry.update(status="ran", seconds=round(time.perf_counter() - tic, 1),
                                 resumed=resume)
                    echo(f"    {st.name}: done in {entry['seconds']:.1f} s")
                provenance = read_run_record(final)
                if provenance:
                    entry["provenance"] = provenance
                record["stages"][st.name] = entry
                write_text(root / "run.json", json.dumps(record, indent=2) + "\n")
        except BaseException as exc:  # never leave run.json saying "running"
            if record["status"] == "running":
                interrupted = isinstance(exc, KeyboardInterrupt)  # Ctrl-C or SIGTERM
                record.update(status="interrupted" if interrupted else "failed",
                              finished=_now())
                if not interrupted:
                    record["error"] = str(exc).splitlines()[0] if str(exc) else \
                        type(exc).__name__
                write_text(root / "run.json", json.dumps(record, indent=2) + "\n")
            raise
        record.update(status="ok", finished=_now())
        write_text(root / "run.json", json.dumps(record, indent=2) + "\n")
    return record
