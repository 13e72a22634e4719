"""The libgfortran.so.3 shim that lets Hail's netlib natives load native BLAS."""

import ctypes
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gwas.engines import hail_blas

needs_cc = pytest.mark.skipif(
    platform.system() != "Linux" or platform.machine() != "x86_64"
    or shutil.which("cc") is None, reason="the shim is built for Linux x86_64 with cc")


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    return hail_blas.build_shim(tmp_path_factory.mktemp("shim"))


def _fortran_compare(a: str, b: str) -> int:
    """Fortran's rule: the shorter string is blank-padded."""
    n = max(len(a), len(b))
    a, b = a.ljust(n), b.ljust(n)
    return (a > b) - (a < b)


@needs_cc
def test_compare_string_follows_fortran_blank_padding(shim):
    fn = ctypes.CDLL(str(shim))._gfortran_compare_string
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    pairs = [("N", "N"), ("N", "T"), ("T", "N"), ("DGEMM", "DGEMM  "), ("DGEMM ", "DGEMM"),
             ("AB", "AB\x01"), ("AB\x01", "AB"), ("AB", "ABC"), ("ABC", "AB"), ("", ""),
             ("", " "), ("", "A"), ("z", "Z"), ("\xff", "a")]
    for a, b in pairs:
        ea, eb = a.encode("latin-1"), b.encode("latin-1")
        got = fn(len(ea), ea, len(eb), eb)
        assert np.sign(got) == _fortran_compare(a, b), (a, b, got)


@needs_cc
def test_etime_fills_user_and_system_seconds(shim):
    fn = ctypes.CDLL(str(shim))._gfortran_etime
    fn.restype = ctypes.c_float
    arr = (ctypes.c_float * 2)(-1.0, -1.0)
    desc = ctypes.pointer(ctypes.cast(arr, ctypes.POINTER(ctypes.c_float)))
    total = fn(desc)
    assert arr[0] >= 0 and arr[1] >= 0
    assert total == pytest.approx(arr[0] + arr[1], abs=1e-3)
    assert total > 0  # this process has run for a while


@needs_cc
def test_exports_the_versions_the_netlib_natives_require(shim):
    dump = subprocess.run(["objdump", "-T", str(shim)], capture_output=True, text=True)
    if dump.returncode != 0:
        pytest.skip("objdump unavailable")
    versions = {line.split()[-1]: line.split()[-2] for line in dump.stdout.splitlines()
                if "_gfortran_" in line}
    assert versions["_gfortran_compare_string"] == "GFORTRAN_1.0"
    assert versions["_gfortran_st_write_done"] == "GFORTRAN_1.0"
    assert versions["_gfortran_transfer_integer_write"] == "GFORTRAN_1.4"
    assert len(versions) == 8


def _netlib_natives(tmp: Path) -> Path:
    import hail

    jar = Path(hail.__file__).parent / "backend" / "hail-all-spark.jar"
    name = "netlib-native_system-linux-x86_64.so"
    with zipfile.ZipFile(jar) as zf:
        (tmp / name).write_bytes(zf.read(name))
    return tmp / name


def _loads(lib: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", f"import ctypes; ctypes.CDLL({str(lib)!r})"],
                          env=env, capture_output=True, text=True)


@needs_cc
def test_hails_netlib_natives_load_with_the_shim(shim, tmp_path):
    lib = _netlib_natives(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    if not hail_blas.system_has_gfortran3():
        without = _loads(lib, env)
        assert without.returncode != 0 and "libgfortran.so.3" in without.stderr
    with_shim = _loads(lib, hail_blas.with_library_dir(env, str(shim.parent)))
    assert with_shim.returncode == 0, with_shim.stderr


@needs_cc
def test_prepare_builds_once_per_source_version(tmp_path, monkeypatch):
    monkeypatch.setattr(hail_blas, "system_has_gfortran3", lambda: False)
    first = hail_blas.prepare(tmp_path)
    assert first.native and first.library_dir == str(hail_blas.shim_dir(tmp_path))
    built = Path(first.library_dir) / "libgfortran.so.3"
    stamp = built.stat().st_mtime_ns
    assert hail_blas.prepare(tmp_path) == first
    assert built.stat().st_mtime_ns == stamp
    assert [p.name for p in Path(first.library_dir).iterdir()] == ["libgfortran.so.3"]


def test_without_a_compiler_hail_keeps_java_blas_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(hail_blas, "system_has_gfortran3", lambda: False)
    monkeypatch.setattr(hail_blas.shutil, "which", lambda name: None)
    monkeypatch.delenv("CC", raising=False)
    setup = hail_blas.prepare(tmp_path)
    assert not setup.native and setup.library_dir is None
    assert "F2J" in setup.detail and "no C compiler" in setup.detail


def test_library_dir_goes_first_once():
    env = hail_blas.with_library_dir({"LD_LIBRARY_PATH": "/a:/b"}, "/shim")
    assert env["LD_LIBRARY_PATH"] == "/shim:/a:/b"
    assert hail_blas.with_library_dir(env, "/shim") == env
    assert hail_blas.with_library_dir({}, "/shim") == {"LD_LIBRARY_PATH": "/shim"}
    assert hail_blas.with_library_dir({"X": "1"}, None) == {"X": "1"}


def test_blas_from_log_reads_netlibs_lines():
    loaded = ("2026-12-02 07:50:00.353 JniLoader: INFO: successfully loaded "
              "/tmp/jniloader68netlib-native_system-linux-x86_64.so")
    failed = ("2026-12-02 05:07:14.721 BLAS: WARN: Failed to load implementation from: "
              "com.github.fommil.netlib.NativeSystemBLAS")
    assert hail_blas.blas_from_log(f"x\n{loaded}\ny") == "native"
    assert hail_blas.blas_from_log(f"x\n{failed}\ny") == "java"
    assert hail_blas.blas_from_log("successfully loaded libfoo.so\n") == "unused"


@needs_cc
@pytest.mark.hail
@pytest.mark.slow
def test_hail_block_products_run_on_native_blas():
    from gwas.engines import hail as engine

    hl = engine.init_hail("local[2]")
    rng = np.random.default_rng(1)
    a = rng.standard_normal((300, 200))
    bm = hl.linalg.BlockMatrix.from_numpy(a, block_size=128)
    np.testing.assert_allclose((bm @ bm.T).to_numpy(), a @ a.T, rtol=1e-10, atol=1e-10)
    log = Path(engine._SESSION["log"]).read_text(errors="replace")
    assert hail_blas.blas_from_log(log) == "native", engine._SESSION.get("blas")


def test_executors_get_the_library_folder(monkeypatch, tmp_path):
    """A master on this machine gets the shim built here; a remote one only the folder
    the user names (hail.native_lib_dir), never a path that exists on this machine only."""
    from gwas.engines import hail as engine

    monkeypatch.setattr(hail_blas, "prepare", lambda: hail_blas.BlasSetup(
        str(tmp_path), "native (shim)", True))
    monkeypatch.setenv("LD_LIBRARY_PATH", "/usr/local/lib")
    local = engine._native_blas("local[2]")
    assert local == {"spark.executorEnv.LD_LIBRARY_PATH": f"{tmp_path}:/usr/local/lib"}
    assert os.environ["LD_LIBRARY_PATH"].startswith(str(tmp_path))
    assert engine._native_blas("spark://10.0.0.5:7077") == {}
    assert engine._native_blas("yarn", "/opt/natives") == {
        "spark.executorEnv.LD_LIBRARY_PATH": "/opt/natives"}


def test_gwas_report_says_which_blas_hail_used(tmp_path, caplog):
    from gwas.engines.hail import blas_used as _hail_blas

    assert _hail_blas(tmp_path) == "unused"  # no hail.log: the session started elsewhere
    (tmp_path / "hail.log").write_text(
        "05:07:14.721 BLAS: WARN: Failed to load implementation from: "
        "com.github.fommil.netlib.NativeSystemBLAS\n")
    with caplog.at_level("WARNING"):
        assert _hail_blas(tmp_path) == "java"
    assert "pure-Java BLAS" in caplog.text
    (tmp_path / "hail.log").write_text(
        "JniLoader: INFO: successfully loaded /tmp/jl1netlib-native_system-linux-x86_64.so\n")
    assert _hail_blas(tmp_path) == "native"
