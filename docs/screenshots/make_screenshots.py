"""Render the documentation screenshots from the real window (offscreen).

    QT_QPA_PLATFORM=offscreen python docs/screenshots/make_screenshots.py [OUT_DIR] [--weights W.pt]
        [--only roi,viewer,heatmap,compare,rd_plot]

Uses the bundled sample; with the learned codec registered ("progic", or `--weights` pointing at
exported ProGIC weights) the viewer and ROI shots show a progressive .gic, otherwise the classical
codecs only.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QPointF, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gic.app import jobs  # noqa: E402
from gic.app.main_window import MainWindow  # noqa: E402
from gic.codecs import registry  # noqa: E402
from gic.resources import path as resource  # noqa: E402


def wait(cond, timeout=600.0) -> None:
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError("gave up waiting")
        loop = QEventLoop()
        QTimer.singleShot(30, loop.quit)
        loop.exec()


def settle(w) -> None:
    wait(lambda: not w.is_busy())
    for _ in range(5):
        QApplication.processEvents()


def shot(w, out: Path, name: str) -> None:
    settle(w)
    w.grab().save(str(out / name))
    print("wrote", out / name)


def register_weights(weights: str) -> None:
    """Use these ProGIC weights as "progic" (when the bundled model is not registered)."""
    if "progic" in registry.names():
        return
    from gic.codecs.progic.codec import ProGICCodec

    from gic.codecs.progic import SPEC

    registry.register(dataclasses.replace(SPEC, factory=lambda **o: ProGICCodec(weights=weights, **o),
                                          description="ProGIC (given weights)"))


def main() -> int:
    args = sys.argv[1:]
    if "--weights" in args:
        i = args.index("--weights")
        register_weights(args[i + 1])
        del args[i:i + 2]
    only = None
    if "--only" in args:
        i = args.index("--only")
        only = set(args[i + 1].split(","))
        del args[i:i + 2]

    def want(*names: str) -> bool:
        return only is None or bool(only & set(names))

    out = Path(args[0] if args else Path(__file__).parent)
    out.mkdir(parents=True, exist_ok=True)
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 (kept alive)
    learned = "progic" in registry.names()
    codecs = (["progic"] if learned else []) + ["jpeg", "webp", "avif", "jxl"]
    w = MainWindow(codec_filter=codecs)
    w.resize(1360, 860)
    w.show()
    wait(lambda: bool(w.codec_infos))
    sample = resource("samples", "kodim23.png")
    w.open_path(sample)
    settle(w)
    main_codec = "progic" if learned else "webp"

    info = {c.name: c for c in w.codec_infos}.get("progic")
    if want("roi", "viewer", "heatmap"):
        shoot_viewer(w, out, learned, main_codec, info, want)
    if want("compare", "rd_plot"):
        shoot_compare(w, out, learned, main_codec, info, want)
    w.ask_on_close = False  # the shots' encodes are not the user's: quit without the save prompt
    w.close()
    return 0


def shoot_viewer(w, out: Path, learned: bool, main_codec: str, info, want) -> None:
    # ROI: a rectangle over the red parrot's head plus a brush stroke, then re-encode with it.
    w.tabs.setCurrentIndex(0)
    w.roi_editor.set_active(True)
    w.side_tabs.setCurrentWidget(w.roi_editor)
    roi = np.zeros(w.original().shape[:2], bool)
    roi[150:330, 470:690] = True
    w.roi_editor.set_mask(roi)
    w.roi_editor.tool.mode = "brush"
    w.roi_editor.tool.radius = 30
    w.roi_editor.roi.snapshot()
    w.roi_editor.roi.stamp(160, 380, 260, 450, 30, True)
    w.roi_editor.mask_changed()
    if learned:
        q = info.quality_range[1]
        w.reencode(jobs.EncodeRequest(codec="progic", quality=q, background_quality=max(1, q // 4)))
    else:
        w.reencode(jobs.EncodeRequest(codec=main_codec, quality=40))
    settle(w)
    w.roi_editor.set_active(True)
    if want("roi"):
        shot(w, out, "roi.png")

    # Viewer: the progressive file (or the re-encode) with its original attached, then the heatmap.
    w.roi_editor.set_active(False)
    w.roi_editor.clear()
    w.side_tabs.setCurrentIndex(0)
    if learned:
        w.reencode(jobs.EncodeRequest(codec="progic", quality=info.quality_range[1]))
        settle(w)
        w.layers.select_layer(max(1, len(w.previews) // 2))
    settle(w)
    if want("viewer"):
        shot(w, out, "viewer.png")
    if want("heatmap"):
        w.heatmap_check.setChecked(True)
        w.layers.views.setCurrentIndex(1)  # the bpp-LPIPS chart (the viewer shot shows the table)
        settle(w)
        shot(w, out, "heatmap.png")
        w.heatmap_check.setChecked(False)
        w.layers.views.setCurrentIndex(0)


def shoot_compare(w, out: Path, learned: bool, main_codec: str, info, want) -> None:
    # Comparison: the learned (or WebP) side vs JPEG at matched bpp, split view.
    w.open_path(resource("samples", "kodim23.png"))
    settle(w)
    cmp = w.compare
    cmp.sides[0].set_codec(main_codec)
    if learned:
        cmp.sides[0].set_quality(max(1, info.quality_range[1] // 2))
    else:
        cmp.sides[0].set_quality(30)
    cmp.sides[1].set_codec("jpeg")
    w.tabs.setCurrentWidget(cmp)
    cmp.activate()
    settle(w)
    cmp.match_bpp(1)
    settle(w)
    cmp.split_view.set_zoom(2.0)
    cmp.split_view.centerOn(QPointF(600, 300))
    cmp.split_view.set_split(0.5)  # of the window: the divider stays there while zooming
    if want("compare"):
        shot(w, out, "compare.png")
    if not want("rd_plot"):
        return

    # RD plot of the codecs on the sample, with the two comparison points marked.
    rd = w.rd_plot
    w.tabs.setCurrentWidget(rd)
    rd.points_spin.setValue(6)
    rd.max_bpp_spin.setValue(1.5)
    rd.compute()
    settle(w)
    shot(w, out, "rd_plot.png")


if __name__ == "__main__":
    raise SystemExit(main())
