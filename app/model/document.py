"""The viewer's document, without Qt: the open file, its decoded layers, the layer on screen, the
original, the ROI mask to keep, per-layer metrics and whether the bytes are saved.

Why apart from the window: what is open and what is known about it is plain data with rules
(an original must match the decoded size; a new file forgets the old layers and metrics; the
layer on screen follows the decode until the user picks another; an encode result is named after
the original and is not saved yet), which tests check without a window and which a second front
end could reuse. The window subscribes and shows what changed. Mutate it from one thread only
(the GUI thread: workers' results arrive there as signals).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from gic.codecs.base import Preview

if TYPE_CHECKING:
    from ..jobs import FileInfo

#: Events observers receive: the container's description arrived ("info"), a layer was decoded
#: ("layer"), the layer on screen changed ("current"), decoding failed ("error"), the original
#: was attached ("original"), a layer's metrics arrived ("metrics"), the bytes were saved ("saved").
EVENTS = ("info", "layer", "current", "error", "original", "metrics", "saved")

#: observer(event, document, layer): `layer` is the layer concerned ("layer", "current",
#: "metrics"), else None.
Observer = Callable[[str, "Document", "int | None"], None]


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
    current: int | None = None  # the layer on screen (1-based), None before the first
    metrics: dict[int, dict] = field(default_factory=dict)  # layer -> {"psnr": ..., "lpips": ...}
    _observers: list[Observer] = field(default_factory=list, repr=False)

    # -- observing ----------------------------------------------------------------------------------
    def subscribe(self, observer: Observer) -> None:
        self._observers.append(observer)

    def _emit(self, event: str, layer: int | None = None) -> None:
        for observer in list(self._observers):
            observer(event, self, layer)

    # -- what it is -----------------------------------------------------------------------------------
    @property
    def title(self) -> str:
        """The name as a window title shows it: an unsaved encode result says so."""
        return self.name + ("" if self.saved else " (not saved)")

    @property
    def unsaved(self) -> bool:
        """Encoded bytes that were never written (closing would lose them)."""
        return self.data is not None and not self.saved

    @property
    def source_name(self) -> str:
        """What an encode of this document is of: the original's name, else the file's."""
        return self.original_name or self.name

    @property
    def save_suffix(self) -> str:
        return Path(self.name).suffix or ".gic"

    def mark_saved(self, path: Path) -> None:
        """The bytes are now in `path`: the document takes its name."""
        self.path, self.name, self.saved = Path(path), Path(path).name, True
        self._emit("saved")

    def encoded(self, data: bytes, codec: str, extension: str, roi: np.ndarray | None = None) -> Document:
        """A new, unsaved document for an encode of this one: named after the original (not after
        a previous encode of it), carrying the original and the ROI that was painted for it."""
        return Document(name=f"{Path(self.source_name).stem}-{codec}{extension}", data=data, codec=codec,
                        original=self.original, original_name=self.original_name, saved=False,
                        keep_mask=roi)

    # -- decoding -------------------------------------------------------------------------------------
    def set_info(self, info: FileInfo) -> None:
        """What the container says (before the first layer)."""
        self.info = info
        self.codec = info.codec
        self._emit("info")

    def initial_roi(self) -> np.ndarray | None:
        """The ROI to edit: the one stored in the file, else the one painted before re-encoding."""
        if self.info is not None and self.info.roi is not None:
            return self.info.roi
        return self.keep_mask

    def add_preview(self, preview: Preview) -> None:
        """A decoded layer. The layer on screen follows the decode while it shows the finest one."""
        follow = self.current is None or (self.latest is not None and self.current == self.latest.layer)
        self.previews.append(preview)
        self._emit("layer", preview.layer)
        if follow:
            self.select(preview.layer)

    def fail(self, message: str) -> None:
        self.error = message
        self._emit("error")

    @property
    def latest(self) -> Preview | None:
        """The finest layer decoded so far."""
        return self.previews[-1] if self.previews else None

    def preview(self, layer: int | None) -> Preview | None:
        for p in self.previews:
            if p.layer == layer:
                return p
        return None

    def layers(self) -> list[int]:
        return sorted(p.layer for p in self.previews)

    @property
    def partial(self) -> bool:
        return bool(self.info is not None and self.info.partial)

    def partial_note(self) -> str | None:
        """What to tell when the file holds fewer layers than it announces (None: it does not)."""
        if not self.partial:
            return None
        return (f"{self.name} is partial: it holds {len(self.previews)} of {self.info.num_layers} layers "
                f"(the file was cut short). Showing what it has.")

    def failure_note(self, message: str) -> str:
        """What to tell when decoding fails: where it stopped, or that nothing could be opened."""
        if self.previews:
            return f"{self.name}: decoding stopped after layer {self.previews[-1].layer}: {message}"
        return f"Cannot open {self.name}: {message}"

    # -- the layer on screen ---------------------------------------------------------------------------
    def select(self, layer: int) -> Preview | None:
        """Put decoded layer `layer` on screen (a layer not decoded is ignored)."""
        p = self.preview(layer)
        if p is not None:
            self.current = layer
            self._emit("current", layer)
        return p

    @property
    def current_preview(self) -> Preview | None:
        return self.preview(self.current)

    def step(self, step: int) -> int | None:
        """The decoded layer `step` away from the one on screen (clamped; the first when none is)."""
        layers = self.layers()
        if not layers:
            return None
        i = layers.index(self.current) + step if self.current in layers else 0
        return layers[max(0, min(len(layers) - 1, i))]

    # -- the original and metrics ----------------------------------------------------------------------
    @property
    def has_image(self) -> bool:
        return self.original is not None or bool(self.previews)

    def encode_source(self) -> np.ndarray | None:
        """What a re-encode starts from: the original if known, else the finest decoded layer."""
        if self.original is not None:
            return self.original
        return self.previews[-1].image if self.previews else None

    def mismatch(self, image: np.ndarray, name: str) -> str | None:
        """Why `image` cannot be this document's original (None: it can)."""
        ref = self.previews[0].image if self.previews else self.original
        if ref is not None and ref.shape != image.shape:
            return (f"The original {name} is {image.shape[1]}×{image.shape[0]}, "
                    f"the file {ref.shape[1]}×{ref.shape[0]}: not attached.")
        return None

    def attach_original(self, image: np.ndarray, name: str) -> None:
        """Set the original (check `mismatch` first); metrics measured so far no longer apply."""
        why = self.mismatch(image, name)
        if why:
            raise ValueError(why)
        self.original, self.original_name = image, name
        self.metrics.clear()
        self._emit("original")

    @property
    def measurable(self) -> bool:
        """Layers and an original to measure them against."""
        return self.original is not None and bool(self.previews)

    @property
    def heatmap_possible(self) -> bool:
        """An original, and layers decoded or coming, to draw a heatmap of."""
        return self.original is not None and bool(self.previews or self.data is not None)

    def set_metrics(self, layer: int, values: dict) -> None:
        self.metrics[layer] = dict(values)
        self._emit("metrics", layer)

    def quality(self, layer: int) -> dict:
        """bits, bpp and the metrics measured so far (psnr, lpips) of decoded layer `layer`."""
        p = self.preview(layer)
        if p is None:
            return {}
        h, w = p.image.shape[:2]
        return {**self.metrics.get(layer, {}), "bits": p.bits, "bpp": p.bits / (h * w)}

    def summary(self, layer: int) -> str | None:
        """One line on decoded layer `layer`: its bpp, and PSNR and LPIPS when measured."""
        p, q = self.preview(layer), self.quality(layer)
        if p is None:
            return None
        text = f"Layer {p.layer}/{p.num_layers}: {q['bpp']:.4f} bpp"
        if q.get("psnr") is not None:
            text += f", PSNR {q['psnr']:.2f} dB"
        if q.get("lpips") is not None:
            text += f", LPIPS {q['lpips']:.4f}"
        return text
