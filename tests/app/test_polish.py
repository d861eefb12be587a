"""`gic view --screenshot`, settings kept between runs, About box, shortcuts."""
from __future__ import annotations

import argparse

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from gic.app import about, view_command

from app_doubles import JpegLadderCodec


def parse(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    view_command.add_arguments(p)
    return p.parse_args(list(argv))


def test_view_screenshot_waits_for_every_layer(qtbot, gic_file, tmp_path):
    out = tmp_path / "shot.png"
    JpegLadderCodec.decoded_layers = []
    assert view_command.run(parse(str(gic_file), "--screenshot", str(out), "--size", "900x600")) == 0
    assert JpegLadderCodec.decoded_layers == [1, 2, 3, 4]
    with Image.open(out) as im:
        assert im.size[0] >= 900 and im.size[1] >= 600
        assert len(np.unique(np.asarray(im.convert("L")))) > 50  # a real picture, not a blank window


def test_view_screenshot_of_a_corrupt_file_exits_1_but_still_draws(qtbot, tmp_path, capsys):
    bad = tmp_path / "bad.gic"
    bad.write_bytes(b"GIC?" * 10)
    out = tmp_path / "shot.png"
    assert view_command.run(parse(str(bad), "--screenshot", str(out))) == 1
    assert out.exists()
    assert "gic view:" in capsys.readouterr().err


def test_view_missing_file_exits_2(capsys):
    assert view_command.run(parse("/nonexistent/x.gic")) == 2
    assert "no such file" in capsys.readouterr().err


def test_default_sample_is_bundled_or_none():
    sample = view_command.default_sample()
    assert sample is None or sample.is_file()


def test_default_sample_is_a_gic_with_its_original_beside_it():
    sample = view_command.default_sample()
    assert sample is not None and sample.suffix == ".gic"
    assert view_command.sample_original(sample) == sample.with_suffix(".png")


def test_sample_original_only_for_gic_files_with_an_image_beside_them(tmp_path):
    (tmp_path / "a.gic").write_bytes(b"")
    (tmp_path / "b.gic").write_bytes(b"")
    (tmp_path / "b.jpg").write_bytes(b"")
    (tmp_path / "c.png").write_bytes(b"")
    assert view_command.sample_original(tmp_path / "a.gic") is None
    assert view_command.sample_original(tmp_path / "b.gic") == tmp_path / "b.jpg"
    assert view_command.sample_original(tmp_path / "c.png") is None


def test_settings_survive_a_restart(qtbot, window):
    window.heatmap_opacity.setValue(33)
    window.roi_editor.set_radius(17)
    window.close()
    from gic.app.main_window import MainWindow

    again = MainWindow(codec_filter=["jpeg"])
    qtbot.addWidget(again)
    assert again.heatmap_opacity.value() == 33
    assert again.roi_editor.size_slider.value() == 17
    qtbot.waitUntil(lambda: not again.codecs_runner.is_busy(), timeout=20000)
    again.close()


def test_about_shows_the_model_card(qtbot, tmp_path, monkeypatch):
    card = tmp_path / "progic-small.md"
    card.write_text("# Model card: progic-small\nTrained on this machine for 2 hours.\n")
    monkeypatch.setattr(about, "model_cards", lambda: [card])
    dlg = about.AboutDialog(["jpeg", "progic"])
    qtbot.addWidget(dlg)
    text = dlg.browser.toPlainText()
    assert "Model card: progic-small" in text and "jpeg, progic" in text
    monkeypatch.setattr(about, "model_cards", lambda: [])
    assert "No model card" in about.about_markdown([])


def test_shortcuts_switch_tabs_and_zoom(qtbot, window, gic_file):
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        window.open_path(gic_file)
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    assert window.tabs.currentWidget() is window.rd_plot
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    assert window.tabs.currentIndex() == 0
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.view.zoom() == pytest.approx(2.0)
    assert window.zoom_label.text() == "200%"
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert window.view.is_fit()


def test_file_open_event_opens_the_file(qtbot, window, gic_file):
    """macOS delivers files opened from Finder as QFileOpenEvent to the application."""
    from PySide6.QtGui import QFileOpenEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    opener = view_command._FileOpenFilter(window)
    app.installEventFilter(opener)
    try:
        with qtbot.waitSignal(window.document_ready, timeout=20000):
            QApplication.sendEvent(app, QFileOpenEvent(str(gic_file)))
    finally:
        app.removeEventFilter(opener)
    assert window.doc.name == "sample.gic" and len(window.previews) == 4


def test_shortcut_table_lists_the_menu_shortcuts(window):
    rows = window.shortcut_table()
    keys = {(menu, action): k for menu, action, k in rows}
    assert keys[("File", "Open…")] and keys[("Encode", "Re-encode…")] == "Ctrl+E"
    assert keys[("ROI", "Paint ROI")] == "R" and keys[("View", "LPIPS heatmap")] == "H"
    assert "Ctrl+Shift+Z" in keys[("ROI", "Redo")]
