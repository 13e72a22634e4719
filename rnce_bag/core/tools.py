"""Discovery of external programs: where they are, their version, how to install them.

Used by ``rnce-bag doctor``, by the engines that wrap these programs and by the run
provenance. Programs are run without a shell and with a timeout.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

from rnce_bag.core.errors import ExternalToolError


@dataclass(frozen=True)
class ToolSpec:
    """How to find, version and install one external program.

    Parameters
    ----------
    name
        Display name.
    executables
        Candidate executable names, first found wins.
    version_args
        Arguments that make the program print its version.
    version_regex
        Pattern whose first group is the version, searched in stdout + stderr.
    install
        The exact command (or instruction) that installs it.
    purpose
        What it enables in rnce-bag.
    """

    name: str
    executables: tuple[str, ...]
    version_args: tuple[str, ...]
    version_regex: str
    install: str
    purpose: str


@dataclass(frozen=True)
class ToolStatus:
    """Result of probing a program."""

    name: str
    found: bool
    path: str | None
    version: str | None
    install: str
    purpose: str
    detail: str = ""


TOOLS: dict[str, ToolSpec] = {
    t.name: t
    for t in (
        ToolSpec(
            "java",
            ("java",),
            ("-version",),
            r'version "([^"]+)"',
            "sudo apt-get install openjdk-17-jre-headless",
            "JVM for Hail's local Spark",
        ),
        ToolSpec(
            "plink2",
            ("plink2",),
            ("--version",),
            r"PLINK (v[\w.\-]+(?: [\w.]+)?)",
            "sudo apt-get update && sudo apt-get install plink2",
            "GWAS engine --engine plink2, GRM cross-check",
        ),
        ToolSpec(
            "gemma",
            ("gemma",),
            ("-h",),
            r"GEMMA ([\d.]+)",
            "sudo apt-get update && sudo apt-get install gemma",
            "reference for the embedded GREML",
        ),
        ToolSpec(
            "gcta64",
            ("gcta64", "gcta"),
            ("--version",),
            r"version v?([\w.\-]+)",
            "download GCTA from https://yanglab.westlake.edu.cn/software/gcta/ and put "
            "gcta64 on PATH",
            "--backend gcta for h2/rg",
        ),
        ToolSpec(
            "ldsc.py",
            ("ldsc.py",),
            ("--help",),
            r"LD Score Regression \(LDSC\)\s*\n?\s*\*?\s*Version ([\w.]+)",
            "clone bulik/ldsc, create its Python environment and put ldsc.py and "
            "munge_sumstats.py on PATH",
            "--backend ldsc-cli for h2/rg",
        ),
        ToolSpec(
            "bolt",
            ("bolt",),
            ("--help",),
            r"BOLT-LMM, v([\w.]+)",
            "sudo apt-get update && sudo apt-get install bolt-lmm",
            "GWAS engine --engine bolt (BOLT-LMM: a mixed model that keeps relatives)",
        ),
        ToolSpec(
            "chromium",
            ("chromium", "chromium-browser", "google-chrome"),
            ("--version",),
            r"(?:Chromium|Chrome) ([\d.]+)",
            "sudo apt-get install chromium",
            "report screenshots (optional)",
        ),
    )
}


def find_executable(name: str) -> str | None:
    """Path of the first executable of tool ``name`` on PATH, or ``None``."""
    spec = TOOLS[name]
    for exe in spec.executables:
        path = shutil.which(exe)
        if path:
            return path
    return None


def probe_tool(name: str, timeout: float = 20.0) -> ToolStatus:
    """Locate tool ``name`` and read its version.

    A program that is present but whose version cannot be read is reported as found
    with ``version=None`` and the reason in ``detail``.
    """
    if name not in TOOLS:
        raise KeyError(f"'probe_tool': parameter 'name': expected one of {sorted(TOOLS)}, "
                       f"found {name!r}")
    spec = TOOLS[name]
    path = find_executable(name)
    if path is None:
        return ToolStatus(name, False, None, None, spec.install, spec.purpose, "not on PATH")
    try:
        proc = subprocess.run(
            [path, *spec.version_args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return ToolStatus(name, True, path, None, spec.install, spec.purpose, f"cannot run: {exc}")
    text = (proc.stdout or "") + "\n" + (proc.stderr or "")
    match = re.search(spec.version_regex, text)
    version = match.group(1).strip() if match else None
    detail = "" if version else "version not recognised"
    return ToolStatus(name, True, path, version, spec.install, spec.purpose, detail)


def require_tool(name: str) -> str:
    """Path of tool ``name``; raise :class:`ExternalToolError` (exit 3) when absent."""
    path = find_executable(name)
    if path is None:
        spec = TOOLS[name]
        raise ExternalToolError(
            f"'{name}' is required for {spec.purpose} but was not found on PATH",
            hint=f"install it: {spec.install}",
        )
    return path


def run_tool(cmd: list[str], timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run an external program (no shell, output captured as text) in a process group of
    its own, and end the whole group when this process is interrupted (Ctrl-C, SIGTERM)
    or fails: a wrapper script (Debian's ``plink2`` is one) and the binary it started
    stop together, instead of the binary running on at full CPU.

    Returns
    -------
    subprocess.CompletedProcess
        ``returncode``, ``stdout`` and ``stderr`` as :func:`subprocess.run` gives them.
    """
    import os
    import signal

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,  # noqa: S603
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, None)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        try:  # the group may hold children that outlived the leader
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
