"""FreeSurfer stats of a cohort -> one feature table (``features.parquet``).

Columns follow the ``freesurfer_features`` schema: ``IID``, ``aseg.<s>.volume``,
``<atlas>.<hemi>.<region>.thickness|area|volume``, ``global.<measure>``, ``eTIV``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from rnce_bag.core.errors import InputError
from rnce_bag.core.schema import validate_frame
from rnce_bag.imaging.freesurfer import subject_features
from rnce_bag.imaging.manifest import load_manifest

log = logging.getLogger(__name__)

_SIZE_RE = re.compile(r"(\.volume|\.area|Vol|WhiteSurfArea)$")


def icv_normalise(features: pd.DataFrame) -> pd.DataFrame:
    """Divide volumes and areas by eTIV (ratio method); thickness and eTIV unchanged.

    Parameters
    ----------
    features
        Feature table with an ``eTIV`` column, shape (n, p).
    """
    out = features.copy()
    cols = [c for c in out.columns if c not in ("IID", "eTIV") and _SIZE_RE.search(c)
            and not c.endswith("-to-eTIV")]
    out[cols] = out[cols].div(out["eTIV"], axis=0)
    return out


def build_features(
    manifest: str | os.PathLike[str],
    atlases: tuple[str, ...] = ("aparc",),
    skip_missing: bool = False,
    normalise_icv: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Read every subject's FreeSurfer stats named by the manifest.

    Parameters
    ----------
    manifest
        Cohort manifest with ``IID`` and ``freesurfer_dir``.
    atlases
        Cortical parcellations to read (``aparc``, ``aparc.a2009s``, ``aparc.DKTatlas``).
    skip_missing
        Skip (and list) subjects whose stats are missing instead of failing.
    normalise_icv
        Apply :func:`icv_normalise`.
    progress
        ``progress(done, total)``.

    Returns
    -------
    features : DataFrame, shape (n_read, 1 + p)
    report : dict
        Subjects read and skipped (with reasons), FreeSurfer versions seen, columns
        dropped because some subjects lack them.
    """
    df = load_manifest(manifest, require=("freesurfer_dir",), check_exists=False)
    rows, skipped, versions = [], [], {}
    for k, (iid, fsdir) in enumerate(zip(df["IID"], df["freesurfer_dir"], strict=True)):
        stats = Path(fsdir) / "stats"
        try:
            if not stats.is_dir():
                raise InputError(f"subject {iid}: FreeSurfer stats folder '{stats}' does not "
                                 f"exist (manifest row {k + 1})",
                                 hint="fix freesurfer_dir, or pass --skip-missing to skip "
                                      "subjects without stats")
            feats, info = subject_features(stats, atlases)
        except InputError as exc:
            if not skip_missing:
                raise
            skipped.append({"IID": iid, "reason": exc.message})
            continue
        versions[info["fs_version"]] = versions.get(info["fs_version"], 0) + 1
        rows.append({"IID": iid, **feats})
        if progress is not None:
            progress(k + 1, len(df))
    if not rows:
        raise InputError(f"{manifest}: no subject had readable FreeSurfer stats "
                         f"({len(skipped)} skipped)")
    table = pd.DataFrame(rows)
    incomplete = [c for c in table.columns if table[c].isna().any()]
    if incomplete:
        log.warning("dropping %d feature(s) missing in some subjects: %s", len(incomplete),
                    ", ".join(incomplete[:5]))
        table = table.drop(columns=incomplete)
    cols = ["IID"] + sorted(c for c in table.columns if c not in ("IID", "eTIV")) + ["eTIV"]
    table = table[cols]
    if normalise_icv:
        table = icv_normalise(table)
    table = validate_frame(table, "freesurfer_features", source=str(manifest))
    report = {
        "manifest": str(manifest),
        "atlases": list(atlases),
        "icv_normalised": normalise_icv,
        "n_subjects_manifest": int(len(df)),
        "n_subjects_read": int(len(table)),
        "n_features": int(table.shape[1] - 1),
        "skipped": skipped,
        "dropped_incomplete_columns": incomplete,
        "freesurfer_versions": versions,
        "feature_groups": {g: int(sum(c.startswith(g + ".") for c in table.columns))
                           for g in ("aseg", "global", *atlases)},
        "eTIV_mean": float(np.mean(table["eTIV"])),
    }
    return table, report
