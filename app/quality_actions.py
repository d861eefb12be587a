"""Quality against the original: attach it, measure PSNR and LPIPS per layer in the background,
and draw the LPIPS heatmap over the layer on screen.

A mixin of `MainWindow`: the original lives in the document; this starts the metric and
heatmap jobs and shows their results.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFileDialog

from gic.codecs.errors import GicError

from . import jobs, settings
from .file_actions import IMAGE_FILTER
from .legend import Legend
from .qimage import HEATMAP_STOPS, heatmap_scale, heatmap_to_rgba
from .text_fit import fit_name
from .window_layout import HEATMAP


class QualityActions:
    """The original, per-layer metrics and the LPIPS heatmap (mixed into `MainWindow`)."""

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
        # LPIPS that could not run (no torch, no weights) is "-" in the table; say why once here.
        why = next((v["lpips_error"] for v in self.doc.metrics.values() if "lpips_error" in v), None) \
            if self.doc is not None else None
        self.statusBar().showMessage("Quality measured for every layer" + (f"; no LPIPS: {why}" if why else ""),
                                     12000 if why else 4000)
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
