"""Output folders: replacing a previous run safely, and publishing a run only when done.

:func:`staged_run` lets a command write into ``out/.<command>.partial`` and move its
outputs into ``out`` only when it succeeds, so an interrupted or failed run leaves the
previous complete run (and its ``run.json``) as it was.

A folder is only ever removed when the tool can show it wrote it: a ``run.json`` of the
expected command whose ``contents`` lists every entry in the folder (or a stage stamp
written by the pipeline). A folder that holds the current directory or an input of the
command, the file-system root or the home directory is refused whatever it holds, and
paths are resolved first, so ``..`` never reaches a folder above the one named.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rnce_bag.core.errors import InputError, RnceBagError

RUN_JSON = "run.json"


def _contains(folder: Path, path: Path) -> bool:
    return path == folder or folder in path.parents


def _run_record(folder: Path) -> dict:
    try:
        data = json.loads((folder / RUN_JSON).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def recorded_command(folder: str | os.PathLike[str]) -> str | None:
    """The command named in ``folder/run.json`` (``None`` without a readable one)."""
    return _run_record(Path(folder)).get("command")


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
    target = Path(os.path.abspath(given)).resolve()
    hint = "choose a new --out, or remove the folder yourself if it should go"
    if target == Path(target.anchor) or target == Path.home().resolve():
        raise InputError(f"refusing to replace '{given}' ({target}): the file-system root or "
                         "the home directory", hint=hint)
    if _contains(target, Path.cwd().resolve()):
        raise InputError(f"refusing to replace '{given}' ({target}): it contains the current "
                         "directory", hint=hint)
    for item in inputs:
        p = Path(os.path.abspath(item)).resolve()
        if _contains(target, p):
            raise InputError(f"refusing to replace '{given}': it contains the input '{item}'",
                             hint=hint)
    if not target.exists():
        return target
    if not target.is_dir() or target.is_symlink():
        raise InputError(f"refusing to replace '{given}': it is not a folder written by "
                         f"rnce-bag {command}", hint=hint)
    if any((target / m).is_file() for m in markers):
        return target
    data = _run_record(target)
    if data.get("command") != command:
        raise InputError(f"refusing to replace '{given}': it has no run.json of 'rnce-bag "
                         f"{command}', so it was not written by this command", hint=hint)
    owned = set(data.get("contents") or ()) | {RUN_JSON}
    foreign = sorted(p.name for p in target.iterdir() if p.name not in owned)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5
                                          else "")
        raise InputError(f"refusing to replace '{given}': it holds files that rnce-bag "
                         f"{command} did not write there ({shown})", hint=hint)
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


def _remove_entry(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def publish(stage: str | os.PathLike[str], out: str | os.PathLike[str], command: str) -> None:
    """Move a finished run from its staging folder ``stage`` into ``out``.

    The previous run of ``command`` in ``out`` (its ``run.json`` ``contents``) is replaced
    entry by entry, so no output of an older run stays beside the new ``run.json``;
    files that the command did not write are left alone. ``run.json`` moves last, with
    the staging paths it recorded pointed at ``out``.
    """
    stage, out = Path(stage), Path(out)
    previous = _run_record(out)
    stale = set(previous.get("contents") or ()) if previous.get("command") == command else set()
    new = {p.name for p in stage.iterdir()}
    for name in sorted(stale - new - {RUN_JSON}):
        if "/" not in name and name not in ("", ".", ".."):
            _remove_entry(out / name)
    for name in sorted(new - {RUN_JSON}):
        _remove_entry(out / name)
        os.replace(stage / name, out / name)
    record = stage / RUN_JSON
    if record.exists():
        from rnce_bag.core.io import write_text

        write_text(out / RUN_JSON, record.read_text().replace(str(stage), str(out)))
    shutil.rmtree(stage)


@contextmanager
def staged_run(out: str | os.PathLike[str], command: str, **record: Any
               ) -> Iterator[tuple[Path, Any]]:
    """Run a command into a staging folder and publish it into ``out`` only on success.

    Yields ``(stage, run_record)``: the command writes every output under ``stage``
    (``out/.<command>.partial``) and records them on ``run_record``
    (:class:`~rnce_bag.core.provenance.RunRecord`, which lists the folder's contents).
    On success the outputs replace the previous run's (:func:`publish`); on any error
    or interrupt the staging folder is removed, so ``out`` keeps the previous complete
    run and nothing half-written or complete-looking from this one. An error that
    points at a file of the run (an external tool's log) keeps the staging folder as
    ``out/.<command>.failed``, with the message pointing there.

    Raises
    ------
    InputError
        If ``out`` holds another command's ``run.json``.
    """
    from rnce_bag.core.io import ensure_writable_dir
    from rnce_bag.core.provenance import RunRecord

    out = Path(os.path.abspath(out))
    ensure_writable_dir(out)
    previous = recorded_command(out)
    if previous is not None and previous != command:
        raise InputError(f"{out} holds the output of 'rnce-bag {previous}'; 'rnce-bag "
                         f"{command}' will not write over it",
                         hint="choose another --out for this command")
    stage, failed = out / f".{command}.partial", out / f".{command}.failed"
    _remove_entry(stage)
    _remove_entry(failed)
    stage.mkdir()
    try:
        with RunRecord(stage, command, owns_folder=True, **record) as run_record:
            yield stage, run_record
        publish(stage, out, command)
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
