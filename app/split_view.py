"""The comparison's split view: one image left of a draggable divider, the other right of it."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QGraphicsLineItem, QGraphicsPixmapItem, QGraphicsRectItem, QWidget

from .image_view import ImageView
from .qimage import rgb_to_qimage


class SplitView(ImageView):
    """Left image left of a draggable vertical divider, right image right of it.

    The divider is held as a fraction of the *viewport's* width, as in Squoosh: zooming and
    panning move the picture under it while it stays where the user put it on screen.
    """

    split_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._clip = QGraphicsRectItem()
        self._clip.setPen(QPen(Qt.PenStyle.NoPen))
        self._clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape, True)
        self._clip.setZValue(0.5)
        self._right_item = QGraphicsPixmapItem(self._clip)
        self.scene().addItem(self._clip)
        pen = QPen(QColor(255, 255, 255, 230), 2)
        pen.setCosmetic(True)
        self._line = QGraphicsLineItem()
        self._line.setPen(pen)
        self._line.setZValue(5)
        self.scene().addItem(self._line)
        self._split = 0.5
        self._dragging = False
        self.labels = ("", "")

    def set_images(self, left: np.ndarray | None, right: np.ndarray | None, *, fit: bool | None = None) -> None:
        base = left if left is not None else right
        self.set_image(base, fit=fit)
        if right is not None and left is not None:
            self._right_item.setPixmap(QPixmap.fromImage(rgb_to_qimage(right)))
            self._right_item.setVisible(True)
        else:
            self._right_item.setVisible(False)
        self._layout_split()

    def split(self) -> float:
        """Where the divider is, as a fraction of the viewport's width."""
        return self._split

    def set_split(self, fraction: float) -> None:
        self._split = float(min(1.0, max(0.0, fraction)))
        self._layout_split()
        self.split_changed.emit(self._split)

    def split_x(self) -> float:
        """The image column under the divider (clamped to the image)."""
        img = self.image()
        if img is None:
            return 0.0
        x = self.mapToScene(QPoint(round(self._split * self.viewport().width()), 0)).x()
        return float(min(img.shape[1], max(0.0, x)))

    def _layout_split(self) -> None:
        img = self.image()
        if img is None:
            self._line.setVisible(False)
            return
        h, w = img.shape[:2]
        x = self.split_x()
        self._clip.setRect(QRectF(x, 0, w - x, h))
        self._line.setLine(x, 0, x, h)
        self._line.setVisible(True)
        self._right_item.setTransformationMode(
            Qt.TransformationMode.FastTransformation if self.zoom() >= 1 else Qt.TransformationMode.SmoothTransformation)
        self.viewport().update()

    def _apply_zoom(self, zoom: float, anchor_under_mouse: bool) -> None:
        super()._apply_zoom(zoom, anchor_under_mouse)
        if hasattr(self, "_right_item"):
            self._layout_split()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802 (every pan, by any means)
        super().scrollContentsBy(dx, dy)
        self._layout_split()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._layout_split()

    def _near_divider(self, event: QMouseEvent) -> bool:
        if self.image() is None:
            return False
        return abs(event.position().x() - self._split * self.viewport().width()) <= 8

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self._near_divider(event):
            self._dragging = True
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        img = self.image()
        if self._dragging and img is not None:
            self.set_split(event.position().x() / max(1, self.viewport().width()))
            event.accept()
            return
        if img is not None and not (event.buttons() & Qt.MouseButton.LeftButton):
            self.viewport().setCursor(Qt.CursorShape.SplitHCursor if self._near_divider(event)
                                      else Qt.CursorShape.OpenHandCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._dragging and event.button() == Qt.MouseButton.LeftButton:
            self._dragging = False
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        super().drawForeground(painter, rect)
        if self.image() is None:
            return
        painter.save()
        painter.resetTransform()
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        fm = painter.fontMetrics()
        vp = self.viewport().rect()
        for text, left in ((self.labels[0], True), (self.labels[1], False)):
            if not text:
                continue
            tw = fm.horizontalAdvance(text) + 16
            r = QRectF(8 if left else vp.width() - tw - 8, 8, tw, fm.height() + 8)
            painter.fillRect(r, QColor(0, 0, 0, 160))
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()
