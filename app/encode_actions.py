"""The ROI menu and re-encoding: paint, load and save the ROI mask, encode the source with any
codec (the painted ROI goes with it) and open the result as an unsaved document.

A mixin of `MainWindow`: the mask lives in its `RoiEditor`; the encode runs in its encode runner.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFileDialog

from gic.codecs.errors import GicError

from . import jobs, settings
from .encode_dialog import EncodeDialog
from .model import Document
from .roi_editor import load_mask_png, save_mask_png


class EncodeActions:
    """ROI editing commands and re-encoding (mixed into `MainWindow`)."""

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
