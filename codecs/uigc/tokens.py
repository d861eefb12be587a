"""Token grids of images, as the prior trains on them: extracted once with the tokenizer, cached.

A cache is one .npz: `flat` (every grid's tokens, uint8 or uint16, concatenated), `shapes`
(n x 2) and `names`. Training crops come from `TokenGrids.crops`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import numpy as np


class TokenGrids:
    """A list of token grids held as one flat array (cheap to load, crop and share)."""

    def __init__(self, flat: np.ndarray, shapes: np.ndarray, names: Iterable[str] = ()):
        self.flat, self.shapes = np.asarray(flat), np.asarray(shapes, dtype=np.int64)
        self.names = list(names)
        sizes = self.shapes.prod(1)
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        if self.offsets[-1] != self.flat.size:
            raise ValueError("token cache is inconsistent (shapes do not add up to its tokens)")

    @classmethod
    def load(cls, path: str | Path) -> "TokenGrids":
        with np.load(path) as z:
            return cls(z["flat"], z["shapes"], z["names"] if "names" in z else ())

    @classmethod
    def extract(cls, images: Iterable[tuple[str, np.ndarray]], tokenize: Callable[[np.ndarray], np.ndarray]
                ) -> "TokenGrids":
        grids, names = [], []
        for name, image in images:
            grids.append(np.asarray(tokenize(image)[0], dtype=np.uint16))
            names.append(name)
        return cls(np.concatenate([g.ravel() for g in grids]), np.array([g.shape for g in grids]), names)

    def save(self, path: str | Path) -> None:
        np.savez(path, flat=self.flat, shapes=self.shapes, names=np.array(self.names))

    def __len__(self) -> int:
        return len(self.shapes)

    def grid(self, i: int) -> np.ndarray:
        h, w = self.shapes[i]
        return self.flat[self.offsets[i]:self.offsets[i + 1]].reshape(h, w).astype(np.int64)

    def crops(self, rng: np.random.Generator, batch: int, size: int) -> np.ndarray:
        """batch x size x size random crops of grids at least that large."""
        ok = np.flatnonzero((self.shapes >= size).all(1))
        if not len(ok):
            raise ValueError(f"no token grid is at least {size}x{size}")
        out = np.empty((batch, size, size), dtype=np.int64)
        for b, i in enumerate(rng.choice(ok, batch)):
            g = self.grid(i)
            y = rng.integers(0, g.shape[0] - size + 1)
            x = rng.integers(0, g.shape[1] - size + 1)
            out[b] = g[y:y + size, x:x + size]
        return out
