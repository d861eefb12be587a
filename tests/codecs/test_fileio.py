"""Atomic writes keep the old file on failure and leave no temp files; reads fail with one line."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

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


# -- issue 24, defect 4: stale temps, file mode, symlinks -------------------------------------------
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX modes, links and flock")


def _age(path, seconds=60.0):
    t = time.time() - seconds
    os.utime(path, (t, t))


@posix_only
def test_temp_left_by_a_killed_writer_is_removed_on_the_next_save(tmp_path):
    target = tmp_path / "out.gic"
    target.write_bytes(b"old")
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import os, time
        from gic.codecs import fileio
        def stuck(fd):
            print("writing", flush=True)
            time.sleep(600)
        os.fsync = stuck
        fileio.write_atomic({str(target)!r}, b"new" * 1000)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
        temps = [p for p in tmp_path.iterdir() if p.name != "out.gic"]
        assert len(temps) == 1 and temps[0].name.startswith(".out.gic.")
        # While the writer lives its temp is locked: a save now must leave it alone.
        _age(temps[0])
        fileio.write_atomic(target, b"mine")
        assert temps[0].exists()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert temps[0].exists()  # SIGKILL: nobody cleaned up
    fileio.write_atomic(target, b"after")
    assert sorted(os.listdir(tmp_path)) == ["out.gic"] and target.read_bytes() == b"after"


@posix_only
def test_only_our_own_unlocked_old_temps_of_this_file_are_removed(tmp_path):
    target = tmp_path / "a.png"
    ours = tmp_path / ".a.png.0123abcd.tmp"
    young = tmp_path / ".a.png.deadbeef.tmp"
    other_file = tmp_path / ".b.png.0123abcd.tmp"
    not_ours = tmp_path / ".a.png.tmp"
    for p in (ours, young, other_file, not_ours):
        p.write_bytes(b"x")
    for p in (ours, other_file, not_ours):
        _age(p)
    fileio.write_atomic(target, b"png")
    assert sorted(os.listdir(tmp_path)) == sorted(["a.png", young.name, other_file.name, not_ours.name])


@posix_only
def test_replacing_a_file_keeps_its_mode(tmp_path):
    target = tmp_path / "secret.gic"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    fileio.write_atomic(target, b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o600
    os.chmod(target, 0o640)
    fileio.write_atomic(target, b"newer")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@posix_only
def test_a_symlink_is_written_through_to_its_target(tmp_path):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    real = real_dir / "image.gic"
    real.write_bytes(b"old")
    os.chmod(real, 0o600)
    link = tmp_path / "link.gic"
    link.symlink_to(real)
    fileio.write_atomic(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"new" and stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["link.gic", "real"] and os.listdir(real_dir) == ["image.gic"]
    dangling = tmp_path / "dangling.gic"
    dangling.symlink_to(real_dir / "new.gic")
    fileio.write_atomic(dangling, b"created")
    assert dangling.is_symlink() and (real_dir / "new.gic").read_bytes() == b"created"
