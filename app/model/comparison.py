"""The comparison's state, without Qt: the original both sides encode, each side's result, whether a
result is stale (its settings changed since), and a "match the other side's size" that waits for
the other side's result.

Why apart from the Compare tab: which results still hold, what the RD plot may mark and what the
split view is labelled are rules (a new original forgets both sides; a stale side is neither plotted
nor trusted; a failure never leaves an old picture up), checked here without a window.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..jobs import SideResult

LABELS = ("A", "B")


@dataclass(eq=False)
class Comparison:
    """Two encodes of one original: side 0 (A, left) and side 1 (B, right)."""

    original: np.ndarray | None = None
    original_name: str | None = None
    results: list[SideResult | None] = field(default_factory=lambda: [None, None])
    stale: list[bool] = field(default_factory=lambda: [False, False])
    pending_match: int | None = None  # the side waiting for the other's result to match its size

    def set_original(self, image: np.ndarray | None, name: str | None) -> bool:
        """A new original forgets both sides; the same array again changes nothing. True if changed."""
        if image is self.original:
            return False
        self.original, self.original_name = image, name
        self.results = [None, None]
        self.stale = [False, False]
        self.pending_match = None
        return True

    def needs_encode(self, i: int) -> bool:
        """Side i has nothing to show yet (and an original to encode)."""
        return self.original is not None and self.results[i] is None

    def mark_stale(self, i: int) -> bool:
        """Side i's result no longer matches its settings; False if it has none to mark."""
        if self.results[i] is None:
            return False
        self.stale[i] = True
        return True

    def set_result(self, i: int, result: SideResult) -> int | None:
        """Side i finished. Returns the side that waited for it to match its size, if one did."""
        self.results[i], self.stale[i] = result, False
        if self.pending_match is not None and self.pending_match == 1 - i:
            j, self.pending_match = self.pending_match, None
            return j
        return None

    def fail(self, i: int) -> None:
        """Side i failed: never leave its old picture over the failure."""
        self.results[i], self.stale[i] = None, False

    def match_target(self, i: int) -> float | None:
        """The bpp side i should aim at to match the other side (rounded as the spin box shows it);
        None when the other side has no result yet: side i then waits for it."""
        other = self.results[1 - i]
        if other is None:
            self.pending_match = i
            return None
        return round(other.encode.bpp, 3)

    def images(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        a, b = (r.image if r is not None else None for r in self.results)
        return a, b

    def shown(self) -> tuple[np.ndarray, np.ndarray] | None:
        """What each side shows: its result, else the original (None: no original)."""
        if self.original is None:
            return None
        a, b = self.images()
        return (a if a is not None else self.original), (b if b is not None else self.original)

    def points(self) -> list[tuple[str, float, float | None, float | None]]:
        """(label, bpp, LPIPS, PSNR) of each side with a result that is not stale, for the RD plot."""
        out = []
        for label, r, stale in zip(LABELS, self.results, self.stale):
            if r is not None and not stale:
                out.append((f"{label}: {r.encode.request.codec}", r.encode.bpp, r.metrics.get("lpips"),
                            r.metrics.get("psnr")))
        return out

    def labels(self) -> tuple[str, str]:
        """What the split view writes over each side: codec and bpp, and STALE when it is."""
        out = []
        for label, r, stale in zip(LABELS, self.results, self.stale):
            text = "" if r is None else f"{label}: {r.encode.request.codec} · {r.encode.bpp:.3f} bpp"
            out.append(text + " · STALE" if text and stale else text)
        return out[0], out[1]
