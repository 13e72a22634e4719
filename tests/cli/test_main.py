import json
import signal

import pytest
import typer
from typer.testing import CliRunner

from cli.app import ErrorMappingGroup
from cli.main import app
from rnce_bag import __version__
from rnce_bag.core.errors import ExternalToolError, InputError


def test_help_lists_commands(runner):
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for word in ("doctor", "config", "--debug", "--verbose", "--log-file", "--version"):
        assert word in res.output


@pytest.mark.parametrize("command", ["train", "embed", "run", "demo"])
def test_new_commands_have_help(runner, command):
    res = runner.invoke(app, [command, "--help"])
    assert res.exit_code == 0 and "Usage" in res.output and len(res.output) > 300


def test_no_args_shows_help(runner):
    res = runner.invoke(app, [])
    assert "Usage" in res.output and res.exit_code in (0, 2)


def test_version(runner):
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and f"rnce-bag {__version__}" in res.output


@pytest.mark.parametrize("args", [["--no-such-option"], ["no-such-command"],
                                  ["doctor", "--bogus"]])
def test_bad_arguments_exit_2(runner, args):
    res = runner.invoke(app, args)
    assert res.exit_code == 2


def test_config_command_resolves(runner, repo_root):
    res = runner.invoke(app, ["config", str(repo_root / "configs/gwas/default.yaml"),
                              "--set", "qc.maf=0.05", "--set", "engine=plink2"])
    assert res.exit_code == 0, res.output
    assert "maf: 0.05" in res.output and "engine: plink2" in res.output


def test_bad_config_exit_2_one_line(runner, tmp_path):
    bad = tmp_path / "gwas" / "bad.yaml"
    bad.parent.mkdir()
    bad.write_text("qc:\n  maf: 0.7\n")
    res = runner.invoke(app, ["config", str(bad)])
    assert res.exit_code == 2
    assert "error: invalid config" in res.output and "[qc -> maf]" in res.output
    assert "Traceback" not in res.output
    assert len([line for line in res.output.splitlines() if line.startswith("error:")]) == 1


def test_bad_override_exit_2(runner, repo_root):
    res = runner.invoke(app, ["config", str(repo_root / "configs/gwas/default.yaml"),
                              "--set", "engine=spark"])
    assert res.exit_code == 2 and "[engine]" in res.output


def test_unknown_config_kind_exit_2(runner, tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("a: 1\n")
    res = runner.invoke(app, ["config", str(p)])
    assert res.exit_code == 2 and "--kind" in res.output


def _toy_app():
    toy = typer.Typer(cls=ErrorMappingGroup)

    @toy.callback()
    def cb(ctx: typer.Context, debug: bool = False):
        ctx.ensure_object(dict)["debug"] = debug

    @toy.command()
    def boom(kind: str):
        if kind == "input":
            raise InputError("file 'x.tsv', column 'age', row 3: bad", hint="fix it")
        if kind == "tool":
            raise ExternalToolError("'gcta64' not found")
        if kind.startswith("swallowed-"):
            # a library turns the interrupt into an error of its own (pandas' C parser:
            # "Calling read(nbytes) on source failed"), as a SIGINT mid-read did in gwas
            sig = signal.SIGINT if kind.endswith("int") else signal.SIGTERM
            try:
                signal.raise_signal(sig)
            except KeyboardInterrupt:
                pass
            if kind.startswith("swallowed-input"):
                raise InputError("pheno.tsv: malformed")
            raise ValueError("Error tokenizing data. C error: Calling read(nbytes) failed")
        raise RuntimeError("kaboom")

    return toy


@pytest.mark.parametrize(("kind", "code", "text"), [
    ("input", 2, "error: file 'x.tsv', column 'age', row 3: bad"),
    ("tool", 3, "error: 'gcta64' not found"),
    ("other", 1, "error: unexpected RuntimeError: kaboom"),
    ("swallowed-int", 130, "interrupted; rerun the same command to resume"),
    ("swallowed-term", 143, "terminated (SIGTERM)"),
    ("swallowed-input-int", 130, "interrupted"),
])
def test_error_mapping(kind, code, text):
    res = CliRunner().invoke(_toy_app(), ["boom", kind])
    assert res.exit_code == code and text in res.output
    assert "Traceback" not in res.output


def test_debug_shows_traceback():
    res = CliRunner().invoke(_toy_app(), ["--debug", "boom", "input"])
    assert res.exit_code == 2 and "Traceback" in res.output


def test_log_file(runner, tmp_path, repo_root):
    log = tmp_path / "run.log"
    res = runner.invoke(app, ["-vv", "--log-file", str(log), "config",
                              str(repo_root / "configs/gwas/default.yaml")])
    assert res.exit_code == 0 and log.exists()


def test_doctor_no_spark_json(runner):
    res = runner.invoke(app, ["doctor", "--no-spark", "--json"])
    rows = {r["backend"]: r for r in json.loads(res.output)}
    assert {"python", "torch", "java", "hail", "plink2", "gemma", "gcta64", "ldsc.py",
            "chromium"} <= set(rows)
    assert rows["torch"]["status"] == "ok" and rows["hail"]["status"] == "skipped"
    for r in rows.values():
        assert r["status"] != "missing" or r["install"], r
    assert res.exit_code == 0


def test_doctor_missing_java_exit_3(runner, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    res = runner.invoke(app, ["doctor", "--no-spark"])
    assert res.exit_code == 3 and "java" in res.output and "openjdk" in res.output


@pytest.mark.hail
@pytest.mark.slow
def test_doctor_starts_hail(runner):
    res = runner.invoke(app, ["doctor", "--json"])
    rows = {r["backend"]: r for r in json.loads(res.output)}
    assert rows["hail"]["status"] == "ok", rows["hail"]
    assert "local Spark 3.5.3" in rows["hail"]["detail"]
    assert rows["java"]["version"].startswith(("11", "17"))
    assert res.exit_code == 0


def test_help_into_a_closed_pipe_is_quiet(repo_root):
    """``rnce-bag gwas --help | head -1`` used to print 'unexpected BrokenPipeError': the
    reader is gone before the help is written."""
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)  # nobody reads: every write fails with EPIPE
    try:
        proc = subprocess.run([sys.executable, "-m", "cli", "gwas", "--help"], cwd=repo_root,
                              stdout=write, stderr=subprocess.PIPE, timeout=60, check=False)
    finally:
        os.close(write)
    err = proc.stderr.decode()
    assert "unexpected" not in err and "Traceback" not in err, err


def test_config_lists_and_shows_presets(runner):
    """rnce-bag config without a file lists the shipped presets; kind/name shows one; an
    unknown preset is exit 2 with the choices."""
    from cli.main import app

    listed = runner.invoke(app, ["config"])
    assert listed.exit_code == 0, listed.output
    assert "simulate: demo, demo-control, large, tiny" in listed.output
    shown = runner.invoke(app, ["config", "gwas/default", "--set", "qc.maf=0.05"])
    assert shown.exit_code == 0 and "maf: 0.05" in shown.output, shown.output
    bad = runner.invoke(app, ["config", "ssl/nope"])
    assert bad.exit_code == 2 and "choose one of: demo, demo-long, paper, tiny" in bad.output
