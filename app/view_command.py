"""`gic view [FILE] [--screenshot OUT.png]`: start the viewer (mounted by gic.cli)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

SCREENSHOT_TIMEOUT_S = 300


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", help="a .gic file or an image to open (default: the bundled sample)")
    parser.add_argument("--screenshot", metavar="OUT.png",
                        help="open the window, wait for the full progressive decode (and quality "
                             "measurement), save a screenshot of the whole window and exit")
    parser.add_argument("--tab", choices=("viewer", "compare", "rd"), default="viewer",
                        help="tab to show first (useful with --screenshot)")
    parser.add_argument("--original", metavar="IMAGE", help="the uncompressed original of FILE, for PSNR/LPIPS")
    parser.add_argument("--size", metavar="WxH", default=None, help="window size, e.g. 1280x800")


def default_sample() -> Path | None:
    """A bundled sample to open when no file is given: a .gic if one ships, else an image."""
    from gic.resources import path

    folder = path("samples")
    if not folder.is_dir():
        return None
    for pattern in ("*.gic", "*.png", "*.jpg"):
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
    return None


def sample_original(sample: Path) -> Path | None:
    """The image a bundled .gic sample was encoded from (same name beside it), so the default
    view shows per-layer PSNR/LPIPS and the heatmap without the user attaching anything."""
    if sample.suffix.lower() != ".gic":
        return None
    for ext in (".png", ".jpg"):
        candidate = sample.with_suffix(ext)
        if candidate.is_file():
            return candidate
    return None


def _make_app(offscreen: bool):
    if offscreen and not os.environ.get("QT_QPA_PLATFORM") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        _quiet_offscreen_warnings()
    app = QApplication.instance()
    if app is None:
        # Fractional scale factors (125%, 150%) as they are: crisp pixels at 100% need exact mapping.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(sys.argv[:1])
        app.setApplicationName("gic viewer")
        app.setOrganizationName("gic")
        app.setDesktopFileName("gic")
    return app


def _quiet_offscreen_warnings() -> None:
    """The offscreen platform warns about window hints it cannot honour; that is not news."""
    from PySide6.QtCore import qInstallMessageHandler

    previous = None

    def handler(mode, context, message):  # noqa: ANN001 - Qt's signature
        if "propagateSizeHints" in message:
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            sys.stderr.write(message + "\n")

    previous = qInstallMessageHandler(handler)


def _parse_size(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"gic view: --size must look like 1280x800, got {text!r}") from None
    return w, h


def run(args: argparse.Namespace) -> int:
    """Open the window; with --screenshot, save it once everything is decoded and return."""
    file = getattr(args, "file", None)
    screenshot = getattr(args, "screenshot", None)
    if file is not None and not Path(file).exists():
        print(f"gic view: {file}: no such file", file=sys.stderr)
        return 2
    target = Path(file) if file else default_sample()
    if target is not None and not screenshot:
        from . import prefetch

        prefetch.start(target)  # the first layer decodes while Qt starts and the window is built
    app = _make_app(offscreen=bool(screenshot))
    from .main_window import MainWindow

    window = MainWindow()
    window.ask_on_close = not screenshot
    size = _parse_size(getattr(args, "size", None))
    if size:
        window.resize(*size)
    elif screenshot:
        window.resize(1280, 800)
    window.show()
    if file is None and target is not None and not getattr(args, "original", None):
        found = sample_original(target)
        if found is not None:
            args.original = str(found)
    if target is None and file is None:
        window.statusBar().showMessage("No bundled sample found: open a file (Ctrl+O)")
    tab = {"viewer": 0, "compare": 1, "rd": 2}[getattr(args, "tab", "viewer") or "viewer"]

    if not screenshot:
        opener = _FileOpenFilter(window)  # macOS: files opened from Finder arrive as QFileOpenEvent
        app.installEventFilter(opener)
        if target is not None:
            window.open_path(target)
            if getattr(args, "original", None):
                window.document_ready.connect(lambda: _attach_once(window, args.original))
        window.tabs.setCurrentIndex(tab)
        try:
            code = app.exec()
        finally:
            app.removeEventFilter(opener)
        from .workers import exit_when_stopped

        return exit_when_stopped(code, grace_s=2.0)  # never let Python delete a QThread that still runs

    return _screenshot(app, window, target, Path(screenshot), tab, getattr(args, "original", None))


def _file_open_filter_class():
    from PySide6.QtCore import QEvent, QObject

    class FileOpenFilter(QObject):
        def __init__(self, window) -> None:
            super().__init__(window)
            self.window = window

        def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt naming)
            if event.type() == QEvent.Type.FileOpen and event.file():
                self.window.open_path(event.file())
                return True
            return False

    return FileOpenFilter


def _FileOpenFilter(window):  # noqa: N802 - built lazily so importing this module needs no Qt
    return _file_open_filter_class()(window)


_attached: set[int] = set()


def _attach_once(window, original: str) -> None:
    if id(window) not in _attached and window.doc is not None:
        _attached.add(id(window))
        window.attach_original(original)


def _screenshot(app, window, target: Path | None, out: Path, tab: int, original: str | None) -> int:
    """Drive the window to a settled state, grab it, save atomically. Returns the exit code."""
    from PySide6.QtCore import QEventLoop, QTimer

    state = {"error": None}

    def settled() -> bool:
        return not window.is_busy()

    def wait_until(cond, timeout_s: float = SCREENSHOT_TIMEOUT_S) -> bool:
        loop = QEventLoop()
        timer = QTimer()
        timer.setInterval(50)
        timer.timeout.connect(lambda: cond() and loop.quit())
        deadline = QTimer()
        deadline.setSingleShot(True)
        deadline.timeout.connect(loop.quit)
        timer.start()
        deadline.start(int(timeout_s * 1000))
        if not cond():
            loop.exec()
        timer.stop()
        deadline.stop()
        return cond()

    ok = wait_until(lambda: bool(window.codec_infos) or not window.codecs_runner.is_busy())
    if target is not None:
        if not window.open_path(target):
            state["error"] = window.banner.text()
        ok = wait_until(settled) and ok
        if original:
            window.attach_original(original)
            ok = wait_until(settled) and ok
    window.tabs.setCurrentIndex(tab)
    if tab == 1:
        window.compare.activate()
    elif tab == 2 and window.rd_plot.original is not None:
        window.rd_plot.compute()
    ok = wait_until(settled) and ok
    app.processEvents()
    image = window.grab().toImage()
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    buf = QByteArray()
    dev = QBuffer(buf)
    dev.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(dev, "PNG")
    dev.close()
    from gic.codecs.fileio import write_atomic

    write_atomic(out, bytes(buf.data()))
    doc_error = window.doc.error if window.doc is not None else None
    window.close()
    if not ok:
        print("gic view: timed out waiting for the decode", file=sys.stderr)
        return 1
    if state["error"] or doc_error:
        print(f"gic view: {state['error'] or doc_error}", file=sys.stderr)
        return 1
    return 0
