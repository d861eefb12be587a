"""The Compare tab: two encodes of the original, shown split, side by side (synced) or as a difference.

What the sides hold lives in a Qt-free `model.Comparison`; this widget runs the encodes and shows it.
"""
from __future__ import annotations

import functools

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QHBoxLayout, QLabel, QSplitter, QStackedWidget,
                               QToolButton, QVBoxLayout, QWidget)

from . import jobs
from .encode_dialog import CodecInfo
from .image_view import ImageView
from .legend import GREYS, Legend
from .model import Comparison
from .side_panel import SidePanel
from .split_view import SplitView
from .workers import JobRunner

DIFF_GAIN = 4  # the default amplification of the difference view
DIFF_GAINS = (1, 2, 4, 8, 16)
#: What the difference view subtracts: key -> (label, first image, second image)
DIFF_PAIRS = {"ab": ("A − B", "a", "b"), "ao": ("A − original", "a", "o"), "bo": ("B − original", "b", "o")}
REENCODE_DELAY_MS = 400


class CompareWidget(QWidget):
    """Encodes the original with two settings and shows them split, side by side or as a difference."""

    sides_changed = Signal()
    side_finished = Signal(int)  # 0 left, 1 right
    mode_changed = Signal(str)

    def __init__(self, window, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_ = window
        self.model = Comparison()  # the original, both sides' results, staleness (no Qt)
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

    # -- the model's state, read where the tab and its tests look ------------------------------------
    @property
    def original(self) -> np.ndarray | None:
        return self.model.original

    @property
    def original_name(self) -> str | None:
        return self.model.original_name

    @property
    def results(self) -> list[jobs.SideResult | None]:
        return self.model.results

    @property
    def stale(self) -> list[bool]:
        return self.model.stale

    def set_original(self, image: np.ndarray | None, name: str | None) -> None:
        if image is self.original:
            return
        for r in self.runners:
            r.cancel()
        self.model.set_original(image, name)
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
            if self.model.needs_encode(i) and not self.runners[i].is_busy():
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
        target = self.model.match_target(i)
        if target is None:  # the other side first: side i follows when it is done
            self.encode_side(1 - i)
            return None
        self.sides[i].set_target_bpp(target)
        return self.encode_side(i)

    def _on_settings_changed(self, i: int) -> None:
        """Squoosh's habit: a side's result always matches its settings. The old one is marked
        stale at once and the side re-encodes after a short pause."""
        if self.original is None or (self.results[i] is None and not self.runners[i].is_busy()):
            return  # nothing shown yet: the first encode uses the settings as they are then
        self._mark_stale(i, "settings changed, re-encoding")
        self._reencode_timers[i].start()

    def _mark_stale(self, i: int, note: str) -> None:
        if not self.model.mark_stale(i):
            return
        self.sides[i].show_result(self.results[i], note, stale=True)
        self._show()
        self.sides_changed.emit()

    def _on_side_done(self, i: int, _job: int, result: object) -> None:
        waiting = self.model.set_result(i, result)
        self.sides[i].show_result(result)
        self._show()
        self.sides_changed.emit()
        self.side_finished.emit(i)
        if waiting is not None:
            self.match_bpp(waiting)

    def _on_side_failed(self, i: int, _job: int, message: str) -> None:
        self.model.fail(i)  # never leave an old picture over a failure
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
        return self.model.points()

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
        return self.model.images()

    def _show(self) -> None:
        shown = self.model.shown()
        if shown is None:
            self.stack.setCurrentWidget(self.placeholder)
            return
        a_, b_ = shown
        if self._mode == "split":
            first = self.split_view.image() is None
            self.split_view.labels = self.model.labels()
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
