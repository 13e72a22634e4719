"""``rnce-bag manifest``: a cohort manifest from a FreeSurfer SUBJECTS_DIR and/or a BIDS
dataset, as users have their data.

- **SUBJECTS_DIR**: one folder per subject holding ``stats/`` and/or ``mri/`` (FreeSurfer's
  own ``fsaverage*`` and folders with neither are not subjects). ``freesurfer_dir`` is the
  folder; without a BIDS T1, ``t1_path`` is FreeSurfer's ``mri/orig.mgz`` (the input T1,
  conformed, not skull-stripped; ``register`` strips it with ``mri/brainmask.mgz``).
- **BIDS**: ``sub-<label>/[ses-<label>/]anat/sub-<label>[_ses-<label>]..._T1w.nii[.gz]``;
  ``participants.tsv`` gives ``age`` and ``sex``. With several sessions the first in
  sorted order is taken unless ``session`` names one; with several T1w runs, the first.
  Every choice is listed in the report.
- Subjects are matched by label (``sub-01`` in BIDS is ``sub-01`` or ``01`` in the
  SUBJECTS_DIR); ``IID`` is the BIDS ``participant_id`` (``sub-01``), else the folder name.

Each subject's row lists what is missing (``missing``: ``t1``, ``freesurfer_dir``,
``stats``, ``aparc_stats``, ``brainmask``, ``age``, ``sex``), so the next command's
choice (``features --skip-missing``, dropping rows) is the user's, made knowingly.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from rnce_bag.core.errors import InputError
from rnce_bag.core.schema import read_table

#: FreeSurfer's template subjects, never cohort members
FS_TEMPLATES = re.compile(r"^(fsaverage\d*|fsaverage_sym|cvs_avg35.*|bert)$")
T1W = re.compile(r"_T1w\.nii(\.gz)?$")
SEXES = {"m": "M", "male": "M", "1": "M", "f": "F", "female": "F", "2": "F"}
COLUMNS = ["IID", "age", "sex", "t1_path", "freesurfer_dir", "session", "missing"]


def label(name: str) -> str:
    """A subject's label for matching: ``sub-01`` and ``01`` are both ``01``."""
    return name.removeprefix("sub-")


def freesurfer_subjects(subjects_dir: Path) -> dict[str, Path]:
    """Label -> subject folder of every subject in a SUBJECTS_DIR."""
    if not subjects_dir.is_dir():
        raise InputError(f"--subjects-dir {subjects_dir} is not a folder",
                         hint="give FreeSurfer's SUBJECTS_DIR (one folder per subject)")
    found = {}
    for d in sorted(subjects_dir.iterdir()):
        if not d.is_dir() or FS_TEMPLATES.match(d.name) or d.name.startswith("."):
            continue
        if (d / "stats").is_dir() or (d / "mri").is_dir():
            if label(d.name) in found:
                raise InputError(f"--subjects-dir {subjects_dir}: {found[label(d.name)].name} "
                                 f"and {d.name} are the same subject label",
                                 hint="keep one folder per subject")
            found[label(d.name)] = d
    return found


def bids_t1s(bids: Path, session: str | None = None) -> dict[str, dict]:
    """Label -> ``{"t1": path, "session": label or '', "note": str}`` of a BIDS dataset."""
    if not bids.is_dir():
        raise InputError(f"--bids {bids} is not a folder", hint="give the BIDS dataset's root")
    found = {}
    for sub in sorted(bids.glob("sub-*")):
        if not sub.is_dir():
            continue
        sessions = sorted(p for p in sub.glob("ses-*") if p.is_dir())
        notes = []
        if session is not None:  # that session, or no T1 for this subject
            sessions = [p for p in sessions if p.name == f"ses-{session}"]
            folders = [sessions[0] / "anat"] if sessions else []
        else:
            if len(sessions) > 1:
                notes.append(f"{len(sessions)} sessions, took {sessions[0].name}")
            folders = [sessions[0] / "anat"] if sessions else [sub / "anat"]
        t1s = sorted(p for f in folders if f.is_dir() for p in f.iterdir() if T1W.search(p.name))
        if len(t1s) > 1:
            notes.append(f"{len(t1s)} T1w images, took {t1s[0].name}")
        found[label(sub.name)] = {"t1": t1s[0] if t1s else None,
                                  "session": sessions[0].name.removeprefix("ses-")
                                  if sessions else "", "note": "; ".join(notes)}
    return found


def participants(bids: Path) -> pd.DataFrame:
    """``participants.tsv`` as ``label, age, sex`` (sex as M/F, other codes missing)."""
    path = bids / "participants.tsv"
    if not path.is_file():
        return pd.DataFrame(columns=["label", "age", "sex"])
    table = read_table(path)
    if "participant_id" not in table.columns:
        raise InputError(f"{path}: no participant_id column (found "
                         f"{', '.join(map(str, table.columns))})",
                         hint="BIDS requires participant_id as the first column")
    out = pd.DataFrame({"label": table["participant_id"].astype(str).map(label)})
    out["age"] = pd.to_numeric(table["age"], errors="coerce") if "age" in table else float("nan")
    sex = table["sex"].astype(str).str.strip().str.lower() if "sex" in table else None
    out["sex"] = sex.map(SEXES) if sex is not None else None
    dup = out["label"][out["label"].duplicated()]
    if len(dup):
        raise InputError(f"{path}: participant_id {dup.iloc[0]!r} appears twice",
                         hint="keep one row per participant")
    return out


def build_manifest(subjects_dir: Path | None, bids: Path | None,
                   session: str | None = None) -> tuple[pd.DataFrame, dict]:
    """The manifest (``COLUMNS``; absolute paths) and a report of what was found.

    Raises
    ------
    InputError
        Neither source given, a source that is not a folder, or no subject found.
    """
    if subjects_dir is None and bids is None:
        raise InputError("give --subjects-dir (FreeSurfer) and/or --bids")
    fs = freesurfer_subjects(subjects_dir) if subjects_dir else {}
    t1s = bids_t1s(bids, session) if bids else {}
    info = participants(bids).set_index("label") if bids else pd.DataFrame()
    labels = sorted(set(fs) | set(t1s))
    if not labels:
        raise InputError("no subject found: " + (f"{subjects_dir} has no folder with stats/ "
                         "or mri/" if subjects_dir else "") + (f"; {bids} has no sub-* folder"
                                                               if bids else ""))
    rows, notes = [], {}
    for lab in labels:
        fsdir, b = fs.get(lab), t1s.get(lab, {})
        t1 = b.get("t1")
        if t1 is None and fsdir is not None and (fsdir / "mri" / "orig.mgz").is_file():
            t1 = fsdir / "mri" / "orig.mgz"
        missing = []
        if t1 is None:
            missing.append("t1")
        if fsdir is None:
            missing.append("freesurfer_dir")
        else:
            if not (fsdir / "stats" / "aseg.stats").is_file():
                missing.append("stats")
            if not all((fsdir / "stats" / f"{h}.aparc.stats").is_file() for h in ("lh", "rh")):
                missing.append("aparc_stats")
            if not (fsdir / "mri" / "brainmask.mgz").is_file():
                missing.append("brainmask")
        age = info["age"].get(lab) if len(info) else None
        sex = info["sex"].get(lab) if len(info) else None
        if bids is not None:
            missing += [k for k, v in (("age", age), ("sex", sex)) if v is None or pd.isna(v)]
        iid = f"sub-{lab}" if lab in t1s else fsdir.name  # type: ignore[union-attr]
        rows.append({"IID": iid, "age": age, "sex": sex,
                     "t1_path": str(t1.resolve()) if t1 else None,
                     "freesurfer_dir": str(fsdir.resolve()) if fsdir else None,
                     "session": b.get("session", ""), "missing": ",".join(missing)})
        if b.get("note"):
            notes[iid] = b["note"]
    table = pd.DataFrame(rows, columns=COLUMNS)
    counts = {k: int(table["missing"].str.split(",").apply(lambda m, k=k: k in m).sum())
              for k in ("t1", "freesurfer_dir", "stats", "aparc_stats", "brainmask", "age",
                        "sex")}
    report = {"subjects_dir": str(subjects_dir) if subjects_dir else None,
              "bids": str(bids) if bids else None, "session": session,
              "n_subjects": len(table), "n_complete": int((table["missing"] == "").sum()),
              "missing": counts, "choices": notes,
              "only_freesurfer": sorted(set(fs) - set(t1s)) if bids and subjects_dir else [],
              "only_bids": sorted(set(t1s) - set(fs)) if bids and subjects_dir else []}
    return table, report


def check_manifest(table: pd.DataFrame, source: str | os.PathLike[str]) -> None:
    """The check ``features``/``register``/``train`` make on the T1s of a manifest, run on
    the one being written (``source``: its path, for messages): every T1 named has a
    readable header."""
    from rnce_bag.imaging.manifest import check_t1_headers

    with_t1 = table[table["t1_path"].notna()].reset_index(drop=True)
    check_t1_headers(with_t1, source)
