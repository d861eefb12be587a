"""A colour-bar legend drawn over an image view: what the colours (or greys) of an overlay mean.

Why: a heatmap or a difference image without its scale cannot be read ("is yellow bad?", "is
this white 8 levels or 255?"); the bar names the quantity and the values at its two ends.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QLinearGradient, QPainter

BAR_W, BAR_H, MARGIN = 180, 12, 10


@dataclass(frozen=True)
class Legend:
    title: str  # what the colours measure, e.g. "LPIPS per pixel"
    low: str  # the value at the left end of the bar
    high: str  # the value at the right end (the top of the scale)
    stops: tuple[tuple[int, int, int], ...]  # evenly spaced colours, left to right


GREYS = ((0, 0, 0), (255, 255, 255))


def legend_rect(fm: QFontMetrics, legend: Legend, viewport_w: int, viewport_h: int) -> QRectF:
    """Where the legend's box goes: the view's bottom-right corner, as wide as its words need."""
    words = max(fm.horizontalAdvance(legend.title),
                fm.horizontalAdvance(legend.low) + fm.horizontalAdvance(legend.high) + 12)
    w = max(BAR_W, words) + 16
    h = fm.height() * 2 + BAR_H + 16
    return QRectF(viewport_w - w - MARGIN, viewport_h - h - MARGIN, w, h)


def bar_rect(fm: QFontMetrics, legend: Legend, viewport_w: int, viewport_h: int) -> QRectF:
    """The colour bar inside the legend's box (below the title)."""
    box = legend_rect(fm, legend, viewport_w, viewport_h)
    return QRectF(box.left() + 8, box.top() + 6 + fm.height(), box.width() - 16, BAR_H)


def paint_legend(painter: QPainter, legend: Legend, viewport_w: int, viewport_h: int) -> None:
    """Paint `legend` in viewport coordinates, with the painter's font."""
    fm = painter.fontMetrics()
    box = legend_rect(fm, legend, viewport_w, viewport_h)
    painter.fillRect(box, QColor(0, 0, 0, 180))
    painter.setPen(QColor(255, 255, 255))
    bar = bar_rect(fm, legend, viewport_w, viewport_h)
    painter.drawText(QRectF(bar.left(), box.top() + 4, bar.width(), fm.height()), Qt.AlignmentFlag.AlignLeft,
                     legend.title)
    grad = QLinearGradient(QPointF(bar.left(), 0), QPointF(bar.right(), 0))
    n = len(legend.stops)
    for k, rgb in enumerate(legend.stops):
        grad.setColorAt(k / max(1, n - 1), QColor(*rgb))
    painter.fillRect(bar, grad)
    labels = QRectF(bar.left(), bar.bottom() + 2, bar.width(), fm.height())
    painter.drawText(labels, Qt.AlignmentFlag.AlignLeft, legend.low)
    painter.drawText(labels, Qt.AlignmentFlag.AlignRight, legend.high)
