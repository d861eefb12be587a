"""The main window: open/decode/view .gic files, paint an ROI and re-encode, compare codecs, RD plot.

What is open lives in a Qt-free `document.Document` (layers, original, metrics); the window
starts the background jobs that fill it and shows what it holds.
"""
from __future__ import annotations

import functools
import html
import re
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QFontMetrics, QIcon
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QGroupBox, QLabel,
                               QMainWindow, QMessageBox, QProgressBar, QPushButton, QSlider, QSplitter, QTabWidget,
                               QToolButton, QVBoxLayout, QWidget, QFormLayout, QSizePolicy)

from gic.codecs.base import Preview, bits_per_pixel
from gic.codecs.errors import GicError

from . import jobs, settings
from .model import Document
from .encode_dialog import CodecInfo, EncodeDialog
from .image_view import ImageView
from .layer_panel import LayerPanel
from .legend import Legend
from .qimage import HEATMAP_STOPS, heatmap_scale, heatmap_to_rgba, tokens_to_rgba
from .roi_editor import RoiEditor, load_mask_png, save_mask_png
from .workers import JobRunner

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.ppm *.avif *.jxl)"
OPEN_FILTER = f"gic files and images (*.gic *.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.ppm *.avif *.jxl);;" \
              f"gic files (*.gic);;{IMAGE_FILTER};;All files (*)"
HEATMAP = "heatmap"
TOKENS = "tokens"
SIDE_TEXT_PX = 270  # file names in the side panel are elided to this: it fits its minimum width


ZWSP = "\u200b"


def breakable(text: str, run: int = 24) -> str:
    """`text` with zero-width break chances inside runs of more than `run` non-space characters
    (after / \\ _ - and at least every `run` characters): a wrapping label cannot break a long path
    otherwise, and its minimum width would widen the window."""
    def split(m: re.Match) -> str:
        word = re.sub(r"([/\\_\-])", "\\1" + ZWSP, m.group(0))
        parts = word.split(ZWSP)
        return ZWSP.join(ZWSP.join(p[i:i + run] for i in range(0, len(p), run)) for p in parts)

    return re.sub(r"\S{%d,}" % (run + 1), split, text)


def fit_name(label: QLabel, name: str, px: int = SIDE_TEXT_PX, *, escape: bool = True) -> str:
    """`name` elided in the middle to `px` pixels of `label`'s font, HTML-escaped: a long name without
    spaces cannot wrap, and would otherwise widen the panel (the window resizes itself) or clip."""
    text = QFontMetrics(label.font()).elidedText(name, Qt.TextElideMode.ElideMiddle, px)
    return html.escape(text) if escape else text
CLOSE_GRACE_S = 3.0  # how long closing waits for cancelled jobs to stop
PLACEHOLDER = "Open a .gic file or an image (Ctrl+O), or drop one here."


def icon_path() -> Path:
    from gic.resources import path

    return path("icons", "gic.svg")


class MainWindow(QMainWindow):
    document_ready = Signal()  # decode (and metrics, when the original is known) finished or failed
    codecs_ready = Signal()

    def __init__(self, parent: QWidget | None = None, *, codec_filter: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("gic viewer")
        self.codec_filter = codec_filter  # None: every registered codec
        if icon_path().is_file():
            self.setWindowIcon(QIcon(str(icon_path())))
        self.setAcceptDrops(True)
        self.doc: Document | None = None
        self.codec_infos: list[CodecInfo] = []
        self.devices = ["cpu"]
        self._heatmap_layer: int | None = None
        self._loading: Path | None = None  # image file being loaded in the background
        self.ask_on_close = True  # False for non-interactive use (--screenshot)

        self.decode_runner = JobRunner("decode", self)
        self.metrics_runner = JobRunner("metrics", self)
        self.heatmap_runner = JobRunner("heatmap", self)
        self.encode_runner = JobRunner("encode", self)
        self.codecs_runner = JobRunner("codecs", self)
        self.load_runner = JobRunner("load", self)
        self._runners = [self.load_runner, self.decode_runner, self.metrics_runner, self.heatmap_runner,
                         self.encode_runner, self.codecs_runner]

        self._build_view_tab()
        self._build_tabs()
        self._build_status_bar()
        self._build_actions()
        self._connect_runners()
        self._restore_settings()
        self._update_actions()
        self.codecs_runner.submit(functools.partial(_discover_codecs, only=codec_filter))

    # ------------------------------------------------------------------ construction
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

    def _build_actions(self) -> None:
        from .menus import build_actions

        build_actions(self)

    def _connect_runners(self) -> None:
        r = self.decode_runner
        r.partial.connect(self._on_decode_partial)
        r.finished.connect(self._on_decode_finished)
        r.failed.connect(self._on_decode_failed)
        r.progress.connect(self._on_progress)
        self.metrics_runner.partial.connect(self._on_metrics_partial)
        self.metrics_runner.finished.connect(self._on_metrics_finished)
        self.metrics_runner.failed.connect(self._on_metrics_failed)
        self.heatmap_runner.finished.connect(self._on_heatmap_finished)
        self.heatmap_runner.failed.connect(self._on_heatmap_failed)
        self.encode_runner.progress.connect(self._on_progress)
        self.encode_runner.finished.connect(self._on_encode_finished)
        self.encode_runner.failed.connect(self._on_encode_failed)
        self.encode_runner.cancelled.connect(self._on_encode_cancelled)
        self.load_runner.finished.connect(self._on_image_loaded)
        self.load_runner.failed.connect(self._on_image_failed)
        self.codecs_runner.finished.connect(self._on_codecs_found)
        self.codecs_runner.failed.connect(lambda _id, msg: self.show_banner(f"Cannot list codecs: {msg}"))
        for runner in self._runners:
            runner.busy_changed.connect(self._on_busy_changed)

    # ------------------------------------------------------------------ settings
    def _restore_settings(self) -> None:
        geo = settings.get("geometry")
        if isinstance(geo, QByteArray) and not geo.isEmpty():
            self.restoreGeometry(geo)
        else:
            self.resize(1280, 800)
        split = settings.get("view_splitter")
        if isinstance(split, QByteArray) and not split.isEmpty():
            self.view_splitter.restoreState(split)
        self.heatmap_opacity.setValue(settings.get("heatmap_opacity", 60, int))
        self.roi_editor.opacity_slider.setValue(settings.get("roi_opacity", 45, int))
        self.roi_editor.set_radius(settings.get("roi_radius", 24, int))

    def _save_settings(self) -> None:
        s = settings.settings()
        s.setValue("geometry", self.saveGeometry())
        s.setValue("view_splitter", self.view_splitter.saveState())
        s.setValue("heatmap_opacity", self.heatmap_opacity.value())
        s.setValue("roi_opacity", self.roi_editor.opacity_slider.value())
        s.setValue("roi_radius", self.roi_editor.size_slider.value())
        s.setValue("device", self.device())
        s.sync()

    def device(self) -> str:
        return self.device_combo.currentText() or "cpu"

    # ------------------------------------------------------------------ codecs
    @Slot(int, object)
    def _on_codecs_found(self, _job: int, result: object) -> None:
        infos, cuda, problems = result
        self.codec_infos = infos
        if cuda and self.device_combo.findText("cuda") < 0:
            self.device_combo.addItem("cuda")
        self.devices = [self.device_combo.itemText(i) for i in range(self.device_combo.count())]
        wanted = settings.get("device", "cpu")
        if wanted in self.devices:
            self.device_combo.setCurrentText(wanted)
        if problems:
            self.statusBar().showMessage("Some codecs are unavailable: " + "; ".join(problems), 8000)
        self.compare.set_codecs(infos)
        self.rd_plot.set_codecs(infos)
        self._update_actions()
        self.codecs_ready.emit()

    def codec_names(self) -> list[str]:
        return [c.name for c in self.codec_infos]

    # ------------------------------------------------------------------ opening
    @Slot()
    def open_dialog(self) -> None:
        start = settings.get("last_dir", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(self, "Open", start, OPEN_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Open a .gic (decoded progressively) or an image (shown as the original to encode)."""
        path = Path(path)
        settings.put("last_dir", str(path.parent))
        if jobs.is_image_path(path):
            # Decoding a large image file takes a while: do it in the background like the rest.
            for runner in (self.decode_runner, self.metrics_runner, self.heatmap_runner):
                runner.cancel()
            self._loading = path
            self.load_runner.submit(functools.partial(_load_image_job, path=path))
            self.statusBar().showMessage(f"Loading {path.name}…")
            return True
        try:
            data = jobs.read_file(path)
        except (GicError, OSError) as exc:
            self._fail_open(path.name, str(exc))
            return False
        self._remember(path)
        self.open_bytes(data, path.name, path=path)
        return True

    @Slot(int, object)
    def _on_image_loaded(self, _job: int, result: object) -> None:
        path, loaded = result
        self._remember(path)
        self.open_image(loaded.pixels, path.name, path=path)
        if loaded.alpha_flattened:
            self.show_banner(jobs.alpha_note(path.name), kind="info")

    @Slot(int, str)
    def _on_image_failed(self, _job: int, message: str) -> None:
        self._fail_open(self._loading.name if self._loading else "the image", message)

    def _remember(self, path: Path) -> None:
        settings.add_recent_file(path)

    def _fail_open(self, name: str, message: str) -> None:
        self.show_banner(f"Cannot open {name}: {message}")
        self.statusBar().showMessage(f"Cannot open {name}", 5000)
        self.document_ready.emit()

    @property
    def previews(self) -> list[Preview]:
        """The open document's decoded layers, coarse to fine."""
        return self.doc.previews if self.doc is not None else []

    def _start_document(self, doc: Document) -> None:
        for runner in (self.load_runner, self.decode_runner, self.metrics_runner, self.heatmap_runner):
            runner.cancel()
        self.doc = doc
        doc.subscribe(self._on_document_event)
        self._heatmap_layer = None
        self.heatmap_check.setChecked(False)
        self.view.set_overlay(HEATMAP, None)
        self.view.set_legend(None)
        self.hide_banner()
        self.layers.reset()
        self.roi_editor.show_bits(None)
        self.setWindowTitle(f"{doc.title} — gic viewer")

    def _on_document_event(self, event: str, doc: Document, layer: int | None) -> None:
        """The document changed: show it (the window observes; jobs only fill the document)."""
        if doc is not self.doc:
            return  # a document replaced since
        if event == "info":
            self.layers.reset(doc.info.num_layers, doc.info.width * doc.info.height)
            self.roi_editor.reset(doc.info.height, doc.info.width, doc.initial_roi())
        elif event == "layer":
            self.layers.add_layer(layer, doc.preview(layer).bits)
        elif event == "current":
            self._show_current()
        elif event == "original":
            self._original_changed()
        elif event == "metrics":
            self.layers.set_metrics(layer, doc.metrics[layer])
            self._update_quality_label()
        elif event == "saved":
            self.setWindowTitle(f"{doc.title} — gic viewer")
        if event in ("info", "layer", "error", "saved"):
            self._update_info()
            self._update_actions()

    def open_image(self, image: np.ndarray, name: str, path: Path | None = None) -> None:
        """Show an uncompressed image: it becomes the original to encode, compare and measure against."""
        self._start_document(Document(name=name, path=path, original=image, original_name=name))
        self._show_array(image, fit=True)
        h, w = image.shape[:2]
        self.roi_editor.reset(h, w)
        self.info_label.setText(f"<b>{fit_name(self.info_label, name)}</b><br>{w}×{h} original image<br>"
                                "Re-encode it (Ctrl+E) or compare codecs on it.")
        self._original_changed()
        self.statusBar().showMessage(f"Opened {name}", 4000)
        self._update_actions()
        self.document_ready.emit()

    def open_bytes(self, data: bytes, name: str, *, path: Path | None = None, codec: str | None = None,
                   original: np.ndarray | None = None, original_name: str | None = None,
                   saved: bool = True) -> int:
        """Decode encoded bytes in the background; returns the decode job id."""
        return self.open_document(Document(name=name, path=path, data=data, codec=codec, original=original,
                                           original_name=original_name, saved=saved))

    def open_document(self, doc: Document) -> int:
        """Show `doc` and decode its bytes in the background; returns the decode job id."""
        self._start_document(doc)
        name, data, original, codec = doc.name, doc.data, doc.original, doc.codec
        if original is None:  # another file: do not leave the previous picture up while decoding
            self._show_placeholder(f"Decoding {fit_name(self.placeholder, name, 480, escape=False)}…")
        self.info_label.setText(f"<b>{fit_name(self.info_label, name)}</b><br>{len(data):,} bytes<br>decoding…")
        self._original_changed()
        device = self.device()
        job = self.decode_runner.submit(functools.partial(jobs.decode_job, data=data, device=device, codec=codec))
        self._update_actions()
        return job

    def _show_placeholder(self, text: str) -> None:
        self.view.set_image(None)
        self.view.hide()
        self.placeholder.setText(text)
        self.placeholder.show()

    def _show_array(self, image: np.ndarray, fit: bool | None = None) -> None:
        self.placeholder.hide()
        self.view.show()
        self.view.set_image(image, fit=fit)

    # ------------------------------------------------------------------ decoding
    @Slot(int, object)
    def _on_decode_partial(self, _job: int, payload: object) -> None:
        doc = self.doc
        if doc is None:
            return
        if isinstance(payload, jobs.FileInfo):
            doc.set_info(payload)  # the window resets its layer table and ROI on the "info" event
        elif isinstance(payload, Preview):
            doc.add_preview(payload)  # and adds a row, and shows it while following the decode

    @Slot(int, object)
    def _on_decode_finished(self, _job: int, result: object) -> None:
        doc = self.doc
        if doc is None:
            return
        self._update_info(result)
        if doc.partial_note():
            self.show_banner(doc.partial_note(), kind="warning")
        self.statusBar().showMessage(f"Decoded {len(self.previews)} layer(s) in {result.seconds:.2f} s", 5000)
        if result.roi_bits is not None and doc.info is not None:
            self.roi_editor.show_bits(result.roi_bits, doc.info.size * 8)
        if doc.measurable:
            self._start_metrics()
        else:
            self.document_ready.emit()

    @Slot(int, str)
    def _on_decode_failed(self, _job: int, message: str) -> None:
        doc = self.doc
        if doc is None:
            return
        doc.fail(message)
        self.show_banner(doc.failure_note(message))
        if not self.previews and doc.original is None:
            self._show_placeholder(PLACEHOLDER)
        self.statusBar().showMessage(f"Error: {message}", 8000)
        if doc.measurable:
            self._start_metrics()
        else:
            self.document_ready.emit()

    @Slot(int)
    def show_layer(self, layer: int) -> None:
        """Show decoded layer `layer` (1-based): the document's layer on screen (the window shows
        it on the "current" event); the layer table follows."""
        if self.doc is None:
            return
        if self.doc.current == layer and self.doc.preview(layer) is not None:
            self._show_current()  # the table moved to the layer on screen: show it anyway
        else:
            self.doc.select(layer)

    def _show_current(self) -> None:
        doc = self.doc
        p = doc.current_preview
        if p is None:
            return
        if self.layers.current_layer() != p.layer:
            self.layers.select_layer(p.layer)  # which calls show_layer again: shown there
            return
        first = self.view.image() is None or not self.view.isVisible()
        self._show_array(p.image, fit=True if first else None)
        self.layers.show_progress(len(doc.previews), p.num_layers, doc.partial)
        self._update_quality_label()
        self._update_token_map(p)
        if self.heatmap_check.isChecked():
            self._request_heatmap()

    def _update_token_map(self, p: Preview | None = None) -> None:
        """Show the current layer's token states when the codec has them and the box is ticked."""
        p = p or self.current_preview()
        has = p is not None and p.tokens is not None
        self.tokens_check.setEnabled(has)
        if has and self.tokens_check.isChecked():
            h, w = p.image.shape[:2]
            self.view.set_overlay(TOKENS, tokens_to_rgba(p.tokens, h, w), opacity=0.45, z=1.5)
        else:
            self.view.set_overlay(TOKENS, None)
        self.tokens_legend.setVisible(self.view.has_overlay(TOKENS))

    def current_preview(self) -> Preview | None:
        return self.doc.current_preview if self.doc is not None else None

    def _step_layer(self, step: int) -> None:
        layer = self.doc.step(step) if self.doc is not None else None
        if layer is not None:
            self.doc.select(layer)

    def _update_info(self, result: object = None) -> None:
        doc = self.doc
        if doc is None or doc.info is None:
            if doc is not None and doc.error:
                self.info_label.setText(f"<b>{fit_name(self.info_label, doc.name)}</b><br>{doc.error}")
            return
        i = doc.info
        self.info_label.setToolTip(doc.name)
        lines = [f"<b>{fit_name(self.info_label, doc.name)}</b>" + ("" if doc.saved else " <i>(not saved)</i>"),
                 f"codec <b>{i.codec}</b>, {i.width}×{i.height}",
                 f"{i.size:,} bytes = {bits_per_pixel(i.size, (i.height, i.width)):.4f} bpp",
                 f"{len(self.previews)} of {i.num_layers} layer(s) decoded"]
        if i.partial:
            lines.append("<span style='color:#e0a030'>partial file: later layers are missing</span>")
        if i.roi is not None:
            lines.append(f"ROI stored: {100 * i.roi.mean():.1f}% of the image")
        settings_used = {k: v for k, v in i.metadata.items() if k in ("source", "encoder", "target_bpp")}
        if settings_used:
            lines.append(", ".join(f"{k} {fit_name(self.info_label, str(v), SIDE_TEXT_PX // 2)}"
                                   for k, v in settings_used.items()))
        if i.model_id:
            lines.append(f"model {i.model_id}")
        if doc.error:
            lines.append(f"<span style='color:#e05050'>{doc.error}</span>")
        self.info_label.setText("<br>".join(lines))

    # ------------------------------------------------------------------ original & metrics
    @Slot()
    def attach_original_dialog(self) -> None:
        start = settings.get("last_dir", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(self, "Attach original", start, IMAGE_FILTER)
        if path:
            self.attach_original(path)

    def attach_original(self, path: str | Path) -> bool:
        path = Path(path)
        try:
            loaded = jobs.load_image_info(path)
        except (GicError, OSError) as exc:
            self.show_banner(f"Cannot read the original {path.name}: {exc}")
            return False
        ok = self.set_original(loaded.pixels, path.name)
        if ok and loaded.alpha_flattened:
            self.show_banner(jobs.alpha_note(path.name), kind="info")
        return ok

    def set_original(self, image: np.ndarray, name: str) -> bool:
        doc = self.doc
        if doc is None:
            self.open_image(image, name)
            return True
        why = doc.mismatch(image, name)
        if why:
            self.show_banner(why)
            return False
        doc.attach_original(image, name)  # the window redraws on the document's "original" event
        if self.previews:
            self._start_metrics()
        return True

    def original(self) -> np.ndarray | None:
        return None if self.doc is None else self.doc.original

    def _original_changed(self) -> None:
        doc = self.doc
        known = doc is not None and doc.original is not None
        self.original_label.setText(f"Original: {fit_name(self.original_label, doc.original_name)}" if known
                                    else "Original: not known — attach it to measure PSNR and LPIPS.")
        self.original_label.setToolTip(doc.original_name if known else "")
        self.heatmap_check.setEnabled(doc is not None and doc.heatmap_possible)
        self.compare.set_original(doc.original if known else None, doc.original_name if known else None)
        self.rd_plot.set_original(doc.original if known else None, doc.original_name if known else None)
        self._update_actions()

    def _start_metrics(self) -> None:
        doc = self.doc
        if doc is None or not doc.measurable:
            return
        self.metrics_runner.submit(functools.partial(jobs.metrics_job, original=doc.original,
                                                     previews=list(self.previews), device=self.device()))
        self.statusBar().showMessage("Measuring PSNR and LPIPS per layer…")

    @Slot(int, object)
    def _on_metrics_partial(self, _job: int, payload: object) -> None:
        if isinstance(payload, jobs.LayerMetrics) and self.doc is not None:
            self.doc.set_metrics(payload.layer, payload.values)  # the table and status follow the event

    @Slot(int, object)
    def _on_metrics_finished(self, _job: int, _result: object) -> None:
        self.heatmap_check.setEnabled(True)
        self._update_actions()
        self.statusBar().showMessage("Quality measured for every layer", 4000)
        self.document_ready.emit()

    @Slot(int, str)
    def _on_metrics_failed(self, _job: int, message: str) -> None:
        self.statusBar().showMessage(f"Cannot measure quality: {message}", 8000)
        self.show_banner(f"Cannot measure quality: {message}", kind="warning")
        self.document_ready.emit()

    def _update_quality_label(self) -> None:
        text = self.doc.summary(self.doc.current) if self.doc is not None else None
        if text:
            self.statusBar().showMessage(text)

    @Slot(bool)
    def _on_heatmap_toggled(self, on: bool) -> None:
        if on:
            self._request_heatmap()
        else:
            self.heatmap_runner.cancel()
            self.view.set_overlay(HEATMAP, None)
            self.view.set_legend(None)
            self._heatmap_layer = None

    def _request_heatmap(self) -> None:
        doc, p = self.doc, self.current_preview()
        if doc is None or doc.original is None or p is None:
            return
        if self._heatmap_layer == p.layer and self.view.has_overlay(HEATMAP):
            return
        self._heatmap_for = p.layer
        self.heatmap_runner.submit(functools.partial(jobs.heatmap_job, original=doc.original, image=p.image,
                                                     device=self.device()))

    @Slot(int, object)
    def _on_heatmap_finished(self, _job: int, result: object) -> None:
        if not self.heatmap_check.isChecked():
            return
        self._heatmap_layer = getattr(self, "_heatmap_for", None)
        top = heatmap_scale(result)
        self.view.set_overlay(HEATMAP, heatmap_to_rgba(result, top), self.heatmap_opacity.value() / 100.0, z=1)
        self.view.set_legend(Legend("LPIPS distance per pixel", "0", f"≥ {top:.3g}", HEATMAP_STOPS))

    @Slot(int, str)
    def _on_heatmap_failed(self, _job: int, message: str) -> None:
        self.statusBar().showMessage(f"Cannot compute the LPIPS heatmap: {message}", 8000)
        self.heatmap_check.setChecked(False)

    # ------------------------------------------------------------------ ROI
    @Slot(bool)
    def _set_roi_active(self, on: bool) -> None:
        if on:
            self.tabs.setCurrentIndex(0)
            self.side_tabs.setCurrentWidget(self.roi_editor)
        if self.roi_editor.is_active() != on:
            self.roi_editor.set_active(on)

    def _roi_mode(self, mode: str) -> None:
        self.tabs.setCurrentIndex(0)
        self.side_tabs.setCurrentWidget(self.roi_editor)
        self.roi_editor.set_mode(mode)

    @Slot()
    def load_mask_dialog(self) -> None:
        start = settings.get("last_dir", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(self, "Load ROI mask", start, "PNG masks (*.png)")
        if path:
            self.load_mask(path)

    def load_mask(self, path: str | Path) -> bool:
        try:
            self.roi_editor.set_mask(load_mask_png(path))
        except (GicError, ValueError) as exc:
            self.show_banner(f"Cannot load the mask: {exc}")
            return False
        return True

    @Slot()
    def save_mask_dialog(self) -> None:
        if self.roi_editor.mask() is None:
            return
        start = settings.get("last_dir", str(Path.home()))
        path, _ = QFileDialog.getSaveFileName(self, "Save ROI mask", str(Path(start) / "roi.png"), "PNG (*.png)")
        if path:
            self.save_mask(path)

    def save_mask(self, path: str | Path) -> None:
        save_mask_png(self.roi_editor.mask(), path)
        self.statusBar().showMessage(f"Saved the mask to {path}", 4000)

    # ------------------------------------------------------------------ re-encoding
    def encode_source(self) -> np.ndarray | None:
        """What re-encoding starts from: the original if known, else the last decoded layer."""
        return self.doc.encode_source() if self.doc is not None else None

    @Slot()
    def reencode_dialog(self) -> None:
        if self.encode_source() is None or not self.codec_infos:
            return
        dlg = self.make_encode_dialog()
        if dlg.exec() == EncodeDialog.DialogCode.Accepted:
            req = dlg.request()
            settings.put("encode_codec", req.codec)
            self.reencode(req)

    def make_encode_dialog(self) -> EncodeDialog:
        roi, source = self.roi_editor.mask(), self.encode_source()
        return EncodeDialog(self.codec_infos, self.devices, current_codec=settings.get("encode_codec"),
                            device=self.device(), has_roi=bool(roi is not None and roi.any()),
                            shape=None if source is None else source.shape, parent=self)

    def reencode(self, req: jobs.EncodeRequest) -> int | None:
        """Encode the source in the background (the painted ROI goes with it); the result then opens."""
        image = self.encode_source()
        if image is None:
            return None
        roi = self.roi_editor.mask()
        if req.roi is None and roi is not None and roi.any():
            req.roi = roi.copy()
        if not req.source and self.doc is not None:
            req.source = self.doc.source_name
        self.statusBar().showMessage(f"Encoding with {req.codec}…")
        return self.encode_runner.submit(functools.partial(jobs.encode_job, image=image, req=req))

    @Slot(int, object)
    def _on_encode_finished(self, _job: int, result: object) -> None:
        res: jobs.EncodeResult = result
        source = self.doc or Document(name="image")
        codec = jobs.get_codec(res.request.codec, res.request.device)
        self.statusBar().showMessage(f"Encoded {len(res.data):,} bytes ({res.bpp:.4f} bpp) in {res.seconds:.1f} s")
        self.open_document(source.encoded(res.data, res.request.codec, codec.extension, roi=res.request.roi))
        self.last_encode = res

    @Slot(int, str)
    def _on_encode_failed(self, _job: int, message: str) -> None:
        self.show_banner(f"Encoding failed: {message}")
        self.statusBar().showMessage(f"Encoding failed: {message}", 8000)

    @Slot(int)
    def _on_encode_cancelled(self, _job: int) -> None:
        self.statusBar().showMessage("Encoding cancelled", 4000)

    @Slot()
    def save_dialog(self) -> bool:
        """Ask where to save the encoded file and save it; True if it was saved."""
        doc = self.doc
        if doc is None or doc.data is None:
            return False
        codec_ext = doc.save_suffix
        start = Path(settings.get("last_dir", str(Path.home()))) / doc.name
        path, _ = QFileDialog.getSaveFileName(self, "Save encoded file", str(start),
                                              f"Encoded (*{codec_ext});;All files (*)")
        return bool(path) and self.save_encoded(path)

    def save_encoded(self, path: str | Path) -> bool:
        doc = self.doc
        if doc is None or doc.data is None:
            return False
        try:
            jobs.write_file(path, doc.data)
        except (GicError, OSError) as exc:
            self.show_banner(f"Cannot save {path}: {exc}")
            return False
        doc.mark_saved(Path(path))  # the title and the file's description follow the event
        self._remember(Path(path))
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    @Slot()
    def export_dialog(self) -> None:
        image = self.view.image()
        if image is None:
            return
        start = Path(settings.get("last_dir", str(Path.home()))) / (Path(self.doc.name).stem + ".png")
        path, _ = QFileDialog.getSaveFileName(self, "Export PNG", str(start), "PNG (*.png)")
        if path:
            from gic.codecs import imageio

            imageio.save_png(path, image)

    # ------------------------------------------------------------------ jobs, progress, status
    @Slot()
    def cancel_jobs(self) -> None:
        for runner in (self.decode_runner, self.encode_runner, self.metrics_runner, self.heatmap_runner):
            runner.cancel()
        self.compare.cancel()
        self.rd_plot.cancel()
        self.statusBar().showMessage("Cancelled", 3000)

    @Slot(int, float)
    def _on_progress(self, _job: int, fraction: float) -> None:
        self.progress.setValue(int(1000 * fraction))

    @Slot(bool)
    def _on_busy_changed(self, _busy: bool) -> None:
        busy = any(r.is_busy() for r in (self.decode_runner, self.encode_runner, self.metrics_runner))
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress.setValue(0)

    def show_banner(self, text: str, kind: str = "error") -> None:
        colors = {"error": ("#5c1e1e", "#ffd6d6"), "warning": ("#5a4612", "#ffe9b0"), "info": ("#1e3a5c", "#d6e9ff")}
        bg, fg = colors.get(kind, colors["error"])
        self.banner.setStyleSheet(f"background: {bg}; color: {fg}; padding: 6px 10px;")
        self.banner.setText(breakable(text))
        self.banner.setProperty("kind", kind)
        self.banner.show()

    def hide_banner(self) -> None:
        self.banner.hide()
        self.banner.setText("")

    def banner_text(self) -> str:
        return self.banner.text() if self.banner.isVisible() or self.banner.text() else ""

    @Slot(int, int)
    def _on_hover(self, x: int, y: int) -> None:
        img = self.view.image()
        if x < 0 or img is None:
            self.pixel_label.setText("")
            return
        r, g, b = (int(v) for v in img[y, x])
        text = f"x {x}  y {y}   RGB {r:3d} {g:3d} {b:3d}"
        orig = self.original()
        if orig is not None and orig.shape == img.shape and img is not orig:
            ro, go, bo = (int(v) for v in orig[y, x])
            text += f"   orig {ro} {go} {bo}"
        self.pixel_label.setText(text)

    def active_view(self) -> ImageView | None:
        """The image view on screen: the viewer's, the comparison's current one, or none."""
        tab = self.tabs.currentWidget()
        if tab is self.compare:
            return self.compare.current_view()
        return self.view if tab is self.view_splitter else None

    def on_active_view(self, do) -> None:
        """Run `do(view)` on the view on screen (a zoom action), if it shows an image."""
        view = self.active_view()
        if view is not None and view.image() is not None:
            do(view)

    def _on_zoom(self, *_args) -> None:
        """The zoom indicator: the view on screen's zoom, "Fit" when it follows the window."""
        view = self.active_view()
        if view is None or view.image() is None:
            self.zoom_label.setText("")
            return
        pct = f"{100 * view.zoom():.0f}%"
        self.zoom_label.setText(f"Fit ({pct})" if view.is_fit() else pct)

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.compare:
            self.compare.activate()
        self._on_zoom()

    @Slot()
    def _on_compare_points(self) -> None:
        self.rd_plot.mark_points(self.compare.points())

    def _update_actions(self) -> None:
        doc = self.doc
        has_image = doc is not None and doc.has_image
        self.save_action.setEnabled(doc is not None and doc.data is not None and bool(self.previews))
        self.export_action.setEnabled(self.view.image() is not None)
        self.encode_action.setEnabled(has_image and bool(self.codec_infos))
        self.roi_editor.encode_button.setEnabled(has_image and bool(self.codec_infos))
        self.heatmap_action.setEnabled(self.heatmap_check.isEnabled())
        self.attach_action.setEnabled(doc is not None)
        self.attach_button.setEnabled(doc is not None)
        for a in (self.roi_paint_action, self.roi_show_action, self.roi_brush_action, self.roi_eraser_action,
                  self.roi_rect_action, self.roi_clear_action, self.roi_invert_action, self.roi_load_action, self.roi_save_action):
            a.setEnabled(self.roi_editor.roi is not None)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = settings.recent_files()
        for f in files:
            a = self.recent_menu.addAction(Path(f).name)
            a.setToolTip(f)
            a.setStatusTip(f)
            a.triggered.connect(functools.partial(self.open_path, f))
        if not files:
            a = self.recent_menu.addAction("(none)")
            a.setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", settings.clear_recent_files)

    def shortcut_table(self) -> list[tuple[str, str, str]]:
        """(menu, action, keys) for every menu action with a shortcut, plus the image view's own keys."""
        from .menus import shortcut_rows

        return shortcut_rows(self.menuBar())

    @Slot()
    def show_shortcuts(self) -> None:
        from PySide6.QtWidgets import QDialog, QTableWidget, QTableWidgetItem

        dlg = QDialog(self)
        dlg.setWindowTitle("Keyboard shortcuts")
        rows = self.shortcut_table()
        table = QTableWidget(len(rows), 3, dlg)
        table.setHorizontalHeaderLabels(["Menu", "Action", "Keys"])
        table.verticalHeader().setVisible(False)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.setItem(r, c, QTableWidgetItem(text))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        lay = QVBoxLayout(dlg)
        lay.addWidget(table)
        dlg.resize(560, 520)
        dlg.exec()

    @Slot()
    def about(self) -> None:
        from .about import AboutDialog

        AboutDialog(self.codec_names(), self).exec()

    # ------------------------------------------------------------------ drag and drop, close
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_path(files[0])

    def is_busy(self) -> bool:
        return any(r.is_busy() for r in self._runners) or self.compare.is_busy() or self.rd_plot.is_busy()

    def all_runners(self) -> list[JobRunner]:
        """Every job runner of the window, its Compare and RD-plot tabs included."""
        return self._runners + list(self.compare.runners) + [self.rd_plot.runner]

    def shutdown(self, grace_s: float = CLOSE_GRACE_S) -> bool:
        """Cancel every job, then wait up to `grace_s` in all for the threads (the window is closing).

        True when all stopped. Jobs check their cancel flag between tiles and layers, so this is
        quick; one that is not done in time is left to `workers.exit_when_stopped` at exit.
        """
        runners = self.all_runners()
        for r in runners:
            r.cancel_all()  # all first: they stop in parallel
        deadline = time.monotonic() + grace_s
        return all([r.shutdown(int(1000 * max(0.0, deadline - time.monotonic()))) for r in runners])

    def unsaved_result(self) -> bool:
        """An encode result is open that was never saved (closing would lose it)."""
        return self.doc is not None and self.doc.unsaved

    def work_in_progress(self) -> list[str]:
        """What the user started that is still running and would be lost by closing."""
        running = []
        if self.encode_runner.is_busy():
            running.append("an encode")
        if self.compare.is_busy():
            running.append("a comparison")
        if self.rd_plot.is_busy():
            running.append("an RD measurement")
        return running

    def confirm_close(self) -> bool:
        """Ask before losing work: Save / Quit without saving / Cancel. True to go on closing."""
        unsaved, running = self.unsaved_result(), self.work_in_progress()
        if not self.ask_on_close or not (unsaved or running):
            return True
        lines = []
        if running:
            lines.append(f"{' and '.join(running).capitalize()} is still running; quitting cancels it.")
        if unsaved:
            lines.append(f"The encoded result {self.doc.name} is not saved.")
        box = QMessageBox(QMessageBox.Icon.Warning, "Quit gic viewer", " ".join(lines), parent=self)
        buttons = QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
        if unsaved:
            buttons |= QMessageBox.StandardButton.Save
        box.setStandardButtons(buttons)
        box.button(QMessageBox.StandardButton.Discard).setText("Quit without saving" if unsaved else "Quit")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            return self.save_dialog()
        return answer == QMessageBox.StandardButton.Discard

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.confirm_close():
            event.ignore()
            return
        self._save_settings()
        self.hide()  # gone at once, even while the last cancelled job winds down
        self.shutdown()
        super().closeEvent(event)


def _load_image_job(ctx, path: Path) -> tuple[Path, object]:
    return path, jobs.load_image_info(path)


def _discover_codecs(ctx, only: list[str] | None = None) -> tuple[list[CodecInfo], bool, list[str]]:
    """The registered codecs from their specs (no codec is built, no weights load); whether CUDA
    is there is asked only when a learned codec could use it (that imports torch)."""
    from gic.codecs import registry

    specs = registry.specs()
    if only is not None:
        by_name = {s.name: s for s in specs}
        specs = [by_name[n] for n in only if n in by_name]
    infos = [CodecInfo.from_spec(s) for s in specs]
    ctx.check()
    return infos, any(s.learned for s in specs) and jobs.cuda_available(), []
