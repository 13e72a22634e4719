"""The file-system contract every command keeps, in one place.

A command (standalone or as a study's stage):

- writes only inside its ``--out``, into ``out/.<command>.partial`` first, and moves its
  files into ``out`` only when it succeeds (:func:`staged_run`), so an interrupted or
  failed run leaves the previous complete run (and its ``run.json``) as it was;
- creates or replaces only the files its own ``run.json`` says it wrote (``files``): a
  file of the same name that it did not write (the user's ``index.html``, a
  ``covariates.tsv`` passed as ``--covar``) is refused before any work (exit 2, naming
  it), and other files beside and inside ``out`` are never touched;
- never writes over one of its inputs, and never follows a symlink to write or delete
  (a link in ``out`` is replaced or removed as a link, never through it; a link where a
  folder is expected is refused);
- refuses an ``--out`` that holds another command's record, a study's ``run.json`` or a
  study stage's ``.stage.json``;
- holds an exclusive lock (``out/.lock``, opened without following links) while it
  writes, so two runs never share one folder.

A folder is only ever removed when the tool can show it wrote it (:func:`check_removable`):
a ``run.json`` of the expected command whose ``contents`` lists every entry in the folder
(or a stage stamp written by the pipeline). A folder that holds the current directory or
an input of the command, the file-system root or the home directory is refused whatever it
holds, and paths are resolved first, so ``..`` never reaches a folder above the one named.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rnce_bag.core.errors import InputError, RnceBagError

RUN_JSON = "run.json"
LOCK = ".lock"
#: a study stage folder's stamp (written by pipeline.runner)
STAGE_STAMP = ".stage.json"
_HINT = "choose a new --out, or remove the folder yourself if it should go"


def _contains(folder: Path, path: Path) -> bool:
    return path == folder or folder in path.parents


def read_run_record(folder: str | os.PathLike[str]) -> dict:
    """``folder/run.json`` as a dict: empty when it is absent, unreadable or not a JSON
    object (a record rnce-bag did not write is never trusted)."""
    return _run_record(Path(folder))


def _run_record(folder: Path) -> dict:
    try:
        data = json.loads((folder / RUN_JSON).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def recorded_command(folder: str | os.PathLike[str]) -> str | None:
    """The command named in ``folder/run.json`` (``None`` without a readable one); a
    study's record (``rnce-bag run``/``demo``) reads as ``run``."""
    data = _run_record(Path(folder))
    if "stages" in data and "command" not in data:
        return "run"
    return data.get("command")


def owned_files(folder: str | os.PathLike[str], command: str) -> set[str]:
    """Relative paths of the files that ``command``'s record in ``folder`` says it wrote
    (empty when the folder holds no record of that command). Records from before
    ``files`` existed list top-level ``contents``: every file under those entries."""
    folder = Path(folder)
    data = _run_record(folder)
    if data.get("command") != command:
        return set()
    if isinstance(data.get("files"), list):
        return {str(f) for f in data["files"]} | {RUN_JSON}
    owned = {RUN_JSON}
    for name in data.get("contents") or ():
        entry = folder / str(name)
        if entry.is_dir() and not entry.is_symlink():
            owned |= {str(p.relative_to(folder)) for p in entry.rglob("*")
                      if not p.is_dir() or p.is_symlink()}
        else:
            owned.add(str(name))
    return owned


def list_files(folder: Path) -> list[str]:
    """Relative paths of every non-folder entry under ``folder`` (links not followed)."""
    found = []
    for root, dirs, files in os.walk(folder):
        base = Path(root)
        for d in list(dirs):  # a link to a folder is an entry, not a folder to walk
            if (base / d).is_symlink():
                dirs.remove(d)
                files.append(d)
        found += [str((base / f).relative_to(folder)) for f in files]
    return sorted(found)


def _shown(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _resolved(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.abspath(path)).resolve()


def _inputs_within(out: Path, inputs: Iterable[str | os.PathLike[str]]) -> dict[str, str]:
    """Inputs inside ``out``: their path relative to ``out`` -> the path as given."""
    root = _resolved(out)
    found = {}
    for item in inputs:
        if item is None or str(item) == "":
            continue
        p = _resolved(item)
        if _contains(root, p) and p != root:
            found[str(p.relative_to(root))] = str(item)
    return found


def _check_no_link_on_the_way(out: Path, rel: str) -> None:
    """Every folder between ``out`` and ``out/rel`` is a real folder or absent."""
    cur = out
    for part in Path(rel).parts[:-1]:
        cur = cur / part
        if cur.is_symlink() or (cur.exists() and not cur.is_dir()):
            raise InputError(f"refusing to write {out / rel}: {cur} is a symbolic link or "
                             "a file where rnce-bag writes a folder", hint=_HINT)


def check_out(out: str | os.PathLike[str], command: str,
              inputs: Iterable[str | os.PathLike[str]] = (),
              writes: Iterable[str] = ()) -> Path:
    """Check, before any work, that ``command`` may write into ``out``; return it absolute.

    Parameters
    ----------
    out
        The command's ``--out`` (need not exist).
    command
        The command's name (``run.json``'s ``command``).
    inputs
        The command's input files: one that lies where the command writes is refused.
    writes
        Paths (relative to ``out``) the command is known to write: one that exists and
        was not written by an earlier run of the command is refused.

    Raises
    ------
    InputError
        Naming the file or record at fault and how to proceed.
    """
    out = Path(os.path.abspath(out))
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder", hint="choose another --out")
    if not out.exists():
        return out
    if (out / STAGE_STAMP).exists() and command != "run":
        raise InputError(f"{out} is a stage folder of the study in {out.parent}; 'rnce-bag "
                         f"{command}' will not write into it (the study would reuse what it "
                         "found there)", hint="rerun that stage with 'rnce-bag run STUDY "
                         f"--out {out.parent} --only {out.name}', or choose another --out")
    if (out / RUN_JSON).exists() or (out / RUN_JSON).is_symlink():
        if (out / RUN_JSON).is_symlink():
            raise InputError(f"{out / RUN_JSON} is a symbolic link; rnce-bag never writes "
                             "through one", hint="remove the link or choose another --out")
        try:
            data = json.loads((out / RUN_JSON).read_text())
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict):
            raise InputError(f"{out / RUN_JSON} is not a run record of rnce-bag (not a JSON "
                             f"object); 'rnce-bag {command}' will not replace it",
                             hint="choose another --out, or remove that file yourself")
        previous = recorded_command(out)
        if previous != command:
            what = ("a study run ('rnce-bag run')" if previous == "run"
                    else f"the output of 'rnce-bag {previous}'")
            raise InputError(f"{out} holds {what}; 'rnce-bag {command}' will not write over "
                             "it", hint="choose another --out for this command")
    owned = owned_files(out, command)
    foreign = sorted(w for w in writes if w not in owned and os.path.lexists(out / w))
    if foreign:
        raise InputError(f"refusing to write into {out}: it holds {_shown(foreign)}, which "
                         f"'rnce-bag {command}' did not write there and would replace",
                         hint="move those files away, or choose another --out")
    replaced = owned | set(writes)
    for rel, given in _inputs_within(out, inputs).items():
        if rel in replaced or any(rel.startswith(w.rstrip("/") + "/") for w in replaced):
            raise InputError(f"the input '{given}' is a file that 'rnce-bag {command}' writes "
                             f"in {out}; the run would replace its own input",
                             hint="copy the input elsewhere first, or choose another --out")
    return out


def check_removable(
    folder: str | os.PathLike[str],
    command: str,
    inputs: Iterable[str | os.PathLike[str]] = (),
    markers: Iterable[str] = (),
) -> Path:
    """Check that ``folder`` holds only what ``command`` wrote there; return it resolved.

    Parameters
    ----------
    folder
        The folder to be replaced (need not exist).
    command
        The command that must have written it (``run.json``'s ``command``).
    inputs
        Input paths of the command: a folder holding any of them is refused.
    markers
        Other files that prove ownership on their own (e.g. a pipeline stage stamp).

    Raises
    ------
    InputError
        Naming the folder, what was found and how to proceed.
    """
    given = Path(folder)
    if given.is_symlink():
        raise InputError(f"refusing to replace '{given}': it is a symbolic link (rnce-bag "
                         "never deletes through one)", hint=_HINT)
    target = _resolved(given)
    if target == Path(target.anchor) or target == Path.home().resolve():
        raise InputError(f"refusing to replace '{given}' ({target}): the file-system root or "
                         "the home directory", hint=_HINT)
    if _contains(target, Path.cwd().resolve()):
        raise InputError(f"refusing to replace '{given}' ({target}): it contains the current "
                         "directory", hint=_HINT)
    for item in inputs:
        p = _resolved(item)
        if _contains(target, p):
            raise InputError(f"refusing to replace '{given}': it contains the input '{item}'",
                             hint=_HINT)
    if not target.exists():
        return target
    if not target.is_dir():
        raise InputError(f"refusing to replace '{given}': it is not a folder written by "
                         f"rnce-bag {command}", hint=_HINT)
    if any((target / m).is_file() and not (target / m).is_symlink() for m in markers):
        return target
    data = _run_record(target)
    if data.get("command") != command:
        raise InputError(f"refusing to replace '{given}': it has no run.json of 'rnce-bag "
                         f"{command}', so it was not written by this command", hint=_HINT)
    owned = set(data.get("contents") or ()) | {RUN_JSON}
    foreign = sorted(p.name for p in target.iterdir() if p.name not in owned)
    if foreign:
        raise InputError(f"refusing to replace '{given}': it holds files that rnce-bag "
                         f"{command} did not write there ({_shown(foreign)})", hint=_HINT)
    return target


def remove_owned(
    folder: str | os.PathLike[str],
    command: str,
    inputs: Iterable[str | os.PathLike[str]] = (),
    markers: Iterable[str] = (),
) -> None:
    """Remove ``folder`` after :func:`check_removable` (nothing happens if it is absent)."""
    target = check_removable(folder, command, inputs, markers)
    if target.exists():
        shutil.rmtree(target)


def remove_entry(path: Path) -> None:
    """Remove a file, a link (never what it points to) or a real folder."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


def remove_leftover(path: str | os.PathLike[str], command: str) -> None:
    """Remove ``path``, a working folder an earlier run of ``command`` left behind, only
    if it is one: a real folder, empty or holding that command's ``run.json``.

    Raises
    ------
    InputError
        If ``path`` is a link, a file, or a folder rnce-bag did not leave there.
    """
    path = Path(path)
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_dir():
        raise InputError(f"{path} is in the way of 'rnce-bag {command}' (its working folder) "
                         "and is not one it left there", hint="move it away, then rerun")
    _refuse_if_locked(path / LOCK)
    if any(path.iterdir()) and _run_record(path).get("command") != command:
        raise InputError(f"{path} is in the way of 'rnce-bag {command}' (its working folder) "
                         "and holds files rnce-bag did not write", hint="move it away, then "
                         "rerun")
    shutil.rmtree(path)


def _refuse_if_locked(lock: Path) -> None:
    """:class:`InputError` when a live run holds ``lock`` (a plain file, never a link)."""
    if lock.is_symlink() or not lock.is_file():
        return
    with open(lock) as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = fh.read().strip() or "another process"
            raise InputError(f"{lock.parent} is being written by another run ({holder})",
                             hint="wait for it to finish or use another --out") from None
        fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def folder_lock(folder: str | os.PathLike[str], name: str = LOCK) -> Iterator[None]:
    """Hold an exclusive lock on ``folder/<name>`` (created if absent, never through a
    link; released by the kernel when the process dies, even by ``kill -9``).

    Raises
    ------
    InputError
        When another run holds it (naming its pid), or the lock file is a link, a folder or
        otherwise not a plain file.
    """
    from rnce_bag.core.io import ensure_writable_dir

    folder = ensure_writable_dir(folder)
    path = Path(folder) / name
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
            raise InputError(f"{path} is not a lock file rnce-bag can use (a symbolic link "
                             "or a folder); rnce-bag never writes through a link",
                             hint="remove it, then rerun") from None
        raise InputError(f"cannot open the lock file {path}: {exc.strerror}",
                         hint="fix the folder's permissions or choose another --out") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(f"{path} is not a plain file; rnce-bag cannot lock {folder}",
                         hint="remove it, then rerun")
    fh = os.fdopen(fd, "r+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # the file may have been removed by a run that released it after we opened it:
        # then a newer run may hold a new lock file under the name, and ours locks nothing
        st = os.stat(path, follow_symlinks=False)
        if (st.st_ino, st.st_dev) != (os.fstat(fd).st_ino, os.fstat(fd).st_dev):
            raise BlockingIOError
    except (BlockingIOError, FileNotFoundError):
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        fh.close()
        raise InputError(f"{folder} is being written by another run ({holder})",
                         hint="wait for it to finish or use another --out") from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}\n")
    fh.flush()
    try:
        yield
    finally:
        # removed while still held, so no run finds a stale file: one that opened it in
        # the meantime sees above that the name no longer leads to it
        with contextlib.suppress(OSError):
            os.unlink(path)
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def publish(stage: str | os.PathLike[str], out: str | os.PathLike[str], command: str,
            inputs: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Move a finished run from its staging folder ``stage`` into ``out``, file by file.

    The files the previous run of ``command`` wrote (its ``run.json``'s ``files``) and
    this run did not are removed; the new files replace those of the same name. Every
    other file in ``out`` is left alone; a new file whose name is taken by a file the
    command did not write, or by one of its ``inputs``, is refused before anything moves.
    ``run.json`` moves last, with the staging paths it recorded pointed at ``out``.
    """
    stage, out = Path(stage), Path(out)
    owned = owned_files(out, command)
    new = set(list_files(stage)) - {RUN_JSON}
    protected = set(_inputs_within(out, inputs))
    clash = sorted(f for f in new if os.path.lexists(out / f) and f not in owned)
    if clash:
        raise InputError(f"refusing to publish into {out}: it now holds {_shown(clash)}, "
                         f"which 'rnce-bag {command}' did not write there",
                         hint="move those files away and rerun")
    hit = sorted(protected & (new | owned))
    if hit:
        raise InputError(f"refusing to publish into {out}: the run would replace its own "
                         f"input {_shown(hit)}", hint="copy the input elsewhere first")
    for f in sorted(new):
        _check_no_link_on_the_way(out, f)
    for f in sorted(owned - new - {RUN_JSON}):
        target = out / f
        if Path(f).is_absolute() or ".." in Path(f).parts:
            continue
        _check_no_link_on_the_way(out, f)
        if os.path.lexists(target) and (target.is_symlink() or not target.is_dir()):
            target.unlink()
            _prune_empty(out, target.parent)
    for f in sorted(new):
        (out / f).parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / f, out / f)
    record = stage / RUN_JSON
    if record.exists():
        from rnce_bag.core.io import write_text

        write_text(out / RUN_JSON, record.read_text().replace(str(stage), str(out)))
    shutil.rmtree(stage)


def _prune_empty(root: Path, folder: Path) -> None:
    """Remove ``folder`` and its parents up to ``root`` while they are empty."""
    while folder != root and _contains(root, folder):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


@contextmanager
def signals_deferred() -> Iterator[None]:
    """SIGTERM and SIGINT wait until the block ends, then act as usual: publishing a run
    must not stop half-way, leaving some files of the new run beside the old
    ``run.json``. Their handlers are swapped for a recorder meanwhile (masking the signal
    would not do: any other thread of the process, a BLAS or torch worker, may receive
    it). Only the main thread can swap handlers; elsewhere nothing changes."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    kinds = (signal.SIGTERM, signal.SIGINT)
    old = {s: signal.signal(s, lambda signum, _frame: received.append(signum))
           for s in kinds}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        if received:  # now, with the command's own handler
            signal.raise_signal(received[0])


@contextmanager
def staged_run(out: str | os.PathLike[str], command: str, *,
               writes: Iterable[str] = (), protect: Iterable[str | os.PathLike[str]] = (),
               **record: Any) -> Iterator[tuple[Path, Any]]:
    """Run a command into a staging folder and publish it into ``out`` only on success.

    Yields ``(stage, run_record)``: the command writes every output under ``stage``
    (``out/.<command>.partial``) and records them on ``run_record``
    (:class:`~rnce_bag.core.provenance.RunRecord`, which lists the files it wrote).
    Before the work, :func:`check_out` checks ``out`` (``writes``: the paths the command
    knows it writes; the record's ``inputs`` and ``protect``: files never to replace) and
    :func:`folder_lock` locks it. On success the outputs replace the previous run's
    (:func:`publish`); on any error or interrupt the staging folder is removed, so ``out``
    keeps the previous complete run and nothing half-written or complete-looking from this
    one. An error that points at a file of the run (an external tool's log) keeps the
    staging folder as ``out/.<command>.failed``, with the message pointing there.

    Raises
    ------
    InputError
        If ``out`` is refused by :func:`check_out` or locked by another run.
    """

    inputs = [*record.get("inputs", ()), *protect]
    out = check_out(out, command, inputs, writes)
    created = not os.path.lexists(out)
    try:
        with _staged(out, command, inputs, writes, record) as staged:
            yield staged
    except BaseException:
        if created:  # a run that failed leaves no empty folder of its own behind
            with contextlib.suppress(OSError):
                out.rmdir()
        raise


@contextmanager
def _staged(out: Path, command: str, inputs: list, writes: Iterable[str],
            record: dict[str, Any]) -> Iterator[tuple[Path, Any]]:
    from rnce_bag.core.provenance import RunRecord

    with folder_lock(out):
        check_out(out, command, inputs, writes)  # again, now that no other run writes
        stage, failed = out / f".{command}.partial", out / f".{command}.failed"
        remove_leftover(stage, command)
        remove_leftover(failed, command)
        stage.mkdir()
        try:
            with RunRecord(stage, command, owns_folder=True, **record) as run_record:
                yield stage, run_record
            with signals_deferred():  # a signal mid-publish left a mix of two runs
                publish(stage, out, command, inputs)
        except BaseException as exc:
            if isinstance(exc, RnceBagError) and str(stage) in str(exc):
                # the error points at a log in the run: keep it, out of the way, for reading
                os.replace(stage, failed)
                exc.message = exc.message.replace(str(stage), str(failed))
                exc.hint = exc.hint and exc.hint.replace(str(stage), str(failed))
                exc.args = (exc.message,)
            else:
                shutil.rmtree(stage, ignore_errors=True)
            raise


def expected_writes(stage) -> list[str]:
    """The fixed file names (no ``{phenotype}``) ``stage`` (a
    :class:`rnce_bag.core.outputs.StageSpec`) declares."""
    return stage.writes()
