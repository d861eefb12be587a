"""Reading and writing whole files safely: a failed write never clobbers the file already there."""
from __future__ import annotations

import os
import secrets

from .errors import CodecError


def _reason(e: OSError) -> str:
    return e.strerror or str(e) or type(e).__name__


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` via a temp file in the same folder, fsync and os.replace.

    Readers see either the old file or the complete new one. On any failure the temp file is
    removed, the old file is left untouched, and OSErrors become a one-line CodecError.
    """
    path = os.fspath(path)
    folder, base = os.path.split(os.path.abspath(path))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    tmp = None
    try:
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
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
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


def read_bytes(path: str | os.PathLike) -> bytes:
    """Read a whole file; a missing or unreadable one raises CodecError("cannot read FILE: reason")."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise CodecError(f"cannot read {os.fspath(path)}: {_reason(e)}") from e
