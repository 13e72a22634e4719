"""Removing a previous output folder safely (``--overwrite``, stage reruns).

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
from collections.abc import Iterable
from pathlib import Path

from rnce_bag.core.errors import InputError

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
