"""The About box: version, codecs, and the model card of the bundled weights when present."""
from __future__ import annotations

import platform
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget


def model_cards() -> list[Path]:
    """Markdown model cards shipped in resources/models/ (empty when no model is bundled)."""
    from gic.resources import path

    folder = path("models")
    return sorted(folder.glob("*.md")) if folder.is_dir() else []


def about_markdown(codec_names: list[str]) -> str:
    try:
        from importlib.metadata import version

        gic_version = version("gic")
    except Exception:  # not installed as a distribution (running from a checkout)
        gic_version = "development"
    parts = [
        "# gic viewer",
        f"Version {gic_version} — progressive, generative learned image compression.",
        f"Python {platform.python_version()}, PySide6 {pyside_version}.",
        "",
        "**Codecs:** " + (", ".join(codec_names) if codec_names else "(still loading)"),
        "",
    ]
    cards = model_cards()
    if cards:
        for card in cards:
            parts += ["---", card.read_text(encoding="utf-8", errors="replace")]
    else:
        parts += ["---", "*No model card found in resources/models/: no learned model is bundled.*"]
    return "\n".join(parts)


class AboutDialog(QDialog):
    def __init__(self, codec_names: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About gic viewer")
        self.resize(640, 560)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(about_markdown(codec_names))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
