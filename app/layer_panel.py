"""The progressive-layer panel: a slider over decoded layers, a per-layer table and a bpp–LPIPS chart."""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QGridLayout, QHeaderView, QLabel, QSlider, QTabWidget,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

COLUMNS = ("Layer", "Bits", "bpp", "PSNR", "LPIPS")
VISIBLE_ROWS = 12  # a typical progressive file's layers: all shown without scrolling


def _fmt(v: float | None, spec: str) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


class LayerPanel(QWidget):
    layer_selected = Signal(int)  # 1-based layer the user chose

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(1, 1)
        self.slider.setEnabled(False)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setToolTip("Show any decoded layer ([ and ])")
        self.slider.valueChanged.connect(self._on_slider)
        self.layer_label = QLabel("No layers")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)  # more room for Bits
        self.table.itemSelectionChanged.connect(self._on_table_selection)
        # Compact rows, and room for VISIBLE_ROWS of them: the chart below gives way instead.
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.table.fontMetrics().height() + 4)
        self.table.setMinimumHeight(self.table_height(VISIBLE_ROWS))

        # The chart (pyqtgraph: ~0.4 s to import) is built the first time its tab is shown, so it
        # does not delay the viewer's first picture; until then only the rows are kept.
        self.plot = None
        self._chart = QWidget()
        QVBoxLayout(self._chart).setContentsMargins(0, 0, 0, 0)
        self.plot_note = QLabel("")
        self.plot_note.setWordWrap(True)
        self.plot_note.hide()  # shown only while it has something to say (no metrics yet)

        top = QGridLayout()
        top.addWidget(QLabel("Layer"), 0, 0)
        top.addWidget(self.slider, 0, 1)
        top.addWidget(self.layer_label, 1, 0, 1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        # Table and chart share one place (tabs): side by side with the file and quality boxes there
        # is not the height for both at the default window size, and the table must show every layer.
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(self.table, "Table")
        self.views.addTab(self._chart, "Chart")
        self.views.currentChanged.connect(lambda index: index == 1 and self.ensure_chart())
        self.views.setTabToolTip(1, "LPIPS against bpp per layer; the ring marks the layer on screen")
        layout.addWidget(self.views, 1)
        layout.addWidget(self.plot_note)
        self._pixels = 1
        self._rows: dict[int, dict] = {}
        self._num_layers = 0
        self._syncing = False

    def table_height(self, rows: int) -> int:
        """Pixels the table needs to show `rows` rows and its header without a scroll bar."""
        t = self.table
        return (t.horizontalHeader().sizeHint().height() + rows * t.verticalHeader().defaultSectionSize()
                + 2 * t.frameWidth())

    def _set_note(self, text: str) -> None:
        self.plot_note.setText(text)
        self.plot_note.setVisible(bool(text))

    # -- content ----------------------------------------------------------------------------------
    def reset(self, num_layers: int = 0, pixels: int = 1) -> None:
        self._rows.clear()
        self._num_layers = num_layers
        self._pixels = max(1, pixels)
        self.table.setRowCount(0)
        self.slider.setEnabled(False)
        self.slider.setRange(1, max(1, num_layers))
        self.slider.setTickInterval(1)
        self.layer_label.setText("No layers" if not num_layers else f"0 of {num_layers} layers decoded")
        self._refresh_plot()

    def add_layer(self, layer: int, bits: int) -> None:
        self._rows[layer] = {"bits": bits, "bpp": bits / self._pixels}
        row = len(self._rows) - 1
        self.table.setRowCount(len(self._rows))
        self._set_row(row, layer)
        self.slider.setEnabled(len(self._rows) > 1)
        self.slider.setRange(1, max(self._rows))
        self._refresh_plot()

    def set_metrics(self, layer: int, values: dict) -> None:
        if layer not in self._rows:
            return
        self._rows[layer].update(psnr=values.get("psnr"), lpips=values.get("lpips"))
        self._set_row(sorted(self._rows).index(layer), layer)
        self._refresh_plot()

    def metrics(self, layer: int) -> dict:
        return dict(self._rows.get(layer, {}))

    def layers(self) -> list[int]:
        return sorted(self._rows)

    def _set_row(self, row: int, layer: int) -> None:
        r = self._rows[layer]
        cells = (str(layer), f"{r['bits']:,}", f"{r['bpp']:.4f}", _fmt(r.get("psnr"), ".2f"),
                 _fmt(r.get("lpips"), ".4f"))
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, col, item)

    def ensure_chart(self) -> None:
        """Build the bpp–LPIPS chart (once) and draw the rows kept so far."""
        if self.plot is not None:
            return
        import pyqtgraph as pg

        self.plot = pg.PlotWidget()
        self.plot.setBackground("#1e1e22")
        self.plot.setLabel("bottom", "bpp")
        self.plot.setLabel("left", "LPIPS (lower is better)")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMinimumHeight(160)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        self._curve = self.plot.plot([], [], pen=pg.mkPen("#4fa3ff", width=2), symbol="o", symbolSize=6,
                                     symbolBrush="#4fa3ff")
        self._current = self.plot.plot([], [], pen=None, symbol="o", symbolSize=12,
                                       symbolBrush=None, symbolPen=pg.mkPen("#ffcc33", width=2))
        self._chart.layout().addWidget(self.plot)
        self._refresh_plot()

    def chart_points(self) -> tuple[np.ndarray, np.ndarray]:
        """The (bpp, LPIPS) points the chart draws (building it if needed)."""
        self.ensure_chart()
        x, y = self._curve.getData()
        return (np.asarray([]), np.asarray([])) if x is None else (np.asarray(x), np.asarray(y))

    def _refresh_plot(self) -> None:
        pts = [(r["bpp"], r["lpips"]) for _, r in sorted(self._rows.items()) if r.get("lpips") is not None]
        self._set_note("Open or attach the original to see quality per layer." if self._rows and not pts else "")
        if self.plot is None:
            return
        if pts:
            x, y = np.array(pts).T
            self._curve.setData(x, y)
            # Start both axes at 0 so a single layer (or a flat curve) is still readable.
            self.plot.setXRange(0, float(x.max()) * 1.1 or 1.0, padding=0)
            self.plot.setYRange(0, float(y.max()) * 1.15 or 1.0, padding=0)
        else:
            self._curve.setData([], [])
            self.plot.setXRange(0, 1, padding=0)
            self.plot.setYRange(0, 1, padding=0)
        self._mark_current()

    def _mark_current(self) -> None:
        if self.plot is None:
            return
        r = self._rows.get(self.slider.value())
        if r and r.get("lpips") is not None:
            self._current.setData([r["bpp"]], [r["lpips"]])
        else:
            self._current.setData([], [])

    # -- selection --------------------------------------------------------------------------------
    def current_layer(self) -> int:
        return self.slider.value() if self._rows else 0

    def select_layer(self, layer: int) -> None:
        """Move the slider (and table) to `layer` and tell listeners."""
        self.slider.setValue(layer)
        self._on_slider(self.slider.value())

    def show_progress(self, decoded: int, total: int, partial: bool) -> None:
        text = f"Layer {self.current_layer()} of {decoded} decoded"
        if total and decoded < total:
            text += f" ({total} in file)" if partial else f" / {total}"
        self.layer_label.setText(text)

    @Slot(int)
    def _on_slider(self, value: int) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            layers = sorted(self._rows)
            if value in self._rows:
                self.table.selectRow(layers.index(value))
        finally:
            self._syncing = False
        self._mark_current()
        self.layer_selected.emit(value)

    @Slot()
    def _on_table_selection(self) -> None:
        if self._syncing:
            return
        rows = self.table.selectionModel().selectedRows()
        if rows:
            layer = sorted(self._rows)[rows[0].row()]
            if layer != self.slider.value():
                self.slider.setValue(layer)
