"""The main window's widgets: the viewer tab (image, banner, side panel with layers, quality
and ROI), the Viewer / Compare / RD plot tabs, and the status bar.

A mixin of `MainWindow`, kept apart so the window class holds behaviour, not layout; each
widget becomes an attribute of the window, and its signals go to the window's slots.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QGroupBox, QLabel, QProgressBar, QPushButton,
                               QSizePolicy, QSlider, QSplitter, QTabWidget, QToolButton, QVBoxLayout,
                               QWidget)

from .image_view import ImageView
from .layer_panel import LayerPanel
from .roi_editor import RoiEditor

HEATMAP = "heatmap"  # the image view's overlay names
TOKENS = "tokens"
PLACEHOLDER = "Open a .gic file or an image (Ctrl+O), or drop one here."


class WindowLayout:
    """Builds the window's widgets (mixed into `MainWindow`, which calls these once)."""

    def _build_view_tab(self) -> None:
        self.view = ImageView()
        self.view.hovered.connect(self._on_hover)
        self.view.zoom_changed.connect(self._on_zoom)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()
        self.placeholder = QLabel(PLACEHOLDER)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: #bbb; font-size: 15px; background: #303034;")

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.setSpacing(0)
        lv.addWidget(self.banner)
        lv.addWidget(self.placeholder, 1)
        lv.addWidget(self.view, 1)
        self.view.hide()

        # Side panel: file info, layers, overlays; ROI in its own tab.
        self.info_label = QLabel("No file")
        self.info_label.setWordWrap(True)
        # Never squeeze the file description below its text: the table and chart give way instead.
        self.info_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layers = LayerPanel()
        self.layers.layer_selected.connect(self.show_layer)
        self.heatmap_check = QCheckBox("LPIPS heatmap")
        self.heatmap_check.setToolTip("Where the current layer differs perceptually from the original (H)")
        self.heatmap_check.toggled.connect(self._on_heatmap_toggled)
        self.heatmap_check.setEnabled(False)
        self.heatmap_opacity = QSlider(Qt.Orientation.Horizontal)
        self.heatmap_opacity.setRange(0, 100)
        self.heatmap_opacity.setValue(60)
        self.heatmap_opacity.valueChanged.connect(
            lambda v: self.view.set_overlay_opacity(HEATMAP, v / 100.0))
        self.tokens_check = QCheckBox("Token map")
        self.tokens_check.setToolTip("Token codecs: which tokens this layer read from the file (clear), "
                                     "which the prior guessed (blue) or regenerated after dropping (orange)")
        self.tokens_check.toggled.connect(lambda _on: self._update_token_map())
        self.tokens_check.setEnabled(False)
        self.tokens_legend = QLabel(" ".join(
            f'<span style="color:{c}">&#9632;</span>&nbsp;{t}' for c, t in
            (("#888", "read (clear)"), ("rgb(40,120,255)", "guessed"), ("rgb(255,140,0)", "regenerated"))))
        self.tokens_legend.setVisible(False)
        self.original_label = QLabel("Original: not known")
        self.original_label.setWordWrap(True)
        self.original_label.setTextFormat(Qt.TextFormat.RichText)  # the name in it is HTML-escaped
        self.attach_button = QPushButton("Attach original…")
        self.attach_button.clicked.connect(self.attach_original_dialog)
        self.heatmap_opacity.setToolTip("Opacity of the LPIPS heatmap")
        overlay_box = QGroupBox("Quality")
        ob = QFormLayout(overlay_box)
        ob.addRow(self.original_label)
        ob.addRow(self.attach_button)
        ob.addRow(self.heatmap_check, self.heatmap_opacity)  # one row each: the layer table needs the height
        ob.addRow(self.tokens_check)
        ob.addRow(self.tokens_legend)  # its own row: beside the check box it clips

        info_box = QGroupBox("File")
        ib = QVBoxLayout(info_box)
        ib.addWidget(self.info_label)

        layers_page = QWidget()
        lp = QVBoxLayout(layers_page)
        lp.addWidget(info_box)
        lp.addWidget(self.layers, 1)
        lp.addWidget(overlay_box)

        self.roi_editor = RoiEditor(self.view)
        self.roi_editor.load_requested.connect(self.load_mask_dialog)
        self.roi_editor.save_requested.connect(self.save_mask_dialog)
        self.roi_editor.encode_requested.connect(self.reencode_dialog)
        self.roi_editor.active_changed.connect(lambda on: self._update_actions())
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(layers_page, "Layers")
        self.side_tabs.addTab(self.roi_editor, "ROI")
        self.side_tabs.setMinimumWidth(330)

        self.view_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.view_splitter.addWidget(left)
        self.view_splitter.addWidget(self.side_tabs)
        self.view_splitter.setStretchFactor(0, 1)
        self.view_splitter.setStretchFactor(1, 0)
        self.view_splitter.setSizes([900, 360])

    def _build_tabs(self) -> None:
        from .compare import CompareWidget
        from .rd_plot import RDPlotWidget

        self.compare = CompareWidget(self)
        self.rd_plot = RDPlotWidget(self)
        self.compare.sides_changed.connect(self._on_compare_points)
        for v in self.compare.views():
            v.zoom_changed.connect(self._on_zoom)
        self.compare.mode_changed.connect(self._on_zoom)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.view_splitter, "Viewer")
        self.tabs.addTab(self.compare, "Compare")
        self.tabs.addTab(self.rd_plot, "RD plot")
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.setCentralWidget(self.tabs)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.pixel_label = QLabel("")
        self.pixel_label.setMinimumWidth(230)
        self.zoom_label = QLabel("")
        self.zoom_label.setMinimumWidth(80)
        self.zoom_label.setToolTip("Zoom of the image on screen: 0 fits, 1-4 zoom to 100-400%, + and − step")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Cancel the running decode or encode (Esc)")
        self.cancel_button.clicked.connect(self.cancel_jobs)
        self.cancel_button.hide()
        sb.addPermanentWidget(self.pixel_label)
        sb.addPermanentWidget(self.zoom_label)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)
