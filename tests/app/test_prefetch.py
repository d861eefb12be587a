"""The launch-time decode of `gic view`'s file: picked up by the decode job, same layers as without."""
from __future__ import annotations

import numpy as np

from gic.app import jobs, prefetch
from gic.codecs.base import Preview


class _Ctx:
    def __init__(self) -> None:
        self.out: list = []
        self.fractions: list[float] = []

    def check(self) -> None:
        pass

    def progress(self, fraction: float) -> bool:
        self.fractions.append(fraction)
        return False

    def emit(self, payload) -> None:
        self.out.append(payload)

    def cancelled(self) -> bool:
        return False


def _previews(ctx: _Ctx) -> list[Preview]:
    return [p for p in ctx.out if isinstance(p, Preview)]


def test_decode_job_continues_the_prefetched_decode(gic_file, monkeypatch):
    data = gic_file.read_bytes()
    plain = _Ctx()
    jobs.decode_job(plain, data)
    assert prefetch.start(gic_file)
    created = []
    monkeypatch.setattr(jobs, "get_codec", lambda *a, **k: created.append(a))  # must not be needed
    early = _Ctx()
    result = jobs.decode_job(early, data)
    assert not created and result.layers == len(_previews(plain)) == 4
    for a, b in zip(_previews(plain), _previews(early)):
        assert a.layer == b.layer and np.array_equal(a.image, b.image)
    assert prefetch.take(data, early.progress) is None  # taken once


def test_a_prefetch_of_other_bytes_is_dropped(gic_file, tmp_path):
    assert prefetch.start(gic_file)
    other = gic_file.read_bytes()[:-1]
    assert prefetch.take(other, lambda f: False) is None
    assert prefetch.take(gic_file.read_bytes(), lambda f: False) is None  # the slot was emptied


def test_nothing_starts_for_files_it_cannot_decode(tmp_path, image_png):
    bad = tmp_path / "bad.gic"
    bad.write_bytes(b"GIC\x00 not really")
    assert not prefetch.start(bad)
    assert not prefetch.start(tmp_path / "missing.gic")
    assert not prefetch.start(image_png)  # an image: the window loads it as the original
