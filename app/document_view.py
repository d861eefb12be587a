"""Showing the open document: start it, decode its bytes progressively, step through its layers,
and redraw the layer table, file description and token map on the document's events.

A mixin of `MainWindow`. The window observes the Qt-free `Document`: decode results go into
the document, and what is on screen follows its events.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PySide6.QtCore import Slot

from gic.codecs.base import Preview, bits_per_pixel

from . import jobs
from .model import Document
from .qimage import tokens_to_rgba
from .text_fit import SIDE_TEXT_PX, fit_name
from .window_layout import HEATMAP, PLACEHOLDER, TOKENS


class DocumentView:
    """The open document on screen and its progressive decode (mixed into `MainWindow`)."""

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
