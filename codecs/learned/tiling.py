"""Tiled analysis and synthesis so memory stays bounded for large photos (4000x3000 and up).

Tiles are cut on the latent grid at multiples of the attention window, with a halo wider than
the networks' receptive field around each core, so tiled results match whole-image results
except for the far edges of each halo (which are cropped). Small images go through in one piece.

Family-neutral: a family hands in its analysis (image -> latent-grid tensor) and synthesis
(latent-grid tensors -> image) functions and its downsampling factor.

Both take an optional `progress` callback (fraction of tiles done -> True to stop): a large photo
is dozens of tiles and minutes of work, so progress moves per tile and a cancel takes effect
after the tile in hand (`Cancelled` is raised), not after the whole image.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..base import Cancelled

ProgressFn = Callable[[float], bool]

TILE = 48  # latent positions per tile core (768 pixels at 16x)
HALO = 8  # latent positions of context on each side (128 pixels at 16x)


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


def _tiles(h: int, w: int, tile: int, halo: int) -> list[tuple[tuple[int, int, int, int], ...]]:
    return [(ys, xs) for ys in _spans(h, tile, halo) for xs in _spans(w, tile, halo)]


def _tile_done(progress: ProgressFn | None, done: int, total: int) -> None:
    if progress is not None and progress(done / total):
        raise Cancelled()


def analyse_tiled(analyse: Callable[[Any], Any], x: Any, factor: int,
                  tile: int = TILE, halo: int = HALO, progress: ProgressFn | None = None) -> Any:
    """`analyse` (image ... x H x W, a multiple of `factor`, -> ... x H/factor x W/factor) of an image
    already padded to a multiple of `factor`, in tiles when it is large."""
    h, w = x.shape[-2] // factor, x.shape[-1] // factor
    if h <= tile + halo and w <= tile + halo:
        out = analyse(x)
        _tile_done(progress, 1, 1)
        return out
    out = None
    tiles = _tiles(h, w, tile, halo)
    for i, ((y0, y1, iy0, iy1), (x0, x1, ix0, ix1)) in enumerate(tiles, 1):
        part = analyse(x[..., iy0 * factor: iy1 * factor, ix0 * factor: ix1 * factor])
        if out is None:
            out = _empty_like(part, part.shape[:-2] + (h, w))
        out[..., y0:y1, x0:x1] = part[..., y0 - iy0: y1 - iy0, x0 - ix0: x1 - ix0]
        _tile_done(progress, i, len(tiles))
    return out


def synthesise_tiled(synthesise: Callable[..., Any], grids: tuple[Any, ...], factor: int,
                     tile: int = TILE, halo: int = HALO, progress: ProgressFn | None = None) -> Any:
    """`synthesise(*grids)` (each ... x h x w on the latent grid -> image ... x factor*h x factor*w),
    in tiles when the grid is large."""
    h, w = grids[0].shape[-2:]
    if h <= tile + halo and w <= tile + halo:
        out = synthesise(*grids)
        _tile_done(progress, 1, 1)
        return out
    out = None
    tiles = _tiles(h, w, tile, halo)
    for i, ((y0, y1, iy0, iy1), (x0, x1, ix0, ix1)) in enumerate(tiles, 1):
        img = synthesise(*(g[..., iy0:iy1, ix0:ix1] for g in grids))
        if out is None:
            out = _empty_like(img, img.shape[:-2] + (h * factor, w * factor))
        out[..., y0 * factor: y1 * factor, x0 * factor: x1 * factor] = \
            img[..., (y0 - iy0) * factor: (y1 - iy0) * factor, (x0 - ix0) * factor: (x1 - ix0) * factor]
        _tile_done(progress, i, len(tiles))
    return out
