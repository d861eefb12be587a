"""What the window reports: the banner, the status bar's pixel readout, zoom indicator, progress
and cancel button, and which image view is on screen (the one the zoom keys act on).

A mixin of `MainWindow`, wired to its runners' progress and busy signals and its views' hover
and zoom signals.
"""
from __future__ import annotations

from PySide6.QtCore import Slot

from .image_view import ImageView
from .text_fit import breakable


class WindowStatus:
    """Banner, status bar, progress and the active view (mixed into `MainWindow`)."""

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
