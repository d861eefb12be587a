"""A zoomable, pannable image view with overlays and a pixel readout.

Zoom is counted in *device* pixels per image pixel, so "100%" shows every image pixel on exactly one
screen pixel even on a high-DPI screen; at and above 100% pixels are drawn unsmoothed (crisp).
"""
from __future__ import annotations

from typing import Protocol

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPixmap, QWheelEvent
from PySide6.QtWidgets import QFrame, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QWidget

from .legend import Legend, paint_legend
from .qimage import rgb_to_qimage, rgba_to_qimage

ZOOM_MIN, ZOOM_MAX = 1 / 64, 64.0
ZOOM_STEP = 1.25


class ViewTool(Protocol):
    """Something that takes over the left mouse button (e.g. the ROI brush). Points are image coords."""

    def press(self, pos: QPointF, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> None: ...
    def move(self, pos: QPointF) -> None: ...
    def release(self, pos: QPointF) -> None: ...
    def hover(self, pos: QPointF) -> None: ...


class ImageView(QGraphicsView):
    """Shows one RGB image plus optional RGBA overlays (heatmap, ROI mask)."""

    hovered = Signal(int, int)  # image pixel under the cursor, (-1, -1) when outside
    zoom_changed = Signal(float)
    view_changed = Signal()  # zoom or scroll position changed (for synced panes)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(QColor(48, 48, 52))
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(False)  # the main window handles file drops
        self._pixmap_item = QGraphicsPixmapItem()
        self.scene().addItem(self._pixmap_item)
        self._overlays: dict[str, QGraphicsPixmapItem] = {}
        self._image: np.ndarray | None = None
        self._zoom = 1.0
        self._fit_mode = True
        self._tool: ViewTool | None = None
        self._tool_active = False
        self._pan_from: QPointF | None = None
        self._legend: Legend | None = None
        self.horizontalScrollBar().valueChanged.connect(self._emit_view_changed)
        self.verticalScrollBar().valueChanged.connect(self._emit_view_changed)

    # -- content ------------------------------------------------------------------------------------
    def image(self) -> np.ndarray | None:
        return self._image

    def set_image(self, image: np.ndarray | None, *, fit: bool | None = None) -> None:
        """Show `image`; fits to the window when asked, or when the size changed, or in fit mode."""
        old_shape = None if self._image is None else self._image.shape
        self._image = image
        if image is None:
            self._pixmap_item.setPixmap(QPixmap())
            self.scene().setSceneRect(QRectF())
            return
        self._pixmap_item.setPixmap(QPixmap.fromImage(rgb_to_qimage(image)))
        h, w = image.shape[:2]
        self.scene().setSceneRect(QRectF(0, 0, w, h))
        for item in self._overlays.values():
            if item.pixmap().width() != w or item.pixmap().height() != h:
                item.setVisible(False)
        if fit is None:
            fit = self._fit_mode or old_shape is None or old_shape[:2] != image.shape[:2]
        if fit:
            self.fit()
        self._update_smoothing()

    def set_overlay(self, name: str, rgba: np.ndarray | None, opacity: float = 0.5, z: float = 1.0) -> None:
        """Show (or with None remove) an RGBA overlay drawn over the image."""
        item = self._overlays.get(name)
        if rgba is None:
            if item is not None:
                self.scene().removeItem(item)
                del self._overlays[name]
            return
        if item is None:
            item = QGraphicsPixmapItem()
            item.setZValue(z)
            self.scene().addItem(item)
            self._overlays[name] = item
        item.setPixmap(QPixmap.fromImage(rgba_to_qimage(rgba)))
        item.setOpacity(opacity)
        item.setVisible(True)
        self._update_smoothing()

    def set_overlay_opacity(self, name: str, opacity: float) -> None:
        if name in self._overlays:
            self._overlays[name].setOpacity(opacity)

    def has_overlay(self, name: str) -> bool:
        return name in self._overlays and self._overlays[name].isVisible()

    def set_legend(self, legend: Legend | None) -> None:
        """Show (None: hide) a colour bar saying what an overlay's colours mean."""
        self._legend = legend
        self.viewport().update()

    def legend(self) -> Legend | None:
        return self._legend

    # -- zoom -----------------------------------------------------------------------------------------
    def zoom(self) -> float:
        """Device pixels per image pixel (1.0 = 100%)."""
        return self._zoom

    def is_fit(self) -> bool:
        return self._fit_mode

    def set_zoom(self, zoom: float, *, anchor_under_mouse: bool = False) -> None:
        """Zoom to an exact factor (1.0 = one image pixel per screen pixel)."""
        self._fit_mode = False
        self._apply_zoom(zoom, anchor_under_mouse)

    def zoom_by(self, factor: float, *, anchor_under_mouse: bool = True) -> None:
        self._fit_mode = False
        self._apply_zoom(self._zoom * factor, anchor_under_mouse)

    def fit(self) -> None:
        """Fit the whole image in the window (never enlarging beyond 100% for small images... unless tiny)."""
        self._fit_mode = True
        if self._image is None:
            return
        h, w = self._image.shape[:2]
        vp = self.viewport().rect()
        if vp.width() < 2 or vp.height() < 2:
            return
        dpr = self.devicePixelRatioF()
        z = min(vp.width() * dpr / w, vp.height() * dpr / h)
        self._apply_zoom(z, False)
        self.centerOn(w / 2, h / 2)

    def _apply_zoom(self, zoom: float, anchor_under_mouse: bool) -> None:
        zoom = float(min(ZOOM_MAX, max(ZOOM_MIN, zoom)))
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse if anchor_under_mouse
                                     else QGraphicsView.ViewportAnchor.AnchorViewCenter)
        s = zoom / self.devicePixelRatioF()
        self.setTransform(self.transform().fromScale(s, s))
        self._zoom = zoom
        self._update_smoothing()
        self.zoom_changed.emit(zoom)
        self.view_changed.emit()

    def _update_smoothing(self) -> None:
        mode = (Qt.TransformationMode.FastTransformation if self._zoom >= 1.0
                else Qt.TransformationMode.SmoothTransformation)
        self._pixmap_item.setTransformationMode(mode)
        for item in self._overlays.values():
            item.setTransformationMode(mode)

    # -- synced panes ---------------------------------------------------------------------------------
    def view_state(self) -> tuple[float, QPointF]:
        """Zoom and the image point at the centre of the viewport."""
        return self._zoom, self.mapToScene(self.viewport().rect().center())

    def set_view_state(self, zoom: float, center: QPointF) -> None:
        self.blockSignals(True)
        try:
            self._fit_mode = False
            self._apply_zoom(zoom, False)
            self.centerOn(center)
        finally:
            self.blockSignals(False)

    @Slot()
    def _emit_view_changed(self) -> None:
        self.view_changed.emit()

    # -- tools ----------------------------------------------------------------------------------------
    def set_tool(self, tool: ViewTool | None) -> None:
        """Give the left button to `tool` (None: the left button pans)."""
        self._tool = tool
        self.setDragMode(QGraphicsView.DragMode.NoDrag if tool else QGraphicsView.DragMode.ScrollHandDrag)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor if tool else Qt.CursorShape.OpenHandCursor)

    def tool(self) -> ViewTool | None:
        return self._tool

    # -- events ---------------------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(ZOOM_STEP ** steps, anchor_under_mouse=True)
        event.accept()

    def _image_pos(self, event: QMouseEvent) -> QPointF:
        return self.mapToScene(event.position().toPoint())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton):  # pan, even while painting
            self._pan_from = event.position()
            event.accept()
            return
        if self._tool is not None and event.button() == Qt.MouseButton.LeftButton and self._image is not None:
            self._tool_active = True
            self._tool.press(self._image_pos(event), event.button(), event.modifiers())
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = self._image_pos(event)
        self._report_hover(pos)
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            event.accept()
            return
        if self._tool is not None:
            if self._tool_active:
                self._tool.move(pos)
            else:
                self._tool.hover(pos)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton):
            self._pan_from = None
            event.accept()
            return
        if self._tool is not None and self._tool_active and event.button() == Qt.MouseButton.LeftButton:
            self._tool_active = False
            self._tool.release(self._image_pos(event))
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        self.hovered.emit(-1, -1)
        super().leaveEvent(event)

    def _report_hover(self, pos: QPointF) -> None:
        if self._image is None:
            return
        x, y = int(np.floor(pos.x())), int(np.floor(pos.y()))
        h, w = self._image.shape[:2]
        if 0 <= x < w and 0 <= y < h:
            self.hovered.emit(x, y)
        else:
            self.hovered.emit(-1, -1)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        super().drawForeground(painter, rect)
        tool_paint = getattr(self._tool, "paint_cursor", None)
        if tool_paint is not None:
            tool_paint(painter)
        if self._legend is not None and self._image is not None:
            painter.save()
            painter.resetTransform()
            paint_legend(painter, self._legend, self.viewport().width(), self.viewport().height())
            painter.restore()
