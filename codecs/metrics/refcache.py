"""The reference image's network features, kept between calls that compare it with many distortions.

Why: a benchmark compares each original with ~100 decoded versions (codecs x quality points), and
the viewer compares one original with each layer it shows. LPIPS and DISTS run the same network on
the reference every time; keeping its features skips that half of the work (for DISTS, about half
the cost of a point). The features are exactly those an uncached call computes, so results are
identical, cached or not.

The cache is keyed by the image's bytes (a 128-bit BLAKE2 digest, ~1 ms per 768x512 image), the
metric and the device, holds the most recently used few references, and never more than
`GIC_METRIC_CACHE_MB` MiB (default 1024) in total: a reference whose features would not fit (DISTS
keeps ~0.26 KB per pixel: 200 MB for 768x512, 3 GB for 12 Mpx) is simply not cached.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from typing import Any, Hashable

import numpy as np
import torch

#: References kept at once (per metric and device together); a benchmark needs one, Ray tasks
#: that interleave images a few.
SLOTS = 4


def _budget() -> int:
    try:
        return max(0, int(os.environ.get("GIC_METRIC_CACHE_MB", "1024"))) << 20
    except ValueError:
        return 1024 << 20


def image_key(image: np.ndarray) -> tuple:
    """Shape and digest of an image's pixels: equal keys mean equal images."""
    digest = hashlib.blake2b(memoryview(np.ascontiguousarray(image)).cast("B"), digest_size=16).digest()
    return (image.shape, str(image.dtype), digest)


def nbytes(value: Any) -> int:
    """Bytes held by tensors in a (nested) list/tuple."""
    if isinstance(value, torch.Tensor):
        return value.element_size() * value.nelement()
    if isinstance(value, (list, tuple)):
        return sum(nbytes(v) for v in value)
    return 0


class FeatureCache:
    """A small LRU of reference features under a byte budget; thread-safe (the viewer measures off
    the GUI thread)."""

    def __init__(self, slots: int = SLOTS, max_bytes: int | None = None) -> None:
        self.slots = slots
        self.max_bytes = _budget() if max_bytes is None else max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def fits(self, size: int) -> bool:
        return 0 < size <= self.max_bytes

    def put(self, key: Hashable, value: Any) -> bool:
        """Keep `value` (evicting the least recently used); False if it alone exceeds the budget."""
        size = nbytes(value)
        if not self.fits(size):
            return False
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = (value, size)
            while len(self._items) > self.slots or sum(s for _, s in self._items.values()) > self.max_bytes:
                self._items.popitem(last=False)
            return True

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    @property
    def held_bytes(self) -> int:
        with self._lock:
            return sum(s for _, s in self._items.values())


#: The process-wide cache LPIPS and DISTS use.
CACHE = FeatureCache()


def key_for(metric: Hashable, image: np.ndarray, device: torch.device) -> tuple:
    """The cache key of `image`'s features for `metric` (with whatever else shapes them, such as
    the tile size) on `device`."""
    return (metric, str(device), *image_key(image))
