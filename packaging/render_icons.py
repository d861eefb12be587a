#!/usr/bin/env python
"""Render resources/icons/gic.svg to the PNG sizes desktops look up (hicolor theme), with Qt's
SVG renderer; the PNGs are committed, so run this only after changing the SVG:

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py
"""
from __future__ import annotations

import sys
from pathlib import Path

#: The icon sizes of the freedesktop hicolor theme that launchers and file managers ask for.
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"


def png_path(size: int, root: Path = ICONS) -> Path:
    return root / "hicolor" / f"{size}x{size}" / "apps" / "gic.png"


def render(svg: Path, size: int, out: Path) -> None:
    """Antialiased render of the whole SVG into a transparent size x size PNG."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"error: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"error: cannot write {out}")


def main() -> int:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - fonts/paint need one
    for size in SIZES:
        out = png_path(size)
        render(ICONS / "gic.svg", size, out)
        print(f"wrote {out.relative_to(ICONS.parent.parent)} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
