"""One guarded way to read a small text input (sample and variant lists, ``.sample``
files): compression, encodings and truncation become an :class:`InputError` (exit 2)
that names the file and line, instead of a traceback.

- gzip (by its magic bytes, whatever the name) is decompressed; a truncated or corrupt
  stream is an error;
- a UTF-8 byte-order mark is dropped (editors on Windows write one); UTF-16/32 and bytes
  that are not UTF-8 (Latin-1 accents) are errors naming the line;
- an empty file is an error when ``allow_empty`` is false.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

from rnce_bag.core.errors import InputError

_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32",
         b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


def read_text_file(path: str | os.PathLike[str], what: str, allow_empty: bool = False) -> str:
    """The text of ``path`` (``what`` names it in messages, e.g. ``'--keep list'``).

    Raises
    ------
    InputError
        Missing or unreadable file, corrupt gzip, UTF-16/32, bytes that are not UTF-8, or
        an empty file (unless ``allow_empty``).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} '{p}' not found") from None
    except IsADirectoryError:
        raise InputError(f"{what} '{p}' is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"{what} '{p}' cannot be read: {exc.strerror}") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            raise InputError(f"{what} '{p}' is a gzip file that cannot be decompressed "
                             f"(truncated or corrupt: {exc})",
                             hint="recreate the file, or give it uncompressed") from None
    for bom, name in _BOMS.items():
        if data.startswith(bom):
            raise InputError(f"{what} '{p}' is encoded as {name}; rnce-bag reads UTF-8 text",
                             hint="save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)")
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"{what} '{p}', line {line}: byte 0x{data[exc.start]:02x} is not "
                         "UTF-8 text (a Latin-1 or Windows-1252 character?)",
                         hint="save the file as UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)") from None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise InputError(f"{what} '{p}', line {line}: a NUL byte; this is not a text file")
    if not allow_empty and not text.strip():
        raise InputError(f"{what} '{p}' is empty")
    return text


__all__ = ["read_text_file"]
