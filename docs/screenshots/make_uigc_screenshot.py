"""Render the UIGC token-map screenshot from the real window (offscreen).

    QT_QPA_PLATFORM=offscreen python docs/screenshots/make_uigc_screenshot.py [OUT_DIR]

The bundled sample encoded by the bundled UIGC prior at quality 2 (45 % of tokens dropped), shown
after 4 of 7 layers with the token map on: tokens read from the file clear, guessed ones blue, and
(after the last layer) dropped-and-regenerated ones orange.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from gic.app import jobs  # noqa: E402
from gic.app.main_window import MainWindow  # noqa: E402
from gic.resources import path as resource  # noqa: E402
from make_screenshots import settle, shot, wait  # noqa: E402


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent)
    out.mkdir(parents=True, exist_ok=True)
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 (kept alive)
    w = MainWindow(codec_filter=["uigc", "progic", "jpeg"])
    w.resize(1360, 860)
    w.show()
    wait(lambda: bool(w.codec_infos))
    w.open_path(resource("samples", "kodim23.png"))
    settle(w)
    w.reencode(jobs.EncodeRequest(codec="uigc", quality=2))
    settle(w)
    w.tokens_check.setChecked(True)
    w.layers.select_layer(4)
    shot(w, out, "uigc_tokens.png")
    w.layers.select_layer(7)
    shot(w, out, "uigc_regenerated.png")
    w.ask_on_close = False  # a screenshot run has nothing to save
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
