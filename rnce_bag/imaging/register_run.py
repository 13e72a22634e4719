"""``rnce-bag register``: every T1 of a manifest to MNI152, in parallel, cached, with QC.

Each subject is one ANTs registration (:func:`rnce_bag.imaging.registration.register_t1`)
in a worker process (``jobs`` of them, one ITK thread each). Its result is kept in a cache
folder keyed by the SHA-256 of the T1 (and of its FreeSurfer ``brainmask.mgz``) and the
settings, written under a temporary name and renamed when complete, so an interrupted run
resumes where it stopped and an unchanged subject is never registered twice. A subject
that fails (unreadable image, ANTs error) gets a ``failed: <message>`` row in the QC table
and the others go on; the command fails only when none succeeds.

Outputs (into the staging folder of :func:`rnce_bag.core.outdir.staged_run`):
``images/<IID>.nii.gz`` (MNI grid at the chosen spacing), ``transforms/<IID>/``,
``manifest.tsv`` (the input manifest's rows of the registered subjects, ``t1_path``
pointing at the registered images, ready for ``features``/``train``),
``registration_qc.tsv``, ``registration_qc.png`` (mid-slices, lowest overlap first) and
``register_report.json``.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

from rnce_bag.core.errors import ExternalToolError, InputError
from rnce_bag.core.io import cached_build, is_built, sha256_file
from rnce_bag.core.names import file_stem
from rnce_bag.core.outputs import output_path
from rnce_bag.imaging.registration import TRANSFORM_FILES, RegisterSettings

#: a registration is flagged for a look below these. Brain-mask Dice: an affine registration
#: of a skull-stripped T1 to MNI152 reaches about 0.95. Correlation with the template: it
#: depends on the scanner's contrast as much as on the alignment (the simulator's own
#: MNI-space images, site contrast and bias fields included, correlate 0.57-0.79 with the
#: template), so only a value that no aligned brain gives is flagged; a misplaced brain
#: falls well below it.
QC_MIN_DICE = 0.90
QC_MIN_SIMILARITY = 0.50
#: how many subjects the QC figure shows (the lowest mask overlap first)
FIGURE_SUBJECTS = 12


def brainmask_of(freesurfer_dir: object) -> str | None:
    """The subject's ``mri/brainmask.mgz`` when its FreeSurfer folder holds one."""
    if freesurfer_dir is None or (isinstance(freesurfer_dir, float) and np.isnan(freesurfer_dir)):
        return None
    path = Path(str(freesurfer_dir)) / "mri" / "brainmask.mgz"
    return str(path) if path.is_file() else None


def _register_into(args: tuple[str, str | None, RegisterSettings, str, dict]) -> dict:
    """Worker: the cached registration of one subject -> its QC (or ``error``)."""
    t1, mask, settings, root, key = args
    from rnce_bag.imaging.registration import register_t1, write_registered

    def build(folder: Path) -> None:
        work = folder / "ants"
        work.mkdir()
        result = register_t1(t1, settings, mask, work)
        write_registered(result, settings, folder)
        shutil.rmtree(work)

    try:
        folder = cached_build(root, key, [], build, root)
    except Exception as exc:  # one subject's failure never stops the others
        return {"error": failure_message(exc)}
    qc = json.loads((folder / "qc.json").read_text())
    return {**qc, "folder": str(folder)}


def registered_folders(folder: Path) -> tuple[Path, Path]:
    """The declared ``images`` and ``transforms`` folders of a register run."""
    from rnce_bag.stages import REGISTER

    return (output_path(REGISTER, "registered_t1s", folder),
            output_path(REGISTER, "transform_files", folder))


def failure_message(exc: BaseException) -> str:
    """One line for the QC table: rnce-bag's own message, or the last line ITK/ANTs gave
    (their first lines are source locations)."""
    from rnce_bag.core.errors import RnceBagError

    if isinstance(exc, RnceBagError):
        text = exc.message
    else:
        lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
        text = lines[-1] if lines else type(exc).__name__
    return text[:300]


def register_cohort(manifest_path: Path, stage: Path, cache_dir: Path,
                    settings: RegisterSettings, jobs: int = 1,
                    progress: Callable[[int, int], None] | None = None
                    ) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Register every subject of ``manifest_path`` and write the outputs into ``stage``.

    Returns
    -------
    qc : DataFrame
        One row per subject (``registration_qc`` schema).
    report : dict
        Settings, counts, failed subjects, the ANTs version.
    manifest : DataFrame
        The input manifest's rows of the registered subjects, ``t1_path`` relative to
        ``stage`` (``images/<IID>.nii.gz``).
    """
    try:
        import ants
    except ImportError:
        raise ExternalToolError("'rnce-bag register' needs ANTsPy (antspyx), which is not "
                                "installed", hint="make setup (pip install --no-deps "
                                "antspyx==0.6.3)") from None
    from rnce_bag.imaging.manifest import load_manifest

    manifest = load_manifest(manifest_path, check_exists=False)
    if "t1_path" not in manifest.columns:
        raise InputError(f"{manifest_path}: no t1_path column (columns: "
                         f"{', '.join(manifest.columns)})",
                         hint="add t1_path (the T1 of each subject), e.g. with "
                              "'rnce-bag manifest'")
    masks = [brainmask_of(d) for d in manifest.get("freesurfer_dir",
                                                   pd.Series([None] * len(manifest)))]
    results, tasks, cached = _plan(manifest["t1_path"], masks, Path(cache_dir), settings)
    _run(tasks, results, jobs, progress)
    qc, registered = _publish(manifest, masks, results, cached, stage)
    if not registered:
        raise InputError(f"{manifest_path}: no subject could be registered: "
                         + "; ".join(f"{r.IID}: {r.status}" for r in qc.head(5).itertuples()),
                         hint="check the images (registration_qc lists every subject)")
    images = registered_folders(stage)[0]
    out_manifest = manifest.iloc[registered].copy()
    out_manifest["t1_path"] = [str((images / f"{file_stem(str(i))}.nii.gz").relative_to(stage))
                               for i in out_manifest["IID"]]  # relative: the folder can move
    failed = qc[qc["status"].str.startswith("failed")]
    report = {"settings": {"transform": settings.transform, "spacing_mm": settings.spacing,
                           "n4": settings.n4, "seed": settings.seed,
                           "recipe": _recipe(settings)},
              "template": "MNI152 2009a symmetric (nilearn), skull-stripped",
              "ants_version": getattr(ants, "__version__", "unknown"),
              "n_subjects": len(qc), "n_registered": len(registered),
              "n_cached": int(qc["cached"].sum()),
              "n_flagged": int(qc["status"].str.contains("check:").sum()),
              "failed": [{"IID": r.IID, "status": r.status} for r in failed.itertuples()],
              "qc_thresholds": {"mask_dice": QC_MIN_DICE, "similarity": QC_MIN_SIMILARITY},
              "median_seconds": float(qc["seconds"].median())}
    return qc, report, out_manifest


def _plan(t1s: pd.Series, masks: list[str | None], cache_dir: Path,
          settings: RegisterSettings) -> tuple[list[dict], dict[int, tuple], list[bool]]:
    """Per subject: an ``error`` result (no T1), or a worker task keyed by the inputs'
    checksums and the settings; and whether its result is already in the cache."""
    root = cache_dir / "register" / settings.key()
    results: list[dict] = [{} for _ in range(len(t1s))]
    tasks, cached = {}, []
    for i, (t1, mask) in enumerate(zip(t1s, masks, strict=True)):
        if t1 is None or pd.isna(t1) or not Path(t1).is_file():
            results[i] = {"error": "no t1_path in the manifest" if t1 is None or pd.isna(t1)
                          else f"T1 image '{t1}' not found"}
            cached.append(False)
            continue
        key = {"settings": settings.key(),
               "inputs": sha256_file(t1) + (sha256_file(mask) if mask else "")}
        cached.append(is_built(root, key, []))
        tasks[i] = (t1, mask, settings, str(root), key)
    return results, tasks, cached


def _run(tasks: dict[int, tuple], results: list[dict], jobs: int,
         progress: Callable[[int, int], None] | None) -> None:
    """Run the tasks in ``jobs`` forked workers, filling ``results`` in place.

    A worker that dies (an ITK crash, the memory killer) breaks the whole pool, and every
    subject still queued with it fails alike; those are run again one per pool, so only
    the subject that kills its worker is marked, and the others go on (those that had
    finished come back from the cache).
    """

    done = [len(results) - len(tasks)]

    def finished(i: int, result: dict) -> None:
        results[i] = result
        done[0] += 1
        if progress is not None:
            progress(done[0], len(results))

    broken = _pool_run(tasks, jobs, finished)
    for i in broken:  # alone now: a second break is this subject's own
        if _pool_run({i: tasks[i]}, 1, finished):
            finished(i, {"error": "the registration process died (a crash in ITK/ANTs or "
                                  "out of memory); run it alone with --jobs 1 to see more"})


def _pool_run(tasks: dict[int, tuple], jobs: int,
              finished: Callable[[int, dict], None]) -> list[int]:
    """One pool over ``tasks``: ``finished(i, result)`` per completed task; returns the
    tasks lost to a broken pool."""
    import multiprocessing as mp
    from concurrent.futures.process import BrokenProcessPool

    from rnce_bag.core.workers import worker_signals

    lost = []
    pool = ProcessPoolExecutor(max_workers=max(1, min(jobs, len(tasks))),
                               mp_context=mp.get_context("fork"), initializer=worker_signals)
    try:
        futures = {pool.submit(_register_into, t): i for i, t in tasks.items()}
        for fut in as_completed(futures):
            try:
                finished(futures[fut], fut.result())
            except BrokenProcessPool:
                lost.append(futures[fut])
    finally:  # Ctrl-C: the queued subjects never start; running ones finish into the cache
        pool.shutdown(wait=True, cancel_futures=True)
    return sorted(lost)


def _publish(manifest: pd.DataFrame, masks: list[str | None], results: list[dict],
             cached: list[bool], stage: Path) -> tuple[pd.DataFrame, list[int]]:
    """Link each registered subject's image and transforms from the cache into ``stage``;
    the QC table and the rows of the subjects registered."""
    images, transforms = registered_folders(stage)
    images.mkdir()
    transforms.mkdir()
    rows, registered = [], []
    for i, (iid, res) in enumerate(zip(manifest["IID"], results, strict=True)):
        row = {"IID": iid, "cached": bool(cached[i]), "t1_path": manifest["t1_path"].iloc[i],
               "skull_strip": "freesurfer" if masks[i] else "template"}
        if "error" in res:
            rows.append({**row, "status": f"failed: {res['error']}"})
            continue
        stem = file_stem(str(iid))
        _link(Path(res["folder"]) / "t1_mni.nii.gz", images / f"{stem}.nii.gz")
        (transforms / stem).mkdir()
        for name in TRANSFORM_FILES:
            if (Path(res["folder"]) / name).is_file():
                _link(Path(res["folder"]) / name, transforms / stem / name)
        rows.append({**row, "status": qc_status(res["mask_dice"], res["similarity"]),
                     "similarity": res["similarity"], "mask_dice": res["mask_dice"],
                     "seconds": res["seconds"]})
        registered.append(i)
    qc = pd.DataFrame(rows, columns=["IID", "status", "similarity", "mask_dice",
                                     "skull_strip", "seconds", "cached", "t1_path"])
    return qc, registered


def qc_status(mask_dice: float, similarity: float) -> str:
    """``ok``, or ``ok; check: ...`` naming each QC value below its threshold."""
    flags = []
    if not mask_dice >= QC_MIN_DICE:
        flags.append(f"mask Dice {mask_dice:.2f} < {QC_MIN_DICE}")
    if not similarity >= QC_MIN_SIMILARITY:
        flags.append(f"similarity {similarity:.2f} < {QC_MIN_SIMILARITY}")
    return "ok" + ("; check: " + ", ".join(flags) if flags else "")


def _recipe(settings: RegisterSettings) -> str:
    from rnce_bag.imaging.registration import RECIPES

    return RECIPES[settings.transform]


def _link(src: Path, dst: Path) -> None:
    """``dst`` as a hard link to the cached ``src`` (a copy across file systems)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def registration_figure_of(qc: pd.DataFrame, folder: Path, spacing: float):
    """The mid-slice figure of a register run's ``folder`` (its ``images/``): the
    registered subjects, lowest mask overlap first (at most :data:`FIGURE_SUBJECTS`);
    None when none was registered."""
    import nibabel as nib

    from rnce_bag.imaging.qc_figure import registration_figure
    from rnce_bag.imaging.registration import template

    ok = qc[qc["status"].str.startswith("ok")].sort_values(["mask_dice", "similarity"])
    if ok.empty:
        return None
    subjects = []
    for r in ok.head(FIGURE_SUBJECTS).itertuples():
        image = registered_folders(folder)[0] / f"{file_stem(str(r.IID))}.nii.gz"
        subjects.append((str(r.IID), np.asarray(nib.load(image).dataobj, np.float32),
                         f"Dice {r.mask_dice:.2f}, r {r.similarity:.2f}"))
    return registration_figure(subjects, template(spacing)[1])


def save_figure(qc: pd.DataFrame, stage: Path, settings: RegisterSettings,
                path: Path) -> None:
    """``registration_qc.png``: :func:`registration_figure_of` of the run being written."""
    import matplotlib.pyplot as plt

    from rnce_bag.core.io import atomic_path

    fig = registration_figure_of(qc, stage, settings.spacing)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=150, format="png")
    plt.close(fig)
