"""Native BLAS for Hail's BlockMatrix on systems without ``libgfortran.so.3``.

Hail multiplies block matrices (``ld_prune``'s global stage, PCA's Gramian, kinship)
through netlib-java. Its "system" natives, bundled in Hail's jar, call the machine's
``libblas.so.3`` (OpenBLAS here) but were linked against GCC 4-7's ``libgfortran.so.3``;
current distributions (Debian 12, Ubuntu 20.04 and later) ship only
``libgfortran.so.5``, so the natives fail to load and Hail silently falls back to
pure-Java BLAS (F2J). Measured here: a 4,096 x 8,192 by 8,192 x 4,096 BlockMatrix
product takes 171 s with F2J and 7.2 s native (24x); at 10,000 x 500,000 the F2J
``ld_prune`` was 82% of the first Hail GWAS run.

``natives/gfortran3.c`` implements the eight ``libgfortran.so.3`` symbols the natives
use (string comparison, CPU time, the formatted WRITE of XERBLA's error message; none on
a BLAS or LAPACK compute path) from their documented semantics. It is compiled once per
source version into the user cache with the system C compiler and put on the JVM's
``LD_LIBRARY_PATH``. Where the system has ``libgfortran.so.3`` or no C compiler, nothing
changes; :func:`blas_from_log` says afterwards which BLAS Hail used.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

NATIVES = Path(__file__).with_name("natives")
SOURCE = NATIVES / "gfortran3.c"
VERSION_SCRIPT = NATIVES / "gfortran3.map"
LIBRARY = "libgfortran.so.3"
#: hail.log lines netlib-java writes when it loads, or fails to load, the system natives
_LOADED = "netlib-native_system-linux-x86_64.so"
_FAILED = "Failed to load implementation from: com.github.fommil.netlib.NativeSystemBLAS"


@dataclass(frozen=True)
class BlasSetup:
    """Where Hail's JVM finds ``libgfortran.so.3``.

    Attributes
    ----------
    library_dir
        Folder to put on ``LD_LIBRARY_PATH`` (the compiled shim), or None when nothing
        is needed or nothing could be done.
    detail
        One line for logs and ``rnce-bag doctor``.
    native
        Whether Hail is expected to load the native BLAS.
    """

    library_dir: str | None
    detail: str
    native: bool


def cache_root() -> Path:
    """``$RNCE_BAG_CACHE``, else ``$XDG_CACHE_HOME/rnce-bag``, else ``~/.cache/rnce-bag``."""
    if os.environ.get("RNCE_BAG_CACHE"):
        return Path(os.environ["RNCE_BAG_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rnce-bag"


def shim_dir(root: Path | None = None) -> Path:
    """The folder of the shim built from this source version: ``natives/<hash>``."""
    digest = hashlib.sha256(SOURCE.read_bytes() + VERSION_SCRIPT.read_bytes()).hexdigest()
    return (root or cache_root()) / "natives" / digest[:12]


def system_has_gfortran3() -> bool:
    """Whether the dynamic linker finds a ``libgfortran.so.3`` that is not our shim.

    Asked in a child process: a shim loaded into this one would answer for the system.
    """
    env = dict(os.environ)
    ours = str(cache_root() / "natives")
    env["LD_LIBRARY_PATH"] = os.pathsep.join(
        p for p in env.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p and ours not in p)
    proc = subprocess.run([sys.executable, "-c", f"import ctypes; ctypes.CDLL({LIBRARY!r})"],
                          env=env, capture_output=True, check=False)
    return proc.returncode == 0


def build_shim(dest: Path, cc: str | None = None) -> Path:
    """Compile the shim into ``dest/libgfortran.so.3`` (atomically) and return its path.

    Raises
    ------
    RuntimeError
        If no C compiler is found or the compile fails (its stderr in the message).
    """
    cc = cc or os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise RuntimeError("no C compiler (cc or gcc) on PATH")
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / LIBRARY
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        built = Path(tmp) / LIBRARY
        proc = subprocess.run(
            [cc, "-O2", "-shared", "-fPIC", f"-Wl,-soname,{LIBRARY}",
             f"-Wl,--version-script={VERSION_SCRIPT}", "-o", str(built), str(SOURCE)],
            capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{cc} failed: {proc.stderr.strip()[-500:]}")
        os.replace(built, target)
    return target


def prepare(root: Path | None = None) -> BlasSetup:
    """Find or build what Hail's netlib natives need on this machine (idempotent)."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return BlasSetup(None, f"no shim for {platform.system()} {platform.machine()}", False)
    if system_has_gfortran3():
        return BlasSetup(None, "system libgfortran.so.3", True)
    if not SOURCE.is_file():
        return BlasSetup(None, f"pure-Java BLAS (F2J, slow): {SOURCE} is not installed", False)
    folder = shim_dir(root)
    if not (folder / LIBRARY).is_file():
        try:
            build_shim(folder)
        except (RuntimeError, OSError) as exc:
            return BlasSetup(None, f"pure-Java BLAS (F2J, slow): could not build the "
                                   f"libgfortran.so.3 shim: {exc}", False)
    return BlasSetup(str(folder), f"native (libgfortran.so.3 shim in {folder})", True)


def with_library_dir(env: dict[str, str], library_dir: str | None) -> dict[str, str]:
    """``env`` with ``library_dir`` first on ``LD_LIBRARY_PATH`` (unchanged if None)."""
    if not library_dir:
        return dict(env)
    parts = [p for p in env.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p]
    if library_dir in parts:
        return dict(env)
    return {**env, "LD_LIBRARY_PATH": os.pathsep.join([library_dir, *parts])}


def blas_from_log(log_text: str) -> str:
    """Which BLAS a Hail session used, from its log: ``native``, ``java`` or ``unused``."""
    lines = log_text.splitlines()
    if any(_LOADED in line and "successfully loaded" in line for line in lines):
        return "native"
    if any(_FAILED in line for line in lines):
        return "java"
    return "unused"
