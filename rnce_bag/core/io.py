"""Atomic file writes and checksums.

A file is written to a temporary sibling in the same directory, flushed, fsynced and
renamed over the target, so a reader sees either the old file or the complete new
one, never a half-written one (convention 8 of docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from rnce_bag.core.errors import InputError

_CHUNK = 1 << 20


#: errno values that mean the disk (or the user's quota) is full
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def disk_full(path: str | os.PathLike[str] | None) -> InputError:
    """The error for a full disk while writing ``path`` (exit 2: the user frees space)."""
    where = f" while writing {path}" if path else ""
    return InputError(f"no space left on device{where}; previous outputs are intact (a "
                      "command publishes only finished runs)",
                      hint="free some space (or choose an --out on another disk) and rerun "
                           "the same command")


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path that is renamed to ``path`` when the block succeeds.

    For writers that need a file name (pyarrow, nibabel, matplotlib). On any
    exception the temporary file is removed and ``path`` is untouched.
    """
    target = Path(path)
    ensure_writable_dir(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs follow the umask
    try:
        yield tmp_path
        _fsync_file(tmp_path)
        os.replace(tmp_path, target)
        _fsync_dir(target.parent)
    except BaseException as exc:
        tmp_path.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in DISK_FULL:
            raise disk_full(target) from exc
        raise


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8"
) -> Iterator[IO]:
    """Open a temporary sibling of ``path`` for writing; rename it on success.

    Parameters
    ----------
    path
        Final file name.
    mode
        ``"w"`` (text) or ``"wb"`` (binary).
    encoding
        Text encoding; ignored in binary mode.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"'atomic_open': parameter 'mode': expected 'w' or 'wb', found {mode!r}")
    with atomic_path(path) as tmp:
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": ""}
        with open(tmp, mode, **kwargs) as fh:
            yield fh


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Atomically write ``text`` to ``path`` and return the path."""
    with atomic_open(path, "w") as fh:
        fh.write(text)
    return Path(path)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Atomically write ``data`` to ``path`` and return the path."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_table(table, path: str | os.PathLike[str], schema: str | None = None,
                float_format: str = "%.6g", header: bool = True) -> Path:
    """Atomically write a table as TSV (gzipped when ``path`` ends in ``.gz``) with the
    project's one convention: tab-separated,
    ``NA`` for a missing value, ``\\n`` line ends; or as Parquet when ``path`` ends in
    ``.parquet`` (no index). Validated first against ``schema`` (a name in
    :data:`rnce_bag.core.schema.SCHEMAS`) when given.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows x named columns.
    """
    if schema is not None:
        from rnce_bag.core.schema import validate_frame

        validate_frame(table, schema, source=str(path))
    if str(path).endswith(".parquet"):
        with atomic_path(path) as tmp:
            table.to_parquet(tmp, index=False)
        return Path(path)
    text = table.to_csv(sep="\t", index=False, header=header, na_rep="NA",
                        float_format=float_format, lineterminator="\n")
    if str(path).endswith(".gz"):  # reproducible bytes: no name or time in the header
        import gzip

        with atomic_open(path, "wb") as fh:
            fh.write(gzip.compress(text.encode(), mtime=0))
    else:
        with atomic_open(path) as fh:
            fh.write(text)
    return Path(path)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_writable_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and parents) if needed and check that it is writable.

    Raises
    ------
    InputError
        If the directory cannot be created or written to.
    """
    directory = Path(path)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create output directory '{directory}': {exc.strerror or exc}",
            hint="choose another --out or fix its permissions",
        ) from exc
    if not directory.is_dir():
        raise InputError(
            f"output path '{directory}' exists and is not a directory",
            hint="choose another --out",
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(
            f"output directory '{directory}' is not writable",
            hint="choose another --out or fix its permissions",
        )
    return directory


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def cached_build(cache: str | os.PathLike[str] | None, key: dict, files: list[str],
                 build, fallback: str | os.PathLike[str]) -> Path:
    """A folder of derived files, built once per ``key`` and input ``files``, then reused.

    Parameters
    ----------
    cache
        Shared cache folder, or ``None`` to build into ``fallback`` (reused when complete).
    key
        What the content depends on (JSON-serialisable), besides the files.
    files
        Input files: their resolved path, size and modification time enter the key.
    build
        ``build(folder)`` writes the content into an empty folder.
    fallback
        The folder used without a cache.

    Returns
    -------
    Path
        The complete folder. A build is written under a temporary name and renamed, so an
        interrupted build is never taken for a complete one.
    """
    import shutil

    digest = _build_digest(key, files)
    final = Path(fallback) if cache is None else Path(cache) / digest
    done = final / ".complete"
    if done.is_file() and done.read_text() == digest:
        return final
    tmp = final.parent / f".{final.name}.{os.getpid()}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        build(tmp)
        (tmp / ".complete").write_text(digest)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _build_digest(key: dict, files: list[str]) -> str:
    import json

    stats = [(str(Path(f).resolve()), Path(f).stat().st_size, Path(f).stat().st_mtime_ns)
             for f in files]
    return hashlib.sha256(json.dumps([key, stats], sort_keys=True, default=str)
                          .encode()).hexdigest()[:20]


def is_built(cache: str | os.PathLike[str], key: dict, files: list[str]) -> bool:
    """Whether :func:`cached_build` would reuse a complete folder for ``key`` and
    ``files`` in ``cache`` (without building anything)."""
    digest = _build_digest(key, files)
    done = Path(cache) / digest / ".complete"
    return done.is_file() and done.read_text() == digest
