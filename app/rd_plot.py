"""Rate–distortion plot of every registered codec on the current image, measured in the background."""
from __future__ import annotations

import functools
import math

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QProgressBar,
                               QPushButton, QSpinBox, QSplitter, QVBoxLayout, QWidget)

from . import jobs
from .encode_dialog import CodecInfo
from .workers import JobRunner

PALETTE = ["#4fa3ff", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
           "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5"]
METRICS = {"LPIPS (lower is better)": "lpips", "PSNR dB (higher is better)": "psnr"}


def label_anchor(x: float, y: float, xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Where a star's label hangs (pyqtgraph TextItem anchor) so it stays inside the plotted range:
    left of the star in the right part of the plot, below it near the top (a label at the edge of
    the data range would otherwise run off the plot and clip)."""
    x0, x1 = min(xs, default=x), max(xs, default=x)
    y0, y1 = min(ys, default=y), max(ys, default=y)
    right = x1 > x0 and (x - x0) > 0.6 * (x1 - x0)
    top = y1 > y0 and (y - y0) > 0.8 * (y1 - y0)
    return (1.0 if right else 0.0, 0.0 if top else 1.0)


class RDPlotWidget(QWidget):
    computed = Signal()

    def __init__(self, window, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_ = window
        self.original: np.ndarray | None = None
        self.original_name: str | None = None
        self.points: list[jobs.RDPoint] = []
        self.marks: list[tuple[str, float, float | None, float | None]] = []
        self.runner = JobRunner("rd", self)
        self.runner.partial.connect(self._on_point)
        self.runner.finished.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(self._on_cancelled)
        self.runner.progress.connect(lambda _j, f: self.progress.setValue(int(1000 * f)))
        self.runner.busy_changed.connect(self._on_busy)

        self.codec_list = QListWidget()
        self.codec_list.setToolTip("Codecs to measure")
        self.codec_list.setMaximumWidth(220)
        self.metric_combo = QComboBox()
        self.metric_combo.addItems(list(METRICS))
        self.metric_combo.currentIndexChanged.connect(self._redraw)
        self.points_spin = QSpinBox()
        self.points_spin.setRange(2, 16)
        self.points_spin.setValue(5)
        self.points_spin.setToolTip("Qualities per codec, spread over its range")
        self.max_bpp_spin = QDoubleSpinBox()
        self.max_bpp_spin.setRange(0.05, 24.0)
        self.max_bpp_spin.setDecimals(2)
        self.max_bpp_spin.setValue(2.0)
        self.max_bpp_spin.setToolTip("Encodes above this rate are not measured (keeps the low-rate end readable)")
        self.compute_button = QPushButton("Compute")
        self.compute_button.clicked.connect(self.compute)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(260)
        self.progress.hide()
        self.status = QLabel("Open an image (or attach the original) to measure every codec on it.")
        self.status.setWordWrap(True)

        # pyqtgraph (~0.4 s to import) is loaded when the plot is first shown or has something
        # to draw, not while the viewer starts.
        self.plot = None
        self.legend = None
        self._plot_box = QWidget()
        QVBoxLayout(self._plot_box).setContentsMargins(0, 0, 0, 0)

        top = QHBoxLayout()
        top.addWidget(QLabel("Metric"))
        top.addWidget(self.metric_combo)
        top.addWidget(QLabel("Points per codec"))
        top.addWidget(self.points_spin)
        top.addWidget(QLabel("Max bpp"))
        top.addWidget(self.max_bpp_spin)
        top.addWidget(self.compute_button)
        top.addWidget(self.cancel_button)
        top.addWidget(self.progress)
        top.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(QLabel("Codecs"))
        left.addWidget(self.codec_list, 1)
        left_w = QWidget()
        left_w.setLayout(left)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left_w)
        split.addWidget(self._plot_box)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        self._update_enabled()

    def set_codecs(self, infos: list[CodecInfo]) -> None:
        self.codec_list.clear()
        for info in infos:
            item = QListWidgetItem(info.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            if info.description:
                item.setToolTip(info.description)
            self.codec_list.addItem(item)
        self._update_enabled()

    def set_checked_codecs(self, names: list[str]) -> None:
        for i in range(self.codec_list.count()):
            item = self.codec_list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.text() in names else Qt.CheckState.Unchecked)

    def checked_codecs(self) -> list[str]:
        return [self.codec_list.item(i).text() for i in range(self.codec_list.count())
                if self.codec_list.item(i).checkState() == Qt.CheckState.Checked]

    def set_original(self, image: np.ndarray | None, name: str | None) -> None:
        if image is self.original:
            return
        self.runner.cancel()
        self.original, self.original_name = image, name
        self.points = []
        self._redraw()
        self.status.setText(f"Press Compute to measure the checked codecs on {name}." if image is not None else
                            "Open an image (or attach the original) to measure every codec on it.")
        self._update_enabled()

    def compute(self) -> int | None:
        codecs = self.checked_codecs()
        if self.original is None or not codecs:
            return None
        self.points = []
        self._redraw()
        h, w = self.original.shape[:2]
        self.status.setText(f"Measuring {len(codecs)} codec(s) on {self.original_name} ({w}×{h})…")
        return self.runner.submit(functools.partial(jobs.rd_job, original=self.original, codecs=codecs,
                                                    points_per_codec=self.points_spin.value(),
                                                    device=self.window_.device(),
                                                    max_bpp=self.max_bpp_spin.value()))

    @Slot()
    def cancel(self) -> None:
        self.runner.cancel()

    def mark_points(self, marks) -> None:
        self.marks = list(marks)
        self._redraw()

    @Slot(int, object)
    def _on_point(self, _job: int, point: object) -> None:
        self.points.append(point)
        self._redraw()

    @Slot(int, object)
    def _on_done(self, _job: int, result: object) -> None:
        note = f" {result.skipped} encode(s) above {self.max_bpp_spin.value():g} bpp not shown." \
            if result.skipped else ""
        self.status.setText(f"{len(self.points)} points measured on {self.original_name}.{note} "
                            "Stars: the two sides of the comparison.")
        self.computed.emit()

    @Slot(int, str)
    def _on_failed(self, _job: int, message: str) -> None:
        self.status.setText(f"RD measurement failed: {message}")
        self.computed.emit()

    @Slot(int)
    def _on_cancelled(self, _job: int) -> None:
        self.status.setText(f"Cancelled after {len(self.points)} points.")

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.progress.setValue(0)
        self.progress.setVisible(busy)
        self._update_enabled()

    def metric(self) -> str:
        return METRICS[self.metric_combo.currentText()]

    def ensure_plot(self) -> None:
        """Build the plot widget once."""
        if self.plot is not None:
            return
        import pyqtgraph as pg

        self.plot = pg.PlotWidget()
        self.plot.setBackground("#1e1e22")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "bits per pixel")
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self._plot_box.layout().addWidget(self.plot)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._redraw(force=True)
        super().showEvent(event)

    @Slot()
    def _redraw(self, force: bool = False) -> None:
        if self.plot is None and not (force or self.points or self.marks):
            return
        self.ensure_plot()
        import pyqtgraph as pg

        key = self.metric()
        self.plot.clear()
        self.legend.clear()
        self.plot.setLabel("left", self.metric_combo.currentText())
        by_codec: dict[str, list[jobs.RDPoint]] = {}
        for p in self.points:
            by_codec.setdefault(p.codec, []).append(p)
        for i, (name, pts) in enumerate(by_codec.items()):
            pts = sorted(pts, key=lambda p: p.bpp)
            ys = [getattr(p, key) for p in pts]
            xy = [(p.bpp, y) for p, y in zip(pts, ys) if y is not None and not math.isnan(y)]
            if not xy:
                continue
            x, y = np.array(xy).T
            color = PALETTE[i % len(PALETTE)]
            self.plot.plot(x, y, pen=pg.mkPen(color, width=2), symbol="o", symbolSize=6, symbolBrush=color,
                           name=name)
        marks = [(label, bpp, lp if key == "lpips" else ps) for label, bpp, lp, ps in self.marks]
        marks = [(label, x, y) for label, x, y in marks if y is not None and not math.isnan(y)]
        xs = [p.bpp for p in self.points] + [x for _, x, _ in marks]
        ys = [v for p in self.points if (v := getattr(p, key)) is not None and not math.isnan(v)]
        ys += [y for _, _, y in marks]
        for label, bpp, y in marks:
            item = pg.ScatterPlotItem([bpp], [y], size=16, symbol="star", brush=pg.mkBrush("#ffcc33"),
                                      pen=pg.mkPen("#000000"), name=label)
            self.plot.addItem(item)
            text = pg.TextItem(label, color="#ffcc33", anchor=label_anchor(bpp, y, xs, ys))
            text.setPos(bpp, y)
            self.plot.addItem(text)

    def _update_enabled(self) -> None:
        self.compute_button.setEnabled(self.original is not None and self.codec_list.count() > 0
                                       and not self.runner.is_busy())

    def is_busy(self) -> bool:
        return self.runner.is_busy()

    def shutdown(self) -> None:
        self.runner.shutdown()
