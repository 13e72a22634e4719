"""The file-system contract (``rnce_bag.core.outdir``) as a property of every command.

Each command runs in a sandbox holding unrelated user files beside and inside its
``--out``, a symbolic link inside ``--out`` that points outside it, and (second run) its
own previous run. Checksums of every entry in the sandbox and of the command's inputs
are taken before and after: whatever the situation, nothing may change but the files
the command's own ``run.json`` says it wrote (plus ``run.json`` and ``.lock``). The
refusal situations (a user file where an output goes, an input where an output goes, a
``.lock`` that is a link, a study stage folder, another command's record) must exit 2
and change nothing at all. Interrupted runs (SIGTERM at seeded random moments) must
leave the previous run byte-identical and no child tool running.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.main import app


def snapshot(*roots: Path) -> dict[str, str]:
    """Every entry under ``roots`` (links not followed): its content hash, its link
    target or ``dir``."""
    found = {}
    for root in roots:
        if root.is_file():
            found[str(root)] = hashlib.sha256(root.read_bytes()).hexdigest()
            continue
        for base, dirs, files in os.walk(root):
            for name in dirs + files:
                p = Path(base) / name
                if p.is_symlink():
                    found[str(p)] = "link:" + os.readlink(p)
                elif p.is_dir():
                    found[str(p)] = "dir"
                else:
                    found[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return found


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


@dataclass
class Command:
    """How to run one command in a sandbox: ``args(out)`` and its input roots."""

    name: str
    args: Callable[[Path], list[str]]
    inputs: Callable[[], list[Path]]
    first_output: str  # a file the command writes (for the name-taken situation)
    staged: bool = True  # writes into --out (simulate: a fresh folder only)


@pytest.fixture(scope="module")
def commands(tiny_sim, tiny_features, complete_sim, run_folder, tmp_path_factory):
    """The commands under test, with inputs that make each run quickly."""
    base = tmp_path_factory.mktemp("inputs")
    manifest, feats = tiny_sim / "cohort.tsv", tiny_features
    bfile = str(complete_sim / "genotypes/cohort")
    pheno, covar = complete_sim / "pheno.tsv", complete_sim / "covar.tsv"
    sumstats = run_folder / "gwas" / "BAG_FS.tsv.gz"
    celltypes = complete_sim / "expression/celltype_specificity.tsv"
    # rg needs a GRM: the h2 of the shared run folder has none, so make one here once
    grm_out = base / "grm"
    from typer.testing import CliRunner

    res = CliRunner().invoke(app, ["h2", "--bfile", bfile, "--pheno", str(pheno),
                                   "--grm-cutoff", "0", "--out", str(grm_out)])
    assert res.exit_code == 0, res.output
    ba = ["--set", "min_train_subjects=20"]
    return [
        Command("features", lambda o: ["features", "--manifest", str(manifest), "--out",
                                       str(o)], lambda: [manifest], "features.parquet"),
        Command("brain-age", lambda o: ["brain-age", "--manifest", str(manifest), "--features",
                                        f"FS={feats}", *ba, "--out", str(o)],
                lambda: [manifest, feats], "bag.tsv"),
        Command("probe", lambda o: ["probe", "--manifest", str(manifest), "--features",
                                    f"FS={feats}", "--task", "ad_vs_cn", "--out", str(o)],
                lambda: [manifest, feats], "probe.tsv"),
        Command("h2", lambda o: ["h2", "--bfile", bfile, "--pheno", str(pheno), "--covar",
                                 str(covar), "--covar-name", "age", "--grm-cutoff", "0",
                                 "--out", str(o)],
                lambda: [complete_sim / "genotypes", pheno, covar], "heritability.tsv"),
        Command("rg", lambda o: ["rg", "--grm", str(grm_out / "grm"), "--pheno", str(pheno),
                                 "--grm-cutoff", "0", "--out", str(o)],
                lambda: [grm_out, pheno], "rg.tsv"),
        Command("gwas", lambda o: ["gwas", "--bfile", bfile, "--pheno", str(pheno),
                                   "--pheno-name", "LATENT", "--engine", "plink2", "--set",
                                   "pca.n_pcs=0", "--out", str(o)],
                lambda: [complete_sim / "genotypes", pheno], "summary.tsv"),
        Command("enrich", lambda o: ["enrich", "--sumstats", str(sumstats), "--bfile", bfile,
                                     "--celltypes", str(celltypes), "--out", str(o)],
                lambda: [sumstats, celltypes, complete_sim / "genotypes"], "celltypes.tsv"),
        Command("report", lambda o: ["report", "--run", str(run_folder), "--out", str(o)],
                lambda: [run_folder], "index.html"),
        Command("compare", lambda o: ["compare", "--run", str(run_folder), "--a", "BAG_FS",
                                      "--b", "BAG_RNCE", "--out", str(o)],
                lambda: [run_folder], "compare.json"),
        Command("simulate", lambda o: ["simulate", "--preset", "tiny", "--set",
                                       "images.write=false", "--set",
                                       "cohort.n_subjects=60", "--set",
                                       "genotypes.n_variants=300", "--out", str(o)],
                lambda: [], "cohort.tsv", staged=False),
    ]


NAMES = ["features", "brain-age", "probe", "h2", "rg", "gwas", "enrich", "report", "compare",
         "simulate"]
EXTERNAL = {"gwas", "enrich", "report", "compare"}  # need plink2 (the run folder's GWAS)


def _pick(commands, name: str) -> Command:
    if name in EXTERNAL and not _has_plink2():
        pytest.skip("plink2 not installed")
    return next(c for c in commands if c.name == name)


def _has_plink2() -> bool:
    import shutil

    return shutil.which("plink2") is not None


def _sandbox(tmp_path: Path) -> tuple[Path, Path]:
    """``box/`` with a neighbour file, a link target outside ``out`` and ``out/`` holding a
    user's notes, a nested user file and a link pointing outside."""
    box = tmp_path / "box"
    out = box / "out"
    (out / "sub").mkdir(parents=True)
    (box / "neighbour.txt").write_text("beside --out\n")
    (box / "target.txt").write_text("a link inside --out points here\n")
    (out / "notes.txt").write_text("the user's own notes\n")
    (out / "sub" / "keep.txt").write_text("nested user file\n")
    os.symlink("../target.txt", out / "mylink")
    return box, out


def _allowed(out: Path) -> set[str]:
    """What a successful run may have changed: the files its record lists, run.json,
    .lock, and the folders holding them."""
    record = json.loads((out / "run.json").read_text())
    files = set(record.get("files") or ()) | {"run.json", ".lock"}
    allowed = set()
    for f in files:
        p = out / f
        allowed.add(str(p))
        allowed |= {str(q) for q in p.parents if out in q.parents or q == out}
    return allowed


@pytest.mark.parametrize("name", NAMES)
def test_runs_change_only_their_own_outputs(name, commands, runner, tmp_path):
    """Fresh run and rerun, with user files beside and inside --out and a link inside."""
    cmd = _pick(commands, name)
    box, out = _sandbox(tmp_path)
    if not cmd.staged:  # simulate writes a fresh folder: --out must be absent or empty
        out = box / "fresh"
    roots = [box, *cmd.inputs()]
    for attempt in ("fresh", "rerun"):
        if attempt == "rerun" and not cmd.staged:
            extra = ["--overwrite"]
        else:
            extra = []
        before = snapshot(*roots)
        res = runner.invoke(app, cmd.args(out) + extra)
        assert res.exit_code == 0, (attempt, res.output)
        diff = changed(before, snapshot(*roots))
        outside = diff - _allowed(out) - {str(out)}
        assert not outside, (attempt, sorted(outside)[:10])
        assert (box / "target.txt").read_text().startswith("a link")
        assert not any(p.name.endswith((".partial", ".failed")) for p in box.rglob("*"))


def _refused(runner, cmd: Command, out: Path, roots: list[Path], match: str) -> None:
    before = snapshot(*roots)
    res = runner.invoke(app, cmd.args(out))
    assert res.exit_code == 2, res.output
    assert match in res.output, res.output
    assert changed(before, snapshot(*roots)) == set()


SITUATIONS = ["name-taken", "input-is-an-output", "lock-is-a-link", "lock-is-a-folder",
              "stage-folder", "other-record", "study-record", "run-json-not-a-record"]


@pytest.mark.parametrize("situation", SITUATIONS)
@pytest.mark.parametrize("name", [n for n in NAMES if n != "simulate"])
def test_refusals_change_nothing(name, situation, commands, runner, tmp_path):
    cmd = _pick(commands, name)
    box, out = _sandbox(tmp_path)
    roots = [box, *cmd.inputs()]
    if situation == "name-taken":
        (out / cmd.first_output).write_text("the user's file of the same name\n")
        match = "did not write there"
    elif situation == "input-is-an-output":
        # a previous run's output given as an input of the next run into the same --out
        res = runner.invoke(app, cmd.args(out))
        assert res.exit_code == 0, res.output
        target = out / cmd.first_output
        args = cmd.args(out)
        flag = {"features": "--manifest", "brain-age": "--manifest", "probe": "--manifest",
                "h2": "--covar", "rg": "--pheno", "gwas": "--pheno", "enrich": "--sumstats",
                "report": None, "compare": None}[name]
        if flag is None:  # these read a run folder: put --out inside it instead
            pytest.skip("report/compare read a folder, not a file")
        src = Path(args[args.index(flag) + 1])
        target.write_bytes(src.read_bytes())
        args[args.index(flag) + 1] = str(target)
        before = snapshot(*roots)
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        assert "replace its own input" in res.output, res.output
        assert changed(before, snapshot(*roots)) == set()
        return
    elif situation == "lock-is-a-link":
        os.symlink("../target.txt", out / ".lock")
        match = "never writes through a link"
    elif situation == "lock-is-a-folder":
        (out / ".lock").mkdir()
        match = "not a lock file"
    elif situation == "stage-folder":
        (out / ".stage.json").write_text(json.dumps({"key": "k"}))
        match = "stage folder of the study"
    elif situation == "other-record":
        (out / "run.json").write_text(json.dumps({"command": "train", "status": "ok"}))
        match = "holds the output of 'rnce-bag train'"
    elif situation == "study-record":
        (out / "run.json").write_text(json.dumps({"study": {}, "stages": {}}))
        match = "holds a study run"
    else:
        (out / "run.json").write_text("[1, 2]\n")
        match = "not a run record"
    _refused(runner, cmd, out, roots, match)


def test_simulate_refuses_a_working_folder_it_did_not_leave(commands, runner, tmp_path):
    cmd = _pick(commands, "simulate")
    box, _ = _sandbox(tmp_path)
    (box / ".x.partial").mkdir()
    (box / ".x.partial" / "thesis.tex").write_text("a user's folder of that name\n")
    _refused(runner, cmd, box / "x", [box], "did not write")
    (box / ".y.partial").symlink_to(box / "out", target_is_directory=True)
    _refused(runner, cmd, box / "y", [box], "is not one it left there")


def _wait_running(proc, out: Path, delay: float) -> None:
    """Wait until ``proc`` holds ``out``'s lock (its signal handlers are installed by then;
    on a loaded 2-core machine the interpreter alone can take seconds to start), then
    ``delay`` seconds more, or until it ends."""
    lock, started = out / ".lock", time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < started:
        try:
            if lock.read_text().strip() == f"pid {proc.pid}":
                break
        except OSError:
            pass
        time.sleep(0.02)
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)


@pytest.mark.parametrize("name, sig", [("h2", signal.SIGTERM), ("gwas", signal.SIGTERM),
                                       ("brain-age", signal.SIGTERM), ("gwas", signal.SIGINT)])
def test_signals_at_random_moments_keep_the_previous_run(name, sig, commands, runner,
                                                         tmp_path):
    """SIGTERM or SIGINT at three seeded random moments of a rerun: the previous run stays
    byte-identical (but for .lock), nothing is left half-written, no child tool runs on."""
    cmd = _pick(commands, name)
    box, out = _sandbox(tmp_path)
    res = runner.invoke(app, cmd.args(out))
    assert res.exit_code == 0, res.output
    roots = [box, *cmd.inputs()]
    rng = random.Random(f"{name}-{sig.name}")
    for _ in range(3):
        before = snapshot(*roots)
        proc = subprocess.Popen([sys.executable, "-m", "cli", *cmd.args(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)
        _wait_running(proc, out, rng.uniform(0.0, 4.0))
        if proc.poll() is None:
            proc.send_signal(sig)
        code = proc.wait(timeout=120)
        diff = changed(before, snapshot(*roots)) - {str(out / ".lock")}
        if code == 0 or (code == -sig and _finished(out)):
            # finished before the signal: an ordinary rerun. A signal that lands after
            # the run published its outputs, while the interpreter shuts down, meets the
            # default action (Python restores SIG_DFL when it finalises): killed, -15,
            # with the rerun complete
            assert not (diff - _allowed(out)), sorted(diff)[:10]
        else:
            assert code == {signal.SIGTERM: 143, signal.SIGINT: 130}[sig], \
                proc.stderr.read().decode()[-2000:]
            if str(out / "run.json") in diff and _finished(out):
                # the signal came while the rerun published (signals wait for that to end:
                # it once left two files of the new run beside the old run.json): a
                # complete new run, then the exit the signal asked for
                assert not (diff - _allowed(out)), sorted(diff)[:10]
            else:  # never a mix: the previous run, byte for byte
                assert diff == set(), sorted(diff)[:10]
        # the session's process group is gone: no plink2 (or its wrapper) left running
        time.sleep(0.2)
        assert not _group_alive(proc.pid)


def _finished(out: Path) -> bool:
    """Whether the run in ``out`` completed: its record says so, no staging folder left."""
    record = json.loads((out / "run.json").read_text())
    return record.get("status") == "ok" and not list(out.glob(".*.partial"))


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies waiting for init do not)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def test_two_runs_into_one_out_the_second_is_refused(tmp_path):
    """A run holding --out's lock makes a second run stop with exit 2, its work intact."""
    from rnce_bag.core.errors import InputError
    from rnce_bag.core.outdir import folder_lock, staged_run

    out = tmp_path / "out"
    with folder_lock(out):
        with pytest.raises(InputError, match="being written by another run"):
            with staged_run(out, "h2", tools=()):
                pass
    with staged_run(out, "h2", tools=()) as (stage, _):  # released: runs
        (stage / "heritability.tsv").write_text("x\n")
    assert (out / "heritability.tsv").read_text() == "x\n"


def test_a_previous_runs_stale_outputs_go_but_user_files_in_its_folders_stay(tmp_path):
    from rnce_bag.core.outdir import staged_run

    out = tmp_path / "out"
    with staged_run(out, "report", tools=()) as (stage, _):
        (stage / "figures").mkdir()
        (stage / "figures" / "old.png").write_bytes(b"old")
        (stage / "index.html").write_text("1")
    (out / "figures" / "photo.png").write_bytes(b"user")
    with staged_run(out, "report", tools=()) as (stage, _):
        (stage / "figures").mkdir()
        (stage / "figures" / "new.png").write_bytes(b"new")
        (stage / "index.html").write_text("2")
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["new.png", "photo.png"]
    record = json.loads((out / "run.json").read_text())
    assert record["files"] == ["figures/new.png", "index.html"]
