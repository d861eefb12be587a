"""Decode progress and cancel through the codec interface (issue 24): every learned codec reports
monotonic progress that reaches 1 and, asked to stop, raises Cancelled before the rest of the work.

Small tiles on a crop of the bundled sample stand in for a large photo (the same loops)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gic.codecs import registry
from gic.codecs.base import Cancelled
from gic.codecs.learned import codec as learned_codec
from gic.resources import path

LEARNED = ("progic", "uigc", "mcdh")


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    with Image.open(path("samples", "kodim23.png")) as im:
        return np.ascontiguousarray(np.asarray(im.convert("RGB"))[128:320, 256:512])  # 16x12 tokens


@pytest.fixture(scope="module", params=LEARNED)
def tiled(request, image):
    """(codec with 4x4-position tiles: 12 tiles on this crop, its file at the default quality)."""
    if request.param not in registry.names():
        pytest.skip(f"{request.param} is not installed")
    codec = registry.create(request.param)
    for c in (codec, getattr(codec, "tokenizer", None)):  # UIGC renders through its tokenizer
        if c is not None:
            c.tile, c.halo = 4, 2  # instance attributes: the classes keep their defaults
    return codec, codec.encode(image)


@pytest.fixture()
def tiles(monkeypatch) -> list[int]:
    """Counts the tiles synthesised (every learned codec renders through learned.tiling)."""
    done: list[int] = []
    original = learned_codec.synthesise_image

    def counting(synthesise, *args, **kw):
        return original(lambda *g: done.append(1) or synthesise(*g), *args, **kw)

    monkeypatch.setattr(learned_codec, "synthesise_image", counting)
    return done


def recorder(stop_at: float = 2.0):
    seen: list[float] = []

    def progress(f: float) -> bool:
        seen.append(f)
        return f >= stop_at
    return seen, progress


@pytest.mark.parametrize("progressive", [True, False])
def test_progress_is_monotonic_moves_per_step_and_reaches_one(tiled, tiles, progressive):
    codec, data = tiled
    seen, progress = recorder()
    if progressive:
        previews = list(codec.decode_progressive(data, progress=progress))
        image = previews[-1].image
    else:
        image = codec.decode(data, progress=progress)
    synthesised = len(tiles)
    assert np.array_equal(image, codec.decode(data))  # reporting changes no pixel
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0) and 0 <= seen[0] < 1
    # the bar moves during the synthesis: a report per tile (per batch of tiles that finish
    # together on torch's pool of tile workers)
    assert synthesised >= 12 and len(seen) >= synthesised / 2


@pytest.mark.parametrize("stop_at", [0.2, 0.6])
def test_cancel_stops_at_the_next_step(tiled, tiles, stop_at):
    codec, data = tiled
    list(codec.decode_progressive(data))
    total = len(tiles)
    tiles.clear()
    seen, progress = recorder(stop_at)
    with pytest.raises(Cancelled):
        list(codec.decode_progressive(data, progress=progress))
    assert seen[-1] >= stop_at and all(f < stop_at for f in seen[:-1])  # nothing after the stop
    assert len(tiles) < total * (stop_at + 0.2), (len(tiles), total)


@pytest.mark.parametrize("name", ["jpeg", "webp-x2"])
def test_a_one_call_decode_reports_its_end(image, name):
    codec = registry.create(name)
    seen, progress = recorder()
    out = codec.decode(codec.encode(image), progress=progress)
    assert out.shape == image.shape and seen[-1] == 1.0 and seen == sorted(seen)
