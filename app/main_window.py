"""The main window: open/decode/view .gic files, paint an ROI and re-encode, compare codecs, RD plot.

What is open lives in a Qt-free `document.Document` (layers, original, metrics); the window
starts the background jobs that fill it and shows what it holds. The window is assembled from
focused mixins, one per concern: `window_layout` (its widgets), `file_actions` (open, save,
export), `document_view` (decode and layers), `quality_actions` (original, metrics, heatmap),
`encode_actions` (ROI and re-encode) and `window_status` (banner, status bar, progress, zoom);
its menus are in `menus`. This module wires them: runners, settings, codecs, actions, closing.
"""
from __future__ import annotations

import functools
import time
from pathlib import Path

from PySide6.QtCore import QByteArray, Signal, Slot
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import QMainWindow, QMessageBox, QVBoxLayout, QWidget

from . import jobs, settings
from .document_view import DocumentView
from .encode_actions import EncodeActions
from .encode_dialog import CodecInfo
from .file_actions import FileActions
from .model import Document
from .quality_actions import QualityActions
from .window_layout import TOKENS, WindowLayout  # noqa: F401 (TOKENS: the token overlay, as before)
from .window_status import WindowStatus
from .workers import JobRunner

CLOSE_GRACE_S = 3.0  # how long closing waits for cancelled jobs to stop


def icon_path() -> Path:
    from gic.resources import path

    return path("icons", "gic.svg")


class MainWindow(WindowLayout, FileActions, DocumentView, QualityActions, EncodeActions, WindowStatus,
                 QMainWindow):
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

    # ------------------------------------------------------------------ wiring
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
