"""Tiled analysis and synthesis so memory stays bounded for large photos (4000x3000 and up).

Tiles are cut on the latent grid at multiples of the attention window, with a halo wider than
the networks' receptive field around each core, so tiled results match whole-image results
except for the far edges of each halo (which are cropped). Small images go through in one piece.
"""
from __future__ import annotations

import torch

from .model import FACTOR, ProGIC

TILE = 48  # latent positions per tile core (768 pixels)
HALO = 8  # latent positions of context on each side (128 pixels)


def _spans(n: int, tile: int, halo: int):
    """(core_start, core_end, in_start, in_end) along one axis."""
    for a in range(0, n, tile):
        b = min(n, a + tile)
        yield a, b, max(0, a - halo), min(n, b + halo)


def analyse_tiled(model: ProGIC, x: torch.Tensor, tile: int = TILE, halo: int = HALO) -> torch.Tensor:
    """Indices S x 1 x h x w for one image (1 x 3 x H x W in [0, 1])."""
    x = model.pad(x)
    h, w = x.shape[-2] // FACTOR, x.shape[-1] // FACTOR
    if h <= tile + halo and w <= tile + halo:
        return model.analyse(x)
    out = torch.empty(model.cfg.stages, 1, h, w, dtype=torch.long, device=x.device)
    for y0, y1, iy0, iy1 in _spans(h, tile, halo):
        for x0, x1, ix0, ix1 in _spans(w, tile, halo):
            part = x[..., iy0 * FACTOR: iy1 * FACTOR, ix0 * FACTOR: ix1 * FACTOR]
            idx = model.analyse(part)
            out[..., y0:y1, x0:x1] = idx[..., y0 - iy0: y1 - iy0, x0 - ix0: x1 - ix0]
    return out


def synthesise_tiled(model: ProGIC, indices: torch.Tensor, depth: torch.Tensor,
                     tile: int = TILE, halo: int = HALO) -> torch.Tensor:
    """Image 1 x 3 x 16h x 16w from indices S x 1 x h x w and depth 1 x h x w."""
    h, w = depth.shape[-2:]
    if h <= tile + halo and w <= tile + halo:
        return model.synthesise(indices, depth)
    out = torch.empty(1, 3, h * FACTOR, w * FACTOR, device=depth.device)
    for y0, y1, iy0, iy1 in _spans(h, tile, halo):
        for x0, x1, ix0, ix1 in _spans(w, tile, halo):
            img = model.synthesise(indices[..., iy0:iy1, ix0:ix1], depth[..., iy0:iy1, ix0:ix1])
            out[..., y0 * FACTOR: y1 * FACTOR, x0 * FACTOR: x1 * FACTOR] = \
                img[..., (y0 - iy0) * FACTOR: (y1 - iy0) * FACTOR, (x0 - ix0) * FACTOR: (x1 - ix0) * FACTOR]
    return out
