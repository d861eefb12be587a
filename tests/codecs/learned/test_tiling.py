"""Tiled synthesis straight into a uint8 image: the same pixels as converting the whole float
image, any number of worker threads, progress per tile and cancel (issue 24)."""
from __future__ import annotations

import numpy as np
import pytest

from gic.codecs.base import Cancelled
from gic.codecs.learned.codec import LearnedCodec
from gic.codecs.learned.tiling import FloatImage, analyse_tiled, synthesise_image, synthesise_tiled, tile_spans

FACTOR = 4


def fake_synthesise(grid: np.ndarray) -> np.ndarray:
    """Latent grid (1 x 1 x h x w) -> image (1 x 3 x 4h x 4w) in about [-0.1, 1.1] (clamping matters)."""
    up = np.kron(grid, np.ones((1, 1, FACTOR, FACTOR), np.float32))
    return np.concatenate([up, 1 - up, up * 0.5 + 0.25], axis=1).astype(np.float32)


@pytest.mark.parametrize("workers", [1, 3])
def test_tiles_into_uint8_equal_the_whole_float_image(workers):
    rng = np.random.default_rng(0)
    grid = rng.uniform(-0.1, 1.1, (1, 1, 21, 30)).astype(np.float32)
    height, width = 21 * FACTOR - 3, 30 * FACTOR - 2  # cropped like a padded image
    whole = LearnedCodec.to_image(synthesise_tiled(fake_synthesise, (grid,), FACTOR, tile=8, halo=2),
                                  height, width)
    calls = []
    got = synthesise_image(fake_synthesise, (grid,), FACTOR, height, width, LearnedCodec.to_image,
                           tile=8, halo=2, workers=workers, progress=calls.append)
    assert got.dtype == np.uint8 and got.shape == (height, width, 3)
    assert np.array_equal(got, whole)
    assert len(calls) >= 2 and calls[-1] == 1.0 and calls == sorted(calls)
    assert len(tile_spans(21, 30, 8, 2)) == 3 * 4


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_returning_true_cancels(workers):
    grid = np.zeros((1, 1, 20, 20), np.float32)
    seen = []

    def stop(fraction: float) -> bool:
        seen.append(fraction)
        return True

    with pytest.raises(Cancelled):
        synthesise_image(fake_synthesise, (grid,), FACTOR, 80, 80, LearnedCodec.to_image, tile=4,
                         halo=1, workers=workers, progress=stop, cancelled=Cancelled)
    assert len(seen) == 1 and seen[0] < 1.0


def test_float_image_slices_equal_the_whole_padded_float_image():
    # what to_array made before it converted tile by tile: convert, divide, edge-pad, all at once
    rng = np.random.default_rng(1)
    for h, w in ((1, 1), (16, 16), (17, 33), (129, 257)):
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        whole = image.transpose(2, 0, 1)[None].astype(np.float32) / np.float32(255.0)
        whole = np.pad(whole, ((0, 0), (0, 0), (0, -h % 16), (0, -w % 16)), mode="edge")
        lazy = FloatImage(image, 16)
        assert lazy.shape == whole.shape
        for _ in range(20):
            y0, x0 = rng.integers(0, whole.shape[2]), rng.integers(0, whole.shape[3])
            y1, x1 = rng.integers(y0 + 1, whole.shape[2] + 1), rng.integers(x0 + 1, whole.shape[3] + 1)
            assert np.array_equal(lazy[..., y0:y1, x0:x1], whole[..., y0:y1, x0:x1])
        # analysis in tiles of a FloatImage and of the whole array: the same
        pool = lambda x: x[..., 7::16, 15::16] + x[..., ::16, ::16]  # per pixel: equal on any tiling
        assert np.array_equal(analyse_tiled(pool, lazy, 16, tile=2, halo=1), analyse_tiled(pool, whole, 16, tile=2, halo=1))
    with pytest.raises(TypeError):
        FloatImage(image, 16)[0]
