"""Decode the first layer of the file `gic view` opens while the window is still being built.

Why: at launch the GUI thread spends ~0.7 s importing Qt and building the window, and only then
would the decode worker start: loading the codec (ONNX sessions) and decoding the first layer take
another ~0.7 s. Both are independent, so a plain thread starts the second at once and the decode job
picks up what it has (`take`), continuing the same progressive decode. Qt-free; nothing here is
required: on any failure the decode job simply decodes from scratch (and reports the error itself).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from gic.codecs.base import Codec, Preview

_slot: "Prefetch | None" = None
_slot_lock = threading.Lock()


class _Progress:
    """The progress callback given to the codec at the start; forwards to the decode job's once
    it takes over (until then: no cancel)."""

    def __init__(self) -> None:
        self.target: Callable[[float], bool] | None = None

    def __call__(self, fraction: float) -> bool:
        target = self.target
        return bool(target(fraction)) if target is not None else False


@dataclass
class Prefetch:
    """A progressive decode started early: the file's bytes, and once `done` is set, its codec,
    the running layer generator and its first preview (or nothing, if it failed)."""

    data: bytes
    done: threading.Event = field(default_factory=threading.Event)
    codec: Codec | None = None
    layers: Iterator[Preview] | None = None
    first: Preview | None = None
    progress: _Progress = field(default_factory=_Progress)

    def run(self, name: str, get_codec: Callable[[str], Codec]) -> None:
        try:
            codec = get_codec(name)
            layers = codec.decode_progressive(self.data, progress=self.progress)
            self.first = next(layers)
            self.codec, self.layers = codec, layers
        except BaseException:  # noqa: BLE001 - the decode job decodes again and reports it
            self.first = self.layers = self.codec = None
        finally:
            self.done.set()


def start(path: str | Path) -> bool:
    """Start decoding the first layer of the .gic at `path` in the background; False when there
    is nothing to start (not a .gic, unreadable, its codec not installed)."""
    global _slot
    from gic.codecs import opening, registry

    from .jobs import get_codec, read_file

    try:
        data = read_file(path)
        opened = opening.open_bytes(data)
    except Exception:  # noqa: BLE001 - the window opens the file itself and says what is wrong
        return False
    if not opened.is_gic or opened.gic.header.codec not in registry.names():
        return False
    job = Prefetch(data)
    with _slot_lock:
        _slot = job
    threading.Thread(target=job.run, args=(opened.gic.header.codec, get_codec),
                     name="gic-prefetch", daemon=True).start()
    return True


def take(data: bytes, progress: Callable[[float], bool]) -> Prefetch | None:
    """The early decode of exactly these bytes, once its first layer is there (waits for it),
    with its progress now forwarded to `progress`; None if there is none or it failed. A slot is
    taken once: any call empties it."""
    global _slot
    with _slot_lock:
        job, _slot = _slot, None
    if job is None or job.data != data:
        return None
    job.done.wait()
    if job.first is None:
        return None
    job.progress.target = progress
    return job
