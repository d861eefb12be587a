"""The File menu's work: open a .gic or an image (dialog, recent files, drag and drop), save the
encoded file, export the layer on screen as a PNG.

A mixin of `MainWindow`: it uses the window's runners, view and document, and hands what it
opened to the document view (`open_bytes`, `open_image`).
"""
from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog

from gic.codecs.errors import GicError

from . import jobs, settings

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.ppm *.avif *.jxl)"
OPEN_FILTER = f"gic files and images (*.gic *.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.ppm *.avif *.jxl);;" \
              f"gic files (*.gic);;{IMAGE_FILTER};;All files (*)"


class FileActions:
    """Opening, saving and exporting files (mixed into `MainWindow`)."""

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


def _load_image_job(ctx, path: Path) -> tuple[Path, object]:
    return path, jobs.load_image_info(path)
