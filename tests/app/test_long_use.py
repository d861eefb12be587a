"""Ordinary use that used to abort the viewer (PySide6 6.12 reference leak): the RD plot's default
run with every registered codec, and 2,000 layer steps with `[` and `]`. Both also check that the
references to None/True/False held steady (before 3.12: an abort would need ~30,000 more calls)."""
from __future__ import annotations

import gc
import sys

import pytest
from PySide6.QtCore import Qt

from gic.codecs import registry


def refcounts() -> list[int]:
    gc.collect()  # cycles freed so far are not counted as held
    return [sys.getrefcount(o) for o in (None, True, False)]


def assert_steady(before: list[int], after: list[int], calls: int) -> None:
    if sys.version_info >= (3, 12):
        return  # immortal: the counts are not meaningful
    drift = [a - b for a, b in zip(after, before)]
    # The crash is a fall: a lost reference per Qt call, several calls per step. A rise is a held
    # reference, harmless for None/True/False (PySide6 6.11.3 holds ~780 more per RD-plot redraw).
    assert all(d > -calls / 4 for d in drift), f"None/True/False references fell by {drift} over {calls} steps"


def test_two_thousand_layer_steps(qtbot, window, gic_file):
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        window.open_path(gic_file)
    layers = window.layers.layers()
    assert layers == [1, 2, 3, 4]
    before = refcounts()
    seen = set()
    for i in range(2000):
        key = Qt.Key.Key_BracketRight if (i // 4) % 2 == 0 else Qt.Key.Key_BracketLeft
        qtbot.keyClick(window, key)
        seen.add(window.layers.current_layer())
    assert_steady(before, refcounts(), 2000)
    assert seen == set(layers)  # the keys really stepped through every layer


@pytest.mark.slow
def test_rd_plot_default_run_with_every_codec(qtbot, image_png):
    from gic.app.main_window import MainWindow

    w = MainWindow()  # every registered codec, the learned one too, as `gic view` starts
    qtbot.addWidget(w)
    w.resize(1100, 700)
    w.show()
    qtbot.waitUntil(lambda: bool(w.codec_infos), timeout=20000)
    with qtbot.waitSignal(w.document_ready, timeout=20000):
        w.open_path(image_png)
    qtbot.keyClick(w, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)  # View ▸ RD plot
    rd = w.rd_plot
    assert rd.checked_codecs() == registry.names()  # the defaults: every codec checked
    with qtbot.waitSignal(rd.computed, timeout=240000):  # the first run also loads models, metrics
        qtbot.mouseClick(rd.compute_button, Qt.MouseButton.LeftButton)
    first = [(p.codec, p.quality) for p in rd.points]
    before = refcounts()
    with qtbot.waitSignal(rd.computed, timeout=240000):  # pressed again, as the user did for a minute
        qtbot.mouseClick(rd.compute_button, Qt.MouseButton.LeftButton)
    assert_steady(before, refcounts(), 1000)
    assert [(p.codec, p.quality) for p in rd.points] == first
    measured = {p.codec for p in rd.points}
    assert "progic" in measured and "jpeg" in measured, measured
    assert len(rd.points) >= 2 * len(measured)
    w.close()
