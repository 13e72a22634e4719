"""User-given names (phenotypes, covariates, cell types, representations) as file names.

A name read from a user's table becomes part of an output file name in several stages
(``OUT/<phenotype>.tsv.gz``, ``OUT/<phenotype>.hsq``, figures). :func:`file_stem`
encodes it as exactly one path component that cannot leave its folder: every character
outside ``[A-Za-z0-9_+=,.-]`` is percent-encoded (UTF-8 bytes, like a URL), a leading
dot is encoded too (so ``.``, ``..`` and hidden names are impossible), and an overlong
result is shortened with a hash of the whole name. Ordinary names (``BAG_FS``) are
unchanged; different names never share a stem.
"""

from __future__ import annotations

import hashlib

_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+=,.-")
_MAX = 150  # bytes; leaves room for suffixes within the usual 255-byte limit


def file_stem(name: str) -> str:
    """Encode ``name`` as one file-name component that stays inside its folder.

    Parameters
    ----------
    name
        Any non-empty string (a phenotype, covariate, cell-type or representation name).

    Returns
    -------
    str
        ``name`` itself when it only holds ``[A-Za-z0-9_+=,.-]`` and does not start with a
        dot; otherwise its percent-encoding (``../x`` -> ``%2E.%2Fx``).

    Raises
    ------
    ValueError
        If ``name`` is empty.
    """
    name = str(name)
    if not name:
        raise ValueError("'file_stem': parameter 'name': expected a non-empty name, found ''")
    out = []
    for i, ch in enumerate(name):
        if ch in _SAFE and not (i == 0 and ch == "."):
            out.append(ch)
        else:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
    stem = "".join(out)
    if len(stem) > _MAX:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
        stem = f"{stem[:_MAX - 17]}~{digest}"
    return stem

