"""Mouse input sent straight to a widget as a user's would arrive: press, moves with the button held,
release. (QTest.mouseMove goes through the platform cursor, which the offscreen platform does not
always turn into an event; these do not depend on it.)"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.MouseButton.NoButton


def _send(widget: QWidget, kind: QEvent.Type, pos: QPoint, button, buttons, modifiers) -> None:
    local = QPointF(pos)
    event = QMouseEvent(kind, local, QPointF(widget.mapToGlobal(pos)), button, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def drag(widget: QWidget, points: list[QPoint], modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Press the left button at points[0], move through the rest, release at the last one."""
    _send(widget, QEvent.Type.MouseButtonPress, points[0], LEFT, LEFT, modifiers)
    for p in points[1:]:
        _send(widget, QEvent.Type.MouseMove, p, NONE, LEFT, modifiers)
    _send(widget, QEvent.Type.MouseButtonRelease, points[-1], LEFT, NONE, modifiers)


def hover(widget: QWidget, pos: QPoint) -> None:
    _send(widget, QEvent.Type.MouseMove, pos, NONE, NONE, Qt.KeyboardModifier.NoModifier)


def right_drag(widget: QWidget, points: list[QPoint]) -> None:
    right = Qt.MouseButton.RightButton
    mods = Qt.KeyboardModifier.NoModifier
    _send(widget, QEvent.Type.MouseButtonPress, points[0], right, right, mods)
    for p in points[1:]:
        _send(widget, QEvent.Type.MouseMove, p, NONE, right, mods)
    _send(widget, QEvent.Type.MouseButtonRelease, points[-1], right, NONE, mods)


def wheel(widget: QWidget, pos: QPoint, steps: int) -> None:
    """Turn the wheel by `steps` notches (positive: away from the user, zoom in)."""
    from PySide6.QtGui import QWheelEvent

    event = QWheelEvent(QPointF(pos), QPointF(widget.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 120 * steps),
                        NONE, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)
