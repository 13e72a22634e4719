"""``run.json``: what produced a run directory.

Records the command line, the resolved config, versions of Python, the project and
the tools it used (read from package metadata and ``--version`` output: nothing heavy
is imported), the git revision, seeds, SHA-256 of inputs and start/end times. The
record is written atomically when the run starts (``status: running``) and again
when it ends (``ok`` or ``failed`` with the error).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from rnce_bag.core.errors import InputError
from rnce_bag.core.io import sha256_file, write_text
from rnce_bag.core.tools import probe_tool

PACKAGES = ("rnce-bag", "numpy", "pandas", "scipy", "scikit-learn", "torch", "hail", "pyspark",
            "pyldsc", "msprime", "nibabel")
TOOL_NAMES = ("java", "plink2", "gemma", "gcta64")


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Installed versions from package metadata (``None`` when not installed)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def tool_versions(names: Iterable[str] = TOOL_NAMES) -> dict[str, str | None]:
    """Versions of external programs found on PATH (``None`` when absent)."""
    return {n: (s.version or ("present" if s.found else None))
            for n in names for s in [probe_tool(n, timeout=10)]}


def git_revision(path: str | os.PathLike[str] | None = None) -> str | None:
    """``HEAD`` commit of the repository holding ``path`` (``+dirty`` if modified)."""
    where = Path(path) if path else Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=where, capture_output=True, text=True, timeout=10,
                               check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("+dirty" if dirty else "")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class RunRecord:
    """Provenance of one command writing into ``out_dir``.

    Use as a context manager: the record is written when entering (``running``) and
    on exit (``ok`` or ``failed``).

    Parameters
    ----------
    out_dir
        Run directory; ``run.json`` is written there.
    command
        Name of the command or stage.
    config
        Resolved config as plain data.
    inputs
        Input files whose SHA-256 is recorded (directories are listed, not hashed).
    seeds
        Random seeds used.
    argv
        Command line (defaults to ``sys.argv``).
    tools
        External programs whose versions are recorded.
    owns_folder
        The command writes into a fresh folder of its own: on exit, every entry in it is
        listed under ``contents``, which lets ``--overwrite`` later remove exactly that.
    """

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        command: str,
        config: Mapping[str, Any] | None = None,
        inputs: Iterable[str | os.PathLike[str]] = (),
        seeds: Mapping[str, int] | None = None,
        argv: list[str] | None = None,
        tools: Iterable[str] = TOOL_NAMES,
        owns_folder: bool = False,
    ) -> None:
        self.path = Path(out_dir) / "run.json"
        self.owns_folder = owns_folder
        self.data: dict[str, Any] = {
            "command": command,
            "argv": list(sys.argv if argv is None else argv),
            "cwd": os.getcwd(),
            "config": dict(config or {}),
            "seeds": dict(seeds or {}),
            "inputs": {},
            "outputs": {},
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "packages": package_versions(),
            "tools": tool_versions(tools),
            "git_revision": git_revision(),
            "started": _now(),
            "finished": None,
            "status": "running",
        }
        for item in inputs:
            self.add_input(item)

    def add_input(self, path: str | os.PathLike[str]) -> None:
        """Record an input's SHA-256 (or ``directory`` for a folder)."""
        p = Path(path)
        if p.is_file():
            self.data["inputs"][str(p)] = sha256_file(p)
        elif p.is_dir():
            self.data["inputs"][str(p)] = "directory"

    def add_output(self, path: str | os.PathLike[str]) -> None:
        """Record an output's SHA-256."""
        p = Path(path)
        if p.is_file():
            self.data["outputs"][str(p)] = sha256_file(p)

    def write(self) -> Path:
        """Write ``run.json`` atomically and return its path."""
        return write_text(self.path, json.dumps(self.data, indent=2, sort_keys=False,
                                                default=str) + "\n")

    def __enter__(self) -> RunRecord:
        try:
            previous = json.loads(self.path.read_text()).get("command")
        except (OSError, ValueError, AttributeError):
            previous = None
        if previous is not None and previous != self.data["command"]:
            raise InputError(f"{self.path.parent} holds the output of 'rnce-bag {previous}'; "
                             f"'rnce-bag {self.data['command']}' will not write over it",
                             hint="choose another --out for this command")
        self.write()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.data["finished"] = _now()
        if exc is None:
            self.data["status"] = "ok"
        elif isinstance(exc, KeyboardInterrupt):  # Ctrl-C or SIGTERM (Terminated)
            self.data["status"] = "interrupted"
            self.data["error"] = type(exc).__name__
        else:
            self.data["status"] = "failed"
            self.data["error"] = f"{type(exc).__name__}: {exc}"
        if self.owns_folder:
            from rnce_bag.core.outdir import LOCK, list_files

            ignore = (self.path.name, LOCK)
            self.data["contents"] = sorted(p.name for p in self.path.parent.iterdir()
                                           if p.name not in ignore)
            self.data["files"] = [f for f in list_files(self.path.parent) if f not in ignore]
        self.write()
