"""The viewer's document, without Qt: the open file, its decoded layers, the original, the ROI
mask to keep, per-layer metrics and the compare sides. The Qt window observes it.

Why apart from the window: what is open and what is known about it is plain data with rules
(an original must match the decoded size; a new file forgets the old layers and metrics), which
tests can check without a window, and which a second front end could reuse. Mutate it from one
thread only (the GUI thread: workers' results arrive there as signals).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from gic.codecs.base import Preview

from .jobs import FileInfo

#: Events observers receive: the container's description arrived, a layer was decoded, decoding
#: failed, the original was attached, a layer's metrics arrived, a compare side changed.
EVENTS = ("info", "layer", "error", "original", "metrics", "side")

Observer = Callable[[str, "Document"], None]


@dataclass(eq=False)
class Document:
    """One open file (or image): encoded bytes if any, their layers, and the original if known."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    codec: str | None = None
    info: FileInfo | None = None
    original: np.ndarray | None = None
    original_name: str | None = None
    saved: bool = True
    error: str | None = None
    keep_mask: np.ndarray | None = None  # the painted ROI survives a re-encode with a codec without ROI
    previews: list[Preview] = field(default_factory=list)
    metrics: dict[int, dict] = field(default_factory=dict)  # layer -> {"psnr": ..., "lpips": ...}
    sides: list = field(default_factory=lambda: [None, None])  # compare results (A, B)
    _observers: list[Observer] = field(default_factory=list, repr=False)

    # -- observing ----------------------------------------------------------------------------------
    def subscribe(self, observer: Observer) -> None:
        self._observers.append(observer)

    def _emit(self, event: str) -> None:
        for observer in list(self._observers):
            observer(event, self)

    # -- decoding -------------------------------------------------------------------------------------
    def set_info(self, info: FileInfo) -> None:
        """What the container says (before the first layer)."""
        self.info = info
        self.codec = info.codec
        self._emit("info")

    def add_preview(self, preview: Preview) -> None:
        self.previews.append(preview)
        self._emit("layer")

    def fail(self, message: str) -> None:
        self.error = message
        self._emit("error")

    @property
    def latest(self) -> Preview | None:
        """The finest layer decoded so far."""
        return self.previews[-1] if self.previews else None

    def preview(self, layer: int) -> Preview | None:
        for p in self.previews:
            if p.layer == layer:
                return p
        return None

    @property
    def partial(self) -> bool:
        return bool(self.info is not None and self.info.partial)

    @property
    def has_image(self) -> bool:
        return self.original is not None or bool(self.previews)

    def encode_source(self) -> np.ndarray | None:
        """What a re-encode starts from: the original if known, else the finest decoded layer."""
        if self.original is not None:
            return self.original
        return self.previews[-1].image if self.previews else None

    # -- the original and metrics ----------------------------------------------------------------------
    def mismatch(self, image: np.ndarray, name: str) -> str | None:
        """Why `image` cannot be this document's original (None: it can)."""
        ref = self.previews[0].image if self.previews else self.original
        if ref is not None and ref.shape != image.shape:
            return (f"The original {name} is {image.shape[1]}×{image.shape[0]}, "
                    f"the file {ref.shape[1]}×{ref.shape[0]}: not attached.")
        return None

    def attach_original(self, image: np.ndarray, name: str) -> None:
        """Set the original (check `mismatch` first); metrics measured so far no longer apply."""
        if self.mismatch(image, name):
            raise ValueError(self.mismatch(image, name))
        self.original, self.original_name = image, name
        self.metrics.clear()
        self._emit("original")

    def set_metrics(self, layer: int, values: dict) -> None:
        self.metrics[layer] = dict(values)
        self._emit("metrics")

    # -- comparison -------------------------------------------------------------------------------------
    def set_side(self, i: int, result) -> None:
        self.sides[i] = result
        self._emit("side")
