"""Side-by-side comparison of two encodes of the original: split divider, synced panes, difference."""
from __future__ import annotations

import functools

import numpy as np
from PySide6.QtCore import QPoint, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDoubleSpinBox, QFormLayout, QGraphicsItem,
                               QGraphicsLineItem, QGraphicsPixmapItem, QGraphicsRectItem, QGroupBox,
                               QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox, QSplitter,
                               QStackedWidget, QToolButton, QVBoxLayout, QWidget)

from . import jobs
from .encode_dialog import CodecInfo, kb_to_bpp, target_kb_spin
from .image_view import ImageView
from .legend import GREYS, Legend
from .qimage import rgb_to_qimage
from .workers import JobRunner

DIFF_GAIN = 4  # the default amplification of the difference view
DIFF_GAINS = (1, 2, 4, 8, 16)
#: What the difference view subtracts: key -> (label, first image, second image)
DIFF_PAIRS = {"ab": ("A − B", "a", "b"), "ao": ("A − original", "a", "o"), "bo": ("B − original", "b", "o")}
REENCODE_DELAY_MS = 400


class SplitView(ImageView):
    """Left image left of a draggable vertical divider, right image right of it.

    The divider is held as a fraction of the *viewport's* width, as in Squoosh: zooming and
    panning move the picture under it while it stays where the user put it on screen.
    """

    split_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._clip = QGraphicsRectItem()
        self._clip.setPen(QPen(Qt.PenStyle.NoPen))
        self._clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape, True)
        self._clip.setZValue(0.5)
        self._right_item = QGraphicsPixmapItem(self._clip)
        self.scene().addItem(self._clip)
        pen = QPen(QColor(255, 255, 255, 230), 2)
        pen.setCosmetic(True)
        self._line = QGraphicsLineItem()
        self._line.setPen(pen)
        self._line.setZValue(5)
        self.scene().addItem(self._line)
        self._split = 0.5
        self._dragging = False
        self.labels = ("", "")

    def set_images(self, left: np.ndarray | None, right: np.ndarray | None, *, fit: bool | None = None) -> None:
        base = left if left is not None else right
        self.set_image(base, fit=fit)
        if right is not None and left is not None:
            self._right_item.setPixmap(QPixmap.fromImage(rgb_to_qimage(right)))
            self._right_item.setVisible(True)
        else:
            self._right_item.setVisible(False)
        self._layout_split()

    def split(self) -> float:
        """Where the divider is, as a fraction of the viewport's width."""
        return self._split

    def set_split(self, fraction: float) -> None:
        self._split = float(min(1.0, max(0.0, fraction)))
        self._layout_split()
        self.split_changed.emit(self._split)

    def split_x(self) -> float:
        """The image column under the divider (clamped to the image)."""
        img = self.image()
        if img is None:
            return 0.0
        x = self.mapToScene(QPoint(round(self._split * self.viewport().width()), 0)).x()
        return float(min(img.shape[1], max(0.0, x)))

    def _layout_split(self) -> None:
        img = self.image()
        if img is None:
            self._line.setVisible(False)
            return
        h, w = img.shape[:2]
        x = self.split_x()
        self._clip.setRect(QRectF(x, 0, w - x, h))
        self._line.setLine(x, 0, x, h)
        self._line.setVisible(True)
        self._right_item.setTransformationMode(
            Qt.TransformationMode.FastTransformation if self.zoom() >= 1 else Qt.TransformationMode.SmoothTransformation)
        self.viewport().update()

    def _apply_zoom(self, zoom: float, anchor_under_mouse: bool) -> None:
        super()._apply_zoom(zoom, anchor_under_mouse)
        if hasattr(self, "_right_item"):
            self._layout_split()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802 (every pan, by any means)
        super().scrollContentsBy(dx, dy)
        self._layout_split()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._layout_split()

    def _near_divider(self, event: QMouseEvent) -> bool:
        if self.image() is None:
            return False
        return abs(event.position().x() - self._split * self.viewport().width()) <= 8

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self._near_divider(event):
            self._dragging = True
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        img = self.image()
        if self._dragging and img is not None:
            self.set_split(event.position().x() / max(1, self.viewport().width()))
            event.accept()
            return
        if img is not None and not (event.buttons() & Qt.MouseButton.LeftButton):
            self.viewport().setCursor(Qt.CursorShape.SplitHCursor if self._near_divider(event)
                                      else Qt.CursorShape.OpenHandCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._dragging and event.button() == Qt.MouseButton.LeftButton:
            self._dragging = False
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        super().drawForeground(painter, rect)
        if self.image() is None:
            return
        painter.save()
        painter.resetTransform()
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        fm = painter.fontMetrics()
        vp = self.viewport().rect()
        for text, left in ((self.labels[0], True), (self.labels[1], False)):
            if not text:
                continue
            tw = fm.horizontalAdvance(text) + 16
            r = QRectF(8 if left else vp.width() - tw - 8, 8, tw, fm.height() + 8)
            painter.fillRect(r, QColor(0, 0, 0, 160))
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


class SidePanel(QGroupBox):
    """One side: codec, quality or target bpp, and the measured size, bpp, PSNR, LPIPS."""

    encode_requested = Signal()
    match_requested = Signal()
    settings_changed = Signal()  # codec, mode, quality or target changed by the user or a preset

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self._infos: dict[str, CodecInfo] = {}
        self.codec_combo = QComboBox()
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(["Quality", "Target bpp", "Target size (kB)"])
        self.quality_spin = QSpinBox()
        self.bpp_spin = QDoubleSpinBox()
        self.bpp_spin.setRange(0.005, 24.0)
        self.bpp_spin.setDecimals(3)
        self.bpp_spin.setSingleStep(0.05)
        self.bpp_spin.setValue(0.25)
        self.kb_spin = target_kb_spin()
        self.encode_button = QPushButton("Encode")
        self.match_button = QPushButton("Match other side's bpp")
        self.match_button.setToolTip("Search this codec's quality for the other side's bitrate")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress.hide()
        self.result_label = QLabel("–")
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setMinimumWidth(260)

        self.codec_combo.currentIndexChanged.connect(self._on_codec)
        self.mode_combo.currentIndexChanged.connect(self._on_mode)
        self.encode_button.clicked.connect(self.encode_requested)
        self.match_button.clicked.connect(self.match_requested)
        for signal in (self.codec_combo.currentIndexChanged, self.mode_combo.currentIndexChanged,
                       self.quality_spin.valueChanged, self.bpp_spin.valueChanged, self.kb_spin.valueChanged):
            signal.connect(self.settings_changed)
        form = QFormLayout()
        form.addRow("Codec", self.codec_combo)
        row = QHBoxLayout()
        row.addWidget(self.mode_combo)
        row.addWidget(self.quality_spin, 1)
        row.addWidget(self.bpp_spin, 1)
        row.addWidget(self.kb_spin, 1)
        form.addRow("Setting", row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.encode_button)
        buttons.addWidget(self.match_button)
        outer = QHBoxLayout(self)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addLayout(buttons)
        left.addWidget(self.progress)
        outer.addLayout(left, 3)
        outer.addWidget(self.result_label, 2)
        self._on_mode()

    def set_codecs(self, infos: list[CodecInfo], preferred: list[str]) -> None:
        current = self.codec_combo.currentData()
        self._infos = {i.name: i for i in infos}
        self.codec_combo.blockSignals(True)
        self.codec_combo.clear()
        for i in infos:
            self.codec_combo.addItem(i.name, i.name)
        self.codec_combo.blockSignals(False)
        for name in ([current] if current else []) + preferred:
            if name in self._infos:
                self.codec_combo.setCurrentIndex(self.codec_combo.findData(name))
                break
        self._on_codec()

    def set_codec(self, name: str) -> None:
        self.codec_combo.setCurrentIndex(self.codec_combo.findData(name))

    @Slot()
    def _on_codec(self) -> None:
        info = self._infos.get(self.codec_combo.currentData())
        if info is None:
            return
        lo, hi = info.quality_range
        self.quality_spin.setRange(lo, hi)
        self.quality_spin.setValue(min(hi, max(lo, info.default_quality)))

    @Slot()
    def _on_mode(self) -> None:
        mode = self.mode_combo.currentIndex()
        for k, spin in enumerate((self.quality_spin, self.bpp_spin, self.kb_spin)):
            spin.setVisible(k == mode)

    def set_target_bpp(self, bpp: float) -> None:
        self.mode_combo.setCurrentIndex(1)
        self.bpp_spin.setValue(bpp)

    def set_quality(self, q: int) -> None:
        self.mode_combo.setCurrentIndex(0)
        self.quality_spin.setValue(q)

    def set_target_kb(self, kb: float) -> None:
        self.mode_combo.setCurrentIndex(2)
        self.kb_spin.setValue(kb)

    def request(self, device: str, shape: tuple[int, ...]) -> jobs.EncodeRequest:
        """The encode these settings ask for (a size target is the bpp of that size at `shape`)."""
        name, mode = self.codec_combo.currentData(), self.mode_combo.currentIndex()
        if mode == 0:
            return jobs.EncodeRequest(codec=name, quality=self.quality_spin.value(), device=device)
        bpp = self.bpp_spin.value() if mode == 1 else kb_to_bpp(self.kb_spin.value(), shape)
        return jobs.EncodeRequest(codec=name, bpp=bpp, device=device)

    def show_result(self, res: jobs.SideResult | None, message: str = "", *, stale: bool = False) -> None:
        """The measured result; `stale`: shown over a note that the settings have changed since."""
        if res is None:
            self.result_label.setText(message or "–")
            return
        e, m = res.encode, res.metrics
        lines = [f"<b>{e.request.codec}</b> at quality {e.quality}",
                 f"File size: {len(e.data):,} bytes ({len(e.data) / 1000:.1f} kB)", f"bpp: {e.bpp:.4f}"]
        lines.append(f"PSNR: {m['psnr']:.2f} dB" if "psnr" in m else "PSNR: –")
        lines.append(f"LPIPS: {m['lpips']:.4f}" if "lpips" in m else "LPIPS: –")
        # the same number of lines either way: the panel (and the picture above it) keep their size
        lines.append(f"<span style='color:#e0a040'><b>Stale</b>: {message or 're-encoding'}…</span>" if stale
                     else f"encode {e.seconds:.2f} s")
        self.result_label.setText("<br>".join(lines))


class CompareWidget(QWidget):
    """Encodes the original with two settings and shows them split, side by side or as a difference."""

    sides_changed = Signal()
    side_finished = Signal(int)  # 0 left, 1 right
    mode_changed = Signal(str)

    def __init__(self, window, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_ = window
        self.original: np.ndarray | None = None
        self.original_name: str | None = None
        self.results: list[jobs.SideResult | None] = [None, None]
        self.stale = [False, False]  # a side's settings changed since its result was made
        self._pending_match: int | None = None
        self.runners = [JobRunner("compare-left", self), JobRunner("compare-right", self)]

        self.split_view = SplitView()
        self.pane_a, self.pane_b = ImageView(), ImageView()
        panes = QSplitter(Qt.Orientation.Horizontal)
        panes.addWidget(self.pane_a)
        panes.addWidget(self.pane_b)
        panes.setHandleWidth(3)
        self.diff_view = ImageView()
        self._syncing = False
        self.pane_a.view_changed.connect(lambda: self._sync(self.pane_a, self.pane_b))
        self.pane_b.view_changed.connect(lambda: self._sync(self.pane_b, self.pane_a))
        self.placeholder = QLabel("Open an image, or attach the original of a .gic file, to compare codecs on it.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: #bbb; font-size: 15px; background: #303034;")
        self.stack = QStackedWidget()
        for w in (self.placeholder, self.split_view, panes, self.diff_view):
            self.stack.addWidget(w)
        self.stack.setCurrentWidget(self.placeholder)

        self.mode_buttons: dict[str, QToolButton] = {}
        group = QButtonGroup(self)
        mode_row = QHBoxLayout()
        mode_row.addWidget(QLabel("View:"))
        for key, label, tip in (("split", "Split", "One view with a draggable divider"),
                                ("panes", "Side by side", "Two panes with synced zoom and pan"),
                                ("diff", "Difference", "Absolute difference, amplified (choose which and how much)")):
            b = QToolButton()
            b.setText(label)
            b.setToolTip(tip)
            b.setCheckable(True)
            b.clicked.connect(functools.partial(self.set_mode, key))
            group.addButton(b)
            mode_row.addWidget(b)
            self.mode_buttons[key] = b
        self.diff_pair = QComboBox()
        for key, (label, _a, _b) in DIFF_PAIRS.items():
            self.diff_pair.addItem(label, key)
        self.diff_pair.setToolTip("Which difference to show: between the sides, or a side against the original")
        self.diff_gain = QComboBox()
        for g in DIFF_GAINS:
            self.diff_gain.addItem(f"×{g}", g)
        self.diff_gain.setCurrentIndex(DIFF_GAINS.index(DIFF_GAIN))
        self.diff_gain.setToolTip("Amplification: a difference of 1 level shows as this many")
        for combo in (self.diff_pair, self.diff_gain):
            combo.currentIndexChanged.connect(self._on_diff_choice)
            mode_row.addWidget(combo)
        self.mode_buttons["split"].setChecked(True)
        self._mode = "split"
        mode_row.addStretch(1)
        self.readout = QLabel("")
        mode_row.addWidget(self.readout)
        for v in self.views():
            v.hovered.connect(self._on_hover)

        self.sides = [SidePanel("Left (A)"), SidePanel("Right (B)")]
        for i, side in enumerate(self.sides):
            side.encode_requested.connect(functools.partial(self.encode_side, i))
            side.match_requested.connect(functools.partial(self.match_bpp, i))
            r = self.runners[i]
            r.finished.connect(functools.partial(self._on_side_done, i))
            r.failed.connect(functools.partial(self._on_side_failed, i))
            r.progress.connect(functools.partial(self._on_side_progress, i))
            r.busy_changed.connect(functools.partial(self._on_side_busy, i))
            side.settings_changed.connect(functools.partial(self._on_settings_changed, i))
        # a changed setting re-encodes that side after a short pause (typing "75" is one change)
        self._reencode_timers = []
        for i in (0, 1):
            t = QTimer(self)
            t.setSingleShot(True)
            t.setInterval(REENCODE_DELAY_MS)
            t.timeout.connect(functools.partial(self.encode_side, i))
            self._reencode_timers.append(t)
        sides_row = QHBoxLayout()
        sides_row.addWidget(self.sides[0])
        sides_row.addWidget(self.sides[1])

        layout = QVBoxLayout(self)
        layout.addLayout(mode_row)
        layout.addWidget(self.stack, 1)
        layout.addLayout(sides_row)
        self._update_enabled()

    # -- inputs ---------------------------------------------------------------------------------------
    def set_codecs(self, infos: list[CodecInfo]) -> None:
        # From the specs, never from names: the best-ranked codec (a learned one first) against
        # the baseline format (JPEG), else the best-ranked other non-learned codec.
        ranked = sorted(infos, key=lambda i: (not i.learned, i.rank))
        left = [i.name for i in ranked]
        first = left[0] if left else None
        right = sorted((i for i in ranked if not i.learned and i.name != first),
                       key=lambda i: (not i.baseline, i.rank))
        self.sides[0].set_codecs(infos, left)
        self.sides[1].set_codecs(infos, [i.name for i in right] + left)
        self._update_enabled()

    def set_original(self, image: np.ndarray | None, name: str | None) -> None:
        if image is self.original:
            return
        for r in self.runners:
            r.cancel()
        self.original, self.original_name = image, name
        self.results = [None, None]
        self.stale = [False, False]
        for t in self._reencode_timers:
            t.stop()
        for s in self.sides:
            s.show_result(None)
        self._show()
        self._update_enabled()
        self.sides_changed.emit()
        if image is not None and self.isVisible():
            self.activate()

    def activate(self) -> None:
        """The tab became visible: encode both sides once with their current settings."""
        if self.original is None or not self.sides[0].codec_combo.count():
            return
        for i in (0, 1):
            if self.results[i] is None and not self.runners[i].is_busy():
                self.encode_side(i)

    # -- encoding -------------------------------------------------------------------------------------
    def encode_side(self, i: int, req: jobs.EncodeRequest | None = None) -> int | None:
        if self.original is None:
            return None
        self._reencode_timers[i].stop()
        req = req or self.sides[i].request(self.window_.device(), self.original.shape)
        if self.results[i] is not None:  # the old picture stays on screen until the new one comes
            self._mark_stale(i, f"encoding with {req.codec}")
        else:
            self.sides[i].show_result(None, f"Encoding with {req.codec}…")
        return self.runners[i].submit(functools.partial(jobs.compare_side_job, original=self.original, req=req))

    def match_bpp(self, i: int) -> int | None:
        """Set side i's target bpp to the other side's measured bpp and encode it."""
        other = self.results[1 - i]
        if other is None:
            self._pending_match = i
            self.encode_side(1 - i)
            return None
        self.sides[i].set_target_bpp(round(other.encode.bpp, 3))
        return self.encode_side(i)

    def _on_settings_changed(self, i: int) -> None:
        """Squoosh's habit: a side's result always matches its settings. The old one is marked
        stale at once and the side re-encodes after a short pause."""
        if self.original is None or (self.results[i] is None and not self.runners[i].is_busy()):
            return  # nothing shown yet: the first encode uses the settings as they are then
        self._mark_stale(i, "settings changed, re-encoding")
        self._reencode_timers[i].start()

    def _mark_stale(self, i: int, note: str) -> None:
        if self.results[i] is None:
            return
        self.stale[i] = True
        self.sides[i].show_result(self.results[i], note, stale=True)
        self._show()
        self.sides_changed.emit()

    def _on_side_done(self, i: int, _job: int, result: object) -> None:
        self.results[i] = result
        self.stale[i] = False
        self.sides[i].show_result(result)
        self._show()
        self.sides_changed.emit()
        self.side_finished.emit(i)
        if self._pending_match is not None and self._pending_match == 1 - i:
            j, self._pending_match = self._pending_match, None
            self.match_bpp(j)

    def _on_side_failed(self, i: int, _job: int, message: str) -> None:
        self.results[i], self.stale[i] = None, False  # never leave an old picture over a failure
        self.sides[i].show_result(None, f"<span style='color:#e05050'>Failed: {message}</span>")
        self._show()
        self.sides_changed.emit()
        self.side_finished.emit(i)

    def _on_side_progress(self, i: int, _job: int, fraction: float) -> None:
        self.sides[i].progress.setValue(int(1000 * fraction))

    def _on_side_busy(self, i: int, busy: bool) -> None:
        self.sides[i].progress.setVisible(busy)
        self.sides[i].progress.setValue(0)

    def points(self) -> list[tuple[str, float, float | None, float | None]]:
        """(label, bpp, LPIPS, PSNR) of each encoded side, for the RD plot."""
        out = []
        for label, r, stale in zip(("A", "B"), self.results, self.stale):
            if r is not None and not stale:
                out.append((f"{label}: {r.encode.request.codec}", r.encode.bpp, r.metrics.get("lpips"),
                            r.metrics.get("psnr")))
        return out

    # -- display --------------------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        """Show the sides split, side by side or as a difference, at the zoom and position the
        previous view had (flipping between them compares the same spot)."""
        before = self.current_view()
        state = None if before.image() is None else (before.is_fit(), *before.view_state())
        self._mode = mode
        self.mode_buttons[mode].setChecked(True)
        self._show()
        after = self.current_view()
        if state is not None and after is not before and after.image() is not None:
            fit, zoom, center = state
            if fit:
                after.fit()
            else:
                after.set_view_state(zoom, center)
            if mode == "panes":
                self._sync(self.pane_a, self.pane_b)
        self.mode_changed.emit(mode)

    def views(self) -> tuple[ImageView, ...]:
        return self.split_view, self.pane_a, self.pane_b, self.diff_view

    def current_view(self) -> ImageView:
        """The view the current mode shows (pane A when side by side)."""
        return {"split": self.split_view, "panes": self.pane_a}.get(self._mode, self.diff_view)

    def mode(self) -> str:
        return self._mode

    def images(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        a = self.results[0].image if self.results[0] is not None else None
        b = self.results[1].image if self.results[1] is not None else None
        return a, b

    def _labels(self) -> tuple[str, str]:
        out = []
        for label, r, stale in zip(("A", "B"), self.results, self.stale):
            text = "" if r is None else f"{label}: {r.encode.request.codec} · {r.encode.bpp:.3f} bpp"
            out.append(text + " · STALE" if text and stale else text)
        return out[0], out[1]

    def _show(self) -> None:
        if self.original is None:
            self.stack.setCurrentWidget(self.placeholder)
            return
        a, b = self.images()
        a_ = a if a is not None else self.original
        b_ = b if b is not None else self.original
        if self._mode == "split":
            first = self.split_view.image() is None
            self.split_view.labels = self._labels()
            self.split_view.set_images(a_, b_, fit=True if first else None)
            self.stack.setCurrentWidget(self.split_view)
        elif self._mode == "panes":
            first = self.pane_a.image() is None
            self.pane_a.set_image(a_, fit=True if first else None)
            self.pane_b.set_image(b_, fit=True if first else None)
            self.stack.setCurrentWidget(self.stack.widget(2))
            self._sync(self.pane_a, self.pane_b)
        else:
            label, first, second = DIFF_PAIRS[self.diff_pair.currentData()]
            pick = {"a": a_, "b": b_, "o": self.original}
            gain = int(self.diff_gain.currentData())
            diff = np.abs(pick[first].astype(np.int16) - pick[second].astype(np.int16)) * gain
            self.diff_view.set_image(np.clip(diff, 0, 255).astype(np.uint8),
                                     fit=True if self.diff_view.image() is None else None)
            # the scale: black is equal, white a difference of 255/gain levels or more (per channel)
            self.diff_view.set_legend(Legend(f"|{label}| per channel, ×{gain}", "0",
                                             f"≥ {255 / gain:.0f} levels", GREYS))
            self.stack.setCurrentWidget(self.diff_view)

    @Slot()
    def _on_diff_choice(self) -> None:
        if self._mode != "diff":
            self.set_mode("diff")  # choosing a difference shows it
        else:
            self._show()

    def _sync(self, src: ImageView, dst: ImageView) -> None:
        if self._syncing or src.image() is None or dst.image() is None:
            return
        self._syncing = True
        try:
            zoom, center = src.view_state()
            dst.set_view_state(zoom, center)
        finally:
            self._syncing = False

    @Slot(int, int)
    def _on_hover(self, x: int, y: int) -> None:
        a, b = self.images()
        if x < 0 or a is None or b is None or self.original is None:
            self.readout.setText("")
            return
        o = self.original[y, x]
        self.readout.setText(f"x {x} y {y}   orig {tuple(int(v) for v in o)}   "
                             f"A {tuple(int(v) for v in a[y, x])}   B {tuple(int(v) for v in b[y, x])}")

    def _update_enabled(self) -> None:
        ok = self.original is not None and self.sides[0].codec_combo.count() > 0
        for s in self.sides:
            s.setEnabled(ok)

    # -- lifetime -------------------------------------------------------------------------------------
    def cancel(self) -> None:
        for t in self._reencode_timers:
            t.stop()
        for r in self.runners:
            r.cancel()

    def is_busy(self) -> bool:
        return any(r.is_busy() for r in self.runners)

    def shutdown(self) -> None:
        for t in self._reencode_timers:
            t.stop()
        for r in self.runners:
            r.shutdown()
