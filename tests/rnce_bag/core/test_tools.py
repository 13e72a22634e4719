import os
import stat

import pytest

from rnce_bag.core.errors import ExternalToolError
from rnce_bag.core.tools import TOOLS, probe_tool, require_tool


def _fake_exe(directory, name, output, stream="stdout"):
    path = directory / name
    redirect = " 1>&2" if stream == "stderr" else ""
    path.write_text(f"#!/bin/sh\necho '{output}'{redirect}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.mark.parametrize(
    ("name", "exe", "output", "stream", "version"),
    [
        ("java", "java", 'openjdk version "17.0.15" 2025-04-15', "stderr", "17.0.15"),
        ("plink2", "plink2", "PLINK v2.00a3.5 AVX2 (9 Aug 2022)", "stdout", "v2.00a3.5 AVX2"),
        ("gemma", "gemma", "GEMMA 0.98.5 (2021-08-25) by Xiang Zhou", "stdout", "0.98.5"),
        ("gcta64", "gcta64", "* Genome-wide Complex Trait Analysis (GCTA)\n* version v1.94.1 "
         "Linux", "stdout", "1.94.1"),
        ("chromium", "chromium", "Chromium 156.0.8078.73 built on Debian", "stdout",
         "156.0.8078.73"),
    ],
)
def test_probe_parses_versions(tmp_path, monkeypatch, name, exe, output, stream, version):
    _fake_exe(tmp_path, exe, output, stream)
    monkeypatch.setenv("PATH", str(tmp_path))
    status = probe_tool(name)
    assert status.found and status.version == version and status.path == str(tmp_path / exe)


def test_missing_tool(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    status = probe_tool("gcta64")
    assert not status.found and "gcta" in status.install.lower()
    with pytest.raises(ExternalToolError, match="'gcta64' is required") as exc:
        require_tool("gcta64")
    assert exc.value.exit_code == 3 and "install it" in str(exc.value)


def test_unrecognised_version(tmp_path, monkeypatch):
    _fake_exe(tmp_path, "plink2", "something else")
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ["PATH"])
    status = probe_tool("plink2")
    assert status.found and status.version is None and "not recognised" in status.detail


def test_unknown_tool_name():
    with pytest.raises(KeyError, match="expected one of"):
        probe_tool("nope")
    assert "plink2" in TOOLS


@pytest.mark.external
def test_real_plink2_and_gemma():
    assert probe_tool("plink2").version.startswith("v2.")
    assert probe_tool("gemma").version
