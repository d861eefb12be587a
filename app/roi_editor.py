"""Painting a region of interest: a numpy mask with undo/redo, the mouse tool, and its panel."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (QButtonGroup, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QSlider, QToolButton, QVBoxLayout, QWidget)

from .qimage import mask_to_rgba

MAX_UNDO = 40


class RoiMask:
    """An HxW bool mask with brush/eraser/rectangle edits and an undo stack (no Qt: testable alone)."""

    def __init__(self, height: int, width: int) -> None:
        self.mask = np.zeros((height, width), bool)
        self._undo: list[np.ndarray] = []
        self._redo: list[np.ndarray] = []

    @property
    def shape(self) -> tuple[int, int]:
        return self.mask.shape

    def snapshot(self) -> None:
        """Remember the current mask before an edit (one undo step per stroke)."""
        self._undo.append(self.mask.copy())
        del self._undo[:-MAX_UNDO]
        self._redo.clear()

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> bool:
        if not self._undo:
            return False
        self._redo.append(self.mask)
        self.mask = self._undo.pop()
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self.mask)
        self.mask = self._redo.pop()
        return True

    def stamp(self, x0: float, y0: float, x1: float, y1: float, radius: float, value: bool) -> None:
        """Paint a round brush of `radius` pixels along the segment (x0, y0) → (x1, y1)."""
        h, w = self.mask.shape
        r = max(0.5, float(radius))
        xmin, xmax = int(np.floor(min(x0, x1) - r)), int(np.ceil(max(x0, x1) + r))
        ymin, ymax = int(np.floor(min(y0, y1) - r)), int(np.ceil(max(y0, y1) + r))
        xmin, ymin = max(0, xmin), max(0, ymin)
        xmax, ymax = min(w, xmax + 1), min(h, ymax + 1)
        if xmin >= xmax or ymin >= ymax:
            return
        yy, xx = np.mgrid[ymin:ymax, xmin:xmax].astype(np.float32)
        px, py = xx + 0.5, yy + 0.5  # pixel centres
        dx, dy = x1 - x0, y1 - y0
        seg = dx * dx + dy * dy
        t = np.zeros_like(px) if seg == 0 else np.clip(((px - x0) * dx + (py - y0) * dy) / seg, 0, 1)
        dist2 = (px - (x0 + t * dx)) ** 2 + (py - (y0 + t * dy)) ** 2
        self.mask[ymin:ymax, xmin:xmax][dist2 <= r * r] = value

    def rectangle(self, x0: float, y0: float, x1: float, y1: float, value: bool = True) -> None:
        h, w = self.mask.shape
        xa, xb = sorted((int(np.floor(x0)), int(np.floor(x1))))
        ya, yb = sorted((int(np.floor(y0)), int(np.floor(y1))))
        xa, ya = max(0, xa), max(0, ya)
        xb, yb = min(w - 1, xb), min(h - 1, yb)
        if xa <= xb and ya <= yb:
            self.mask[ya:yb + 1, xa:xb + 1] = value

    def clear(self) -> None:
        self.snapshot()
        self.mask[:] = False

    def invert(self) -> None:
        self.snapshot()
        self.mask = ~self.mask

    def set(self, mask: np.ndarray) -> None:
        if mask.shape != self.mask.shape:
            raise ValueError(f"mask is {mask.shape[1]}x{mask.shape[0]}, image is "
                             f"{self.mask.shape[1]}x{self.mask.shape[0]}")
        self.snapshot()
        self.mask = mask.astype(bool).copy()


def save_mask_png(mask: np.ndarray, path: str | Path) -> None:
    """Write the mask as an 8-bit PNG (255 inside), atomically."""
    import io

    from PIL import Image

    from .jobs import write_file

    buf = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8) * 255, "L").save(buf, "PNG")
    write_file(path, buf.getvalue())


def load_mask_png(path: str | Path) -> np.ndarray:
    """Read a mask image with the library's rules (same as `gic encode --roi`): opaque pixels of a
    mask with transparency, else bright pixels, are inside."""
    from gic.codecs import imageio

    return imageio.load_mask(path)


class RoiTool:
    """The mouse tool of the image view while the ROI panel is active."""

    BRUSH, ERASER, RECT = "brush", "eraser", "rect"

    def __init__(self, editor: "RoiEditor") -> None:
        self.editor = editor
        self.mode = self.BRUSH
        self.radius = 24.0
        self._last: QPointF | None = None
        self._start: QPointF | None = None
        self._erase_rect = False
        self._hover: QPointF | None = None

    def press(self, pos: QPointF, button, modifiers) -> None:
        roi = self.editor.roi
        if roi is None:
            return
        roi.snapshot()
        self._start = self._last = pos
        if self.mode == self.RECT:
            self._erase_rect = bool(modifiers & Qt.KeyboardModifier.AltModifier)
            self.editor.preview_rect(QRectF(pos, pos))
        else:
            roi.stamp(pos.x(), pos.y(), pos.x(), pos.y(), self.radius, self.mode == self.BRUSH)
            self.editor.mask_changed()

    def move(self, pos: QPointF) -> None:
        roi = self.editor.roi
        self._hover = pos
        if roi is None or self._last is None:
            return
        if self.mode == self.RECT:
            self.editor.preview_rect(QRectF(self._start, pos).normalized())
            return
        roi.stamp(self._last.x(), self._last.y(), pos.x(), pos.y(), self.radius, self.mode == self.BRUSH)
        self._last = pos
        self.editor.mask_changed()

    def release(self, pos: QPointF) -> None:
        roi = self.editor.roi
        if roi is not None and self.mode == self.RECT and self._start is not None:
            roi.rectangle(self._start.x(), self._start.y(), pos.x(), pos.y(), not self._erase_rect)
            self.editor.preview_rect(None)
            self.editor.mask_changed()
        self._last = self._start = None
        self.editor.stroke_finished()

    def hover(self, pos: QPointF) -> None:
        self._hover = pos
        self.editor.view.viewport().update()

    def paint_cursor(self, painter: QPainter) -> None:
        """Draw the brush outline (scene coordinates) so the user sees its size."""
        if self._hover is None or self.mode == self.RECT:
            return
        pen = QPen(QColor(255, 255, 255, 220))
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(self._hover, self.radius, self.radius)


class RoiEditor(QWidget):
    """The ROI panel: tools, size, opacity, clear/invert/undo/redo, load/save; edits the view overlay."""

    changed = Signal()  # the mask changed (after each stroke or command)
    active_changed = Signal(bool)
    overlay_shown_changed = Signal(bool)
    load_requested = Signal()
    save_requested = Signal()
    encode_requested = Signal()

    OVERLAY = "roi"

    def __init__(self, view, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.roi: RoiMask | None = None
        self.tool = RoiTool(self)
        self._rect_item = None
        # Whether a non-empty mask is drawn when not painting. Hidden after a re-encode and when a file
        # with a stored ROI opens, so the user sees the region they asked to be sharp; a toggle shows it.
        self.overlay_shown = True

        self.paint_button = QPushButton("Paint ROI")
        self.paint_button.setCheckable(True)
        self.paint_button.setToolTip("Paint a region of interest on the image (R)")
        self.paint_button.toggled.connect(self._on_paint_toggled)

        tools = QGroupBox("Tool")
        self._tool_group = QButtonGroup(self)
        grid = QHBoxLayout(tools)
        self.tool_buttons: dict[str, QToolButton] = {}
        for mode, label, tip in ((RoiTool.BRUSH, "Brush", "Paint the ROI (B)"),
                                 (RoiTool.ERASER, "Eraser", "Erase the ROI (E)"),
                                 (RoiTool.RECT, "Rectangle", "Drag a rectangle; Alt-drag removes (G)")):
            b = QToolButton()
            b.setText(label)
            b.setToolTip(tip)
            b.setCheckable(True)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            b.clicked.connect(lambda _=False, m=mode: self.set_mode(m))
            self._tool_group.addButton(b)
            grid.addWidget(b)
            self.tool_buttons[mode] = b
        self.tool_buttons[RoiTool.BRUSH].setChecked(True)

        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(1, 200)
        self.size_slider.setValue(int(self.tool.radius))
        self.size_slider.valueChanged.connect(self._on_size)
        self.size_label = QLabel()
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(45)
        self.opacity_slider.valueChanged.connect(self._on_opacity)
        self.opacity_label = QLabel()

        sliders = QGridLayout()
        sliders.addWidget(QLabel("Brush size"), 0, 0)
        sliders.addWidget(self.size_slider, 0, 1)
        sliders.addWidget(self.size_label, 0, 2)
        sliders.addWidget(QLabel("Overlay"), 1, 0)
        sliders.addWidget(self.opacity_slider, 1, 1)
        sliders.addWidget(self.opacity_label, 1, 2)

        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        self.clear_button = QPushButton("Clear")
        self.invert_button = QPushButton("Invert")
        self.load_button = QPushButton("Load mask…")
        self.save_button = QPushButton("Save mask…")
        self.encode_button = QPushButton("Re-encode with this ROI…")
        self.undo_button.clicked.connect(self.undo)
        self.redo_button.clicked.connect(self.redo)
        self.clear_button.clicked.connect(self.clear)
        self.invert_button.clicked.connect(self.invert)
        self.load_button.clicked.connect(self.load_requested)
        self.save_button.clicked.connect(self.save_requested)
        self.encode_button.clicked.connect(self.encode_requested)
        edit = QGridLayout()
        edit.addWidget(self.undo_button, 0, 0)
        edit.addWidget(self.redo_button, 0, 1)
        edit.addWidget(self.clear_button, 1, 0)
        edit.addWidget(self.invert_button, 1, 1)
        edit.addWidget(self.load_button, 2, 0)
        edit.addWidget(self.save_button, 2, 1)

        self.coverage_label = QLabel("No image")
        self.bits_label = QLabel("")
        self.bits_label.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.paint_button)
        layout.addWidget(tools)
        layout.addLayout(sliders)
        layout.addLayout(edit)
        layout.addWidget(self.coverage_label)
        layout.addWidget(self.encode_button)
        layout.addWidget(self.bits_label)
        layout.addStretch(1)
        self._on_size(self.size_slider.value())
        self._on_opacity(self.opacity_slider.value())
        self._update_buttons()

    # -- state ----------------------------------------------------------------------------------------
    def reset(self, height: int | None, width: int | None, mask: np.ndarray | None = None) -> None:
        """New image: an empty mask of its size (or the mask stored in the file)."""
        self.roi = RoiMask(height, width) if height and width else None
        stored = self.roi is not None and mask is not None and mask.shape == self.roi.shape
        if stored:
            self.roi.mask = mask.astype(bool).copy()
        self._set_shown(not (stored and self.roi.mask.any()))
        self.bits_label.setText("")
        self.mask_changed()
        self.changed.emit()

    def mask(self) -> np.ndarray | None:
        return None if self.roi is None else self.roi.mask

    def is_active(self) -> bool:
        return self.paint_button.isChecked()

    def set_active(self, on: bool) -> None:
        self.paint_button.setChecked(on)

    @Slot(bool)
    def _on_paint_toggled(self, on: bool) -> None:
        self.view.set_tool(self.tool if on else None)
        if on:
            self._set_shown(True)  # painting without seeing the mask makes no sense
        self.mask_changed()
        self.active_changed.emit(on)

    def set_mode(self, mode: str) -> None:
        self.tool.mode = mode
        self.tool_buttons[mode].setChecked(True)
        if not self.is_active():
            self.set_active(True)

    def set_radius(self, radius: int) -> None:
        self.size_slider.setValue(int(radius))

    @Slot(int)
    def _on_size(self, value: int) -> None:
        self.tool.radius = float(value)
        self.size_label.setText(f"{value} px")

    @Slot(int)
    def _on_opacity(self, value: int) -> None:
        self.opacity_label.setText(f"{value}%")
        self.view.set_overlay_opacity(self.OVERLAY, value / 100.0)

    # -- commands -------------------------------------------------------------------------------------
    @Slot()
    def undo(self) -> None:
        if self.roi is not None and self.roi.undo():
            self.mask_changed()
            self.changed.emit()

    @Slot()
    def redo(self) -> None:
        if self.roi is not None and self.roi.redo():
            self.mask_changed()
            self.changed.emit()

    @Slot()
    def clear(self) -> None:
        if self.roi is not None:
            self.roi.clear()
            self.mask_changed()
            self.changed.emit()

    @Slot()
    def invert(self) -> None:
        if self.roi is not None:
            self.roi.invert()
            self.mask_changed()
            self.changed.emit()

    def set_mask(self, mask: np.ndarray) -> None:
        if self.roi is None:
            raise ValueError("open an image first")
        self.roi.set(mask)
        self.mask_changed()
        self.changed.emit()

    # -- view -----------------------------------------------------------------------------------------
    def _set_shown(self, on: bool) -> None:
        if on != self.overlay_shown:
            self.overlay_shown = on
            self.overlay_shown_changed.emit(on)

    @Slot(bool)
    def set_overlay_shown(self, on: bool) -> None:
        """Show or hide the mask overlay while not painting (the ROI menu's toggle)."""
        self._set_shown(bool(on))
        self.mask_changed()

    def mask_changed(self) -> None:
        """Redraw the overlay (shown while painting, or when the mask is not empty and not hidden)."""
        roi = self.roi
        if roi is None or not (self.is_active() or (self.overlay_shown and roi.mask.any())):
            self.view.set_overlay(self.OVERLAY, None)
        else:
            self.view.set_overlay(self.OVERLAY, mask_to_rgba(roi.mask), self.opacity_slider.value() / 100.0, z=2)
        if roi is not None:
            frac = roi.mask.mean() if roi.mask.size else 0.0
            self.coverage_label.setText(f"ROI covers {100 * frac:.1f}% of {roi.shape[1]}×{roi.shape[0]}")
        else:
            self.coverage_label.setText("No image")
        self._update_buttons()

    def stroke_finished(self) -> None:
        self._update_buttons()
        self.changed.emit()

    def preview_rect(self, rect: QRectF | None) -> None:
        scene = self.view.scene()
        if rect is None:
            if self._rect_item is not None:
                scene.removeItem(self._rect_item)
                self._rect_item = None
            return
        if self._rect_item is None:
            pen = QPen(QColor(255, 200, 0))
            pen.setCosmetic(True)
            pen.setStyle(Qt.PenStyle.DashLine)
            self._rect_item = scene.addRect(rect, pen)
            self._rect_item.setZValue(3)
        else:
            self._rect_item.setRect(rect)

    def _update_buttons(self) -> None:
        has = self.roi is not None
        self.undo_button.setEnabled(has and self.roi.can_undo())
        self.redo_button.setEnabled(has and self.roi.can_redo())
        for b in (self.clear_button, self.invert_button, self.load_button, self.save_button, self.paint_button):
            b.setEnabled(has)

    def show_bits(self, split: tuple[int, int] | None, total_bits: int | None = None) -> None:
        if split is None:
            self.bits_label.setText("")
            return
        from gic.codecs.base import roi_share

        inside, outside = split
        share = 100.0 * roi_share(split)
        text = f"Bits inside ROI: {inside:,} ({share:.0f}%)\nBits outside: {outside:,}"
        if total_bits:
            text += f"\nWhole file: {total_bits:,} bits (header and container included)"
        self.bits_label.setText(text)
