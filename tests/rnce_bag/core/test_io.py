import hashlib
import os

import pytest

from rnce_bag.core.errors import InputError
from rnce_bag.core.io import (
    atomic_open,
    atomic_path,
    ensure_writable_dir,
    sha256_file,
    write_bytes,
    write_text,
)


def test_write_and_hash(tmp_path):
    p = write_text(tmp_path / "sub" / "a.txt", "hello\n")
    assert p.read_text() == "hello\n"
    assert sha256_file(p) == hashlib.sha256(b"hello\n").hexdigest()
    write_bytes(p, b"\x00\x01")
    assert p.read_bytes() == b"\x00\x01"
    assert [x.name for x in p.parent.iterdir()] == ["a.txt"]


def test_failure_leaves_old_file_and_no_temp(tmp_path):
    p = write_text(tmp_path / "a.txt", "old")
    with pytest.raises(RuntimeError):
        with atomic_open(p) as fh:
            fh.write("half-written")
            raise RuntimeError("boom")
    assert p.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_failure_creates_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(tmp_path / "new.bin") as tmp:
            tmp.write_bytes(b"x")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


def test_atomic_open_mode_checked(tmp_path):
    with pytest.raises(ValueError, match="'mode'"):
        with atomic_open(tmp_path / "x", "a"):
            pass


def test_ensure_writable_dir(tmp_path):
    assert ensure_writable_dir(tmp_path / "a" / "b").is_dir()
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(InputError, match="not a directory|cannot create"):
        ensure_writable_dir(f)
    with pytest.raises(InputError, match="cannot create"):
        ensure_writable_dir(f / "below-a-file")
