"""Reading and writing whole files safely: a failed write never clobbers the file already there."""
from __future__ import annotations

import os
import re
import secrets
import stat
import time

try:  # POSIX: the lock that tells a live writer's temp file from a dead one's
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from .errors import CodecError


def _reason(e: OSError) -> str:
    return e.strerror or str(e) or type(e).__name__


#: Our temp files: ".NAME.<8 hex>.tmp" next to NAME. A writer holds an exclusive lock on its temp
#: file for as long as it writes, so a temp whose lock can be taken belongs to a dead writer.
_TEMP = re.compile(r"^\.(?P<base>.+)\.[0-9a-f]{8}\.tmp$")
#: A temp younger than this is left alone even when unlocked (it may be one whose writer has
#: created but not yet locked it).
STALE_AFTER_S = 2.0


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` via a temp file in the same folder, fsync and os.replace.

    Readers see either the old file or the complete new one. On any failure the temp file is
    removed, the old file is left untouched, and OSErrors become a one-line CodecError. Replacing
    a file keeps its permission bits; a symlink is written through (its target is replaced, the
    link stays, as editors do); temp files left by a killed writer of the same name are removed.
    """
    path = os.fspath(path)
    target = os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)
    folder, base = os.path.split(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    tmp = None
    try:
        mode = _existing_mode(target)
        remove_stale_temps(folder, base)
        for _ in range(100):  # O_EXCL with a random name: no clash with concurrent writers
            candidate = os.path.join(folder, f".{base}.{secrets.token_hex(4)}.tmp")
            try:
                fd = os.open(candidate, flags, 0o666)  # 0o666 & ~umask, like a plain open()
            except FileExistsError:
                continue
            tmp = candidate
            break
        else:
            raise OSError(f"no free temporary name in {folder}")
        with os.fdopen(fd, "wb") as f:
            _lock(f.fileno(), blocking=True)
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            if fcntl is not None:
                os.replace(tmp, target)  # still locked: a cleaner never takes a temp being renamed
        if fcntl is None:  # Windows cannot rename an open file
            os.replace(tmp, target)
        tmp = None
    except OSError as e:
        raise CodecError(f"cannot write {path}: {_reason(e)}") from e
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    _fsync_dir(folder)


def _existing_mode(target: str) -> int | None:
    """Permission bits of the file about to be replaced (None: there is none)."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None


def _lock(fd: int, blocking: bool) -> bool:
    """An exclusive advisory lock (POSIX flock); True when taken. Without fcntl: always True."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


def remove_stale_temps(folder: str, base: str) -> list[str]:
    """Remove our own temp files for `base` in `folder` that no live writer holds; return them.

    Why: a writer killed with SIGKILL cannot clean up. Only names of our pattern for this very
    file are touched, only when unlocked (the kernel drops a dead process's lock) and not younger
    than STALE_AFTER_S; without flock (Windows) only those older than an hour.
    """
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    now = time.time()
    for name in names:
        m = _TEMP.match(name)
        if not m or m.group("base") != base:
            continue
        full = os.path.join(folder, name)
        try:
            fd = os.open(full, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            age_limit = STALE_AFTER_S if fcntl is not None else 3600.0
            if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < age_limit or not _lock(fd, blocking=False):
                continue
            if os.path.samestat(st, os.stat(full)):  # still the file we locked
                os.unlink(full)
                removed.append(full)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def _fsync_dir(folder: str) -> None:
    """Make the rename itself durable (POSIX); best effort, not possible everywhere."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_writable(path: str | os.PathLike) -> None:
    """Fail now, with write_atomic's message, if `path` cannot be written: before a model loads or
    an encode runs for seconds (a missing or read-only folder, a folder in the file's place)."""
    path = os.fspath(path)
    target = os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)
    folder = os.path.dirname(target)
    if os.path.isdir(target):
        raise CodecError(f"cannot write {path}: it is a folder")
    if not os.path.isdir(folder):
        raise CodecError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CodecError(f"cannot write {path}: permission denied (folder {folder})")


def read_bytes(path: str | os.PathLike) -> bytes:
    """Read a whole file; a missing or unreadable one raises CodecError("cannot read FILE: reason")."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise CodecError(f"cannot read {os.fspath(path)}: {_reason(e)}") from e
