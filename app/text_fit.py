"""Fitting text into the viewer's labels: break chances in long paths, names elided to a width.

Why: a label whose text cannot wrap sets its own minimum width, and the window then widens
itself (or the text clips); these keep file names and error messages inside the side panel.
"""
from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel

SIDE_TEXT_PX = 270  # file names in the side panel are elided to this: it fits its minimum width
ZWSP = "\u200b"


def breakable(text: str, run: int = 24) -> str:
    """`text` with zero-width break chances inside runs of more than `run` non-space characters
    (after / \\ _ - and at least every `run` characters): a wrapping label cannot break a long path
    otherwise, and its minimum width would widen the window."""
    def split(m: re.Match) -> str:
        word = re.sub(r"([/\\_\-])", "\\1" + ZWSP, m.group(0))
        parts = word.split(ZWSP)
        return ZWSP.join(ZWSP.join(p[i:i + run] for i in range(0, len(p), run)) for p in parts)

    return re.sub(r"\S{%d,}" % (run + 1), split, text)


def fit_name(label: QLabel, name: str, px: int = SIDE_TEXT_PX, *, escape: bool = True) -> str:
    """`name` elided in the middle to `px` pixels of `label`'s font, HTML-escaped: a long name without
    spaces cannot wrap, and would otherwise widen the panel (the window resizes itself) or clip."""
    text = QFontMetrics(label.font()).elidedText(name, Qt.TextElideMode.ElideMiddle, px)
    return html.escape(text) if escape else text
