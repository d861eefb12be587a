"""Atomic writes keep the old file on failure and leave no temp files; reads fail with one line."""
from __future__ import annotations

import os

import pytest

from gic.codecs import fileio
from gic.codecs.errors import CodecError


def test_write_then_read(tmp_path):
    target = tmp_path / "out.gic"
    fileio.write_atomic(target, b"first")
    fileio.write_atomic(str(target), b"second")  # str and PathLike both accepted; replaces
    assert fileio.read_bytes(target) == b"second"
    assert os.listdir(tmp_path) == ["out.gic"]


def test_new_file_gets_normal_permissions(tmp_path):
    if os.name != "posix":
        pytest.skip("POSIX permission bits")
    umask = os.umask(0o022)
    try:
        fileio.write_atomic(tmp_path / "a.bin", b"x")
    finally:
        os.umask(umask)
    assert (tmp_path / "a.bin").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600


def test_failed_replace_keeps_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "image.gic"
    target.write_bytes(b"old contents")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(CodecError, match=r"^cannot write .*image\.gic: No space left on device$"):
        fileio.write_atomic(target, b"new contents")
    assert target.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["image.gic"]


def test_failed_write_keeps_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "image.gic"
    target.write_bytes(b"old contents")

    def broken_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(CodecError, match="Input/output error"):
        fileio.write_atomic(target, b"new contents")
    assert target.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["image.gic"]


def test_non_os_error_also_cleans_up(tmp_path):
    with pytest.raises(TypeError):
        fileio.write_atomic(tmp_path / "x.gic", "not bytes")  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []


def test_write_into_missing_folder(tmp_path):
    with pytest.raises(CodecError, match="^cannot write .*nowhere.*"):
        fileio.write_atomic(tmp_path / "nowhere" / "x.gic", b"x")


def test_read_errors_are_one_line(tmp_path):
    with pytest.raises(CodecError, match=r"^cannot read .*missing\.gic: No such file or directory$"):
        fileio.read_bytes(tmp_path / "missing.gic")
    with pytest.raises(CodecError, match="^cannot read "):
        fileio.read_bytes(tmp_path)  # a directory
