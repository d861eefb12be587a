"""Tiled analysis and synthesis so memory stays bounded for large photos (4000x3000 and up).

Tiles are cut on the latent grid at multiples of the attention window, with a halo wider than
the networks' receptive field around each core, so tiled results match whole-image results
except for the far edges of each halo (which are cropped). Small images go through in one piece.

Family-neutral: a family hands in its analysis (image -> latent-grid tensor) and synthesis
(latent-grid tensors -> image) functions and its downsampling factor.

Analysis and `synthesise_image` take an optional `progress` callback (fraction of tiles done ->
True to stop): a large photo is dozens of tiles and minutes of work, so progress moves per tile
and a cancel takes effect after the tile in hand, not after the whole image.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..base import Cancelled, ProgressFn

TILE = 48  # latent positions per tile core (768 pixels at 16x)
HALO = 8  # latent positions of context on each side (128 pixels at 16x)


class FloatImage:
    """An H x W x 3 uint8 image as the 1 x 3 x H' x W' float32 array in [0, 1], edge-replicated to
    a multiple of `factor`, converted only where it is sliced (`x[..., rows, cols]`).

    Why: the whole float image is 12 bytes a pixel and making it (convert, divide, pad) takes three
    such copies at once, 1.7 GB for an 8000x6000 photo, while `analyse_tiled` reads it a tile at a
    time. A slice's values are the whole array's: the conversion is per pixel and the padding
    repeats the last row and column."""

    def __init__(self, image: np.ndarray, factor: int):
        self.image = image
        h, w = image.shape[:2]
        self.shape = (1, 3, h + (-h % factor), w + (-w % factor))

    def __getitem__(self, key: tuple) -> np.ndarray:
        if not (isinstance(key, tuple) and len(key) == 3 and key[0] is Ellipsis
                and all(isinstance(k, slice) for k in key[1:])):
            raise TypeError("a FloatImage is sliced as x[..., rows, cols]")
        h, w = self.image.shape[:2]
        rows = np.minimum(np.arange(*key[1].indices(self.shape[2])), h - 1)
        cols = np.minimum(np.arange(*key[2].indices(self.shape[3])), w - 1)
        part = self.image[rows[:, None], cols[None]]
        return part.transpose(2, 0, 1)[None].astype(np.float32) / np.float32(255.0)


def _empty_like(part: Any, shape: tuple[int, ...]) -> Any:
    """An uninitialised array like `part` (a torch tensor or a numpy array: both runtimes tile)."""
    if isinstance(part, np.ndarray):
        return np.empty(shape, dtype=part.dtype)
    return part.new_empty(shape)


def _spans(n: int, tile: int, halo: int):
    """(core_start, core_end, in_start, in_end) along one axis."""
    for a in range(0, n, tile):
        b = min(n, a + tile)
        yield a, b, max(0, a - halo), min(n, b + halo)


def analyse_tiled(analyse: Callable[[Any], Any], x: Any, factor: int,
                  tile: int = TILE, halo: int = HALO, progress: ProgressFn | None = None) -> Any:
    """`analyse` (image ... x H x W, a multiple of `factor`, -> ... x H/factor x W/factor) of an image
    already padded to a multiple of `factor`, in tiles when it is large (`progress` after each
    tile; it returning True raises Cancelled)."""
    h, w = x.shape[-2] // factor, x.shape[-1] // factor
    if h <= tile + halo and w <= tile + halo:
        out = analyse(x[..., :h * factor, :w * factor])  # the whole image (a FloatImage converts here)
        _tile_done(progress, 1, 1)
        return out
    out = None
    spans = tile_spans(h, w, tile, halo)
    for i, ((y0, y1, iy0, iy1), (x0, x1, ix0, ix1)) in enumerate(spans, 1):
        part = analyse(x[..., iy0 * factor: iy1 * factor, ix0 * factor: ix1 * factor])
        if out is None:
            out = _empty_like(part, part.shape[:-2] + (h, w))
        out[..., y0:y1, x0:x1] = part[..., y0 - iy0: y1 - iy0, x0 - ix0: x1 - ix0]
        _tile_done(progress, i, len(spans))
    return out


def _tile_done(progress: ProgressFn | None, done: int, total: int) -> None:
    if progress is not None and progress(done / total):
        raise Cancelled()


def synthesise_tiled(synthesise: Callable[..., Any], grids: tuple[Any, ...], factor: int,
                     tile: int = TILE, halo: int = HALO) -> Any:
    """`synthesise(*grids)` (each ... x h x w on the latent grid -> image ... x factor*h x factor*w),
    in tiles when the grid is large."""
    h, w = grids[0].shape[-2:]
    if h <= tile + halo and w <= tile + halo:
        return synthesise(*grids)
    out = None
    for y0, y1, iy0, iy1 in _spans(h, tile, halo):
        for x0, x1, ix0, ix1 in _spans(w, tile, halo):
            img = synthesise(*(g[..., iy0:iy1, ix0:ix1] for g in grids))
            if out is None:
                out = _empty_like(img, img.shape[:-2] + (h * factor, w * factor))
            out[..., y0 * factor: y1 * factor, x0 * factor: x1 * factor] = \
                img[..., (y0 - iy0) * factor: (y1 - iy0) * factor, (x0 - ix0) * factor: (x1 - ix0) * factor]
    return out


def tile_spans(h: int, w: int, tile: int = TILE, halo: int = HALO) -> list[tuple[tuple[int, int, int, int], ...]]:
    """Every tile of an h x w latent grid as ((y0, y1, iy0, iy1), (x0, x1, ix0, ix1)); one tile
    covering the grid when it is small (the whole-image path)."""
    if h <= tile + halo and w <= tile + halo:
        return [((0, h, 0, h), (0, w, 0, w))]
    return [(ys, xs) for ys in _spans(h, tile, halo) for xs in _spans(w, tile, halo)]


def synthesise_image(synthesise: Callable[..., Any], grids: tuple[Any, ...], factor: int,
                     height: int, width: int, to_image: Callable[[Any, int, int], np.ndarray], *,
                     tile: int = TILE, halo: int = HALO, workers: int = 1,
                     progress: Callable[[float], Any] | None = None,
                     cancelled: type[Exception] = RuntimeError) -> np.ndarray:
    """The HxWx3 uint8 image of `synthesise(*grids)`, tile by tile straight into the output.

    Why: the float image of a large photo is 12 bytes a pixel, and converting it whole needs
    several such copies (2.2 GB at 8000x6000); here only `workers` tiles are float at a time and
    the output is the uint8 array the caller gets. Pixels equal `to_image(synthesise_tiled(...))`:
    the conversion is per pixel. Tiles run on `workers` threads (the caller keeps each tile's
    kernels single-threaded, so the result is the same for any worker count). `progress(f)`
    after each tile; returning True raises `cancelled`.
    """
    h, w = grids[0].shape[-2:]
    out = np.empty((height, width, 3), dtype=np.uint8)
    spans = tile_spans(h, w, tile, halo)

    def run(span: tuple[tuple[int, int, int, int], ...]) -> None:
        (y0, y1, iy0, iy1), (x0, x1, ix0, ix1) = span
        img = synthesise(*(g[..., iy0:iy1, ix0:ix1] for g in grids))
        top, left = y0 * factor, x0 * factor
        rows, cols = min(y1 * factor, height) - top, min(x1 * factor, width) - left
        core = img[..., (y0 - iy0) * factor:, (x0 - ix0) * factor:]
        out[top: top + rows, left: left + cols] = to_image(core, rows, cols)

    def step(done: int) -> None:
        if progress is not None and progress(done / len(spans)):
            raise cancelled()

    if workers <= 1 or len(spans) == 1:
        for k, span in enumerate(spans, 1):
            run(span)
            step(k)
        return out
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    with ThreadPoolExecutor(max_workers=min(workers, len(spans)), thread_name_prefix="gic-tile") as pool:
        futures = [pool.submit(run, span) for span in spans]
        try:
            done = 0
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in finished:
                    f.result()  # re-raises a tile's error here, in the caller's thread
                done += len(finished)
                step(done)
        finally:
            for f in futures:
                f.cancel()
    return out
