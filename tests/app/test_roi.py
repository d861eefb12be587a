"""ROI painting with the mouse, mask commands, and re-encoding with the ROI to a .gic file."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from gic.app.roi_editor import RoiMask, load_mask_png
from gic.codecs import container

import threading

from gic.app.jobs import EncodeRequest
import qt_input
from app_doubles import TEST_CODEC, JpegLadderCodec


def view_point(view, x, y) -> QPoint:
    return view.mapFromScene(QPointF(x, y))


def drag(qtbot, view, points, modifier=Qt.KeyboardModifier.NoModifier):
    """Drag with the left button over image coordinates `points`."""
    qt_input.drag(view.viewport(), [view_point(view, *p) for p in points], modifier)


@pytest.fixture
def opened(qtbot, window, image_png):
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        window.open_path(image_png)
    window.view.set_zoom(4.0)  # big enough that a drag lands on exact pixels
    window.view.centerOn(48, 32)
    return window


def test_mask_model_brush_rect_undo_redo():
    m = RoiMask(20, 30)
    m.snapshot()
    m.stamp(5, 5, 5, 5, 2, True)
    assert m.mask[5, 5] and m.mask[4, 5] and not m.mask[5, 9]
    m.snapshot()
    m.rectangle(10, 10, 14, 12)
    assert m.mask[10:13, 10:15].all() and m.mask.sum() > 15
    before = m.mask.copy()
    m.invert()
    assert (m.mask == ~before).all()
    assert m.undo() and (m.mask == before).all()
    assert m.redo() and (m.mask == ~before).all()
    m.clear()
    assert not m.mask.any()


def test_paint_erase_undo_with_the_mouse(qtbot, opened):
    w = opened
    qtbot.keyClick(w, Qt.Key.Key_R)  # paint mode
    assert w.roi_editor.is_active() and w.view.tool() is w.roi_editor.tool
    w.roi_editor.set_radius(3)
    drag(qtbot, w.view, [(30, 30), (40, 30), (50, 30)])
    mask = w.roi_editor.mask()
    assert mask[30, 30] and mask[30, 45] and mask[30, 50]
    assert not mask[20, 40] and not mask[30, 60]
    painted = mask.copy()
    qtbot.keyClick(w, Qt.Key.Key_E)  # eraser
    drag(qtbot, w.view, [(40, 30), (40, 31)])
    assert not w.roi_editor.mask()[30, 40] and w.roi_editor.mask()[30, 30]
    qtbot.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the erase
    np.testing.assert_array_equal(w.roi_editor.mask(), painted)
    qtbot.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert not w.roi_editor.mask()[30, 40]
    assert w.view.has_overlay("roi")


def test_rectangle_invert_clear_and_mask_png(qtbot, opened, tmp_path):
    w = opened
    qtbot.keyClick(w, Qt.Key.Key_G)  # rectangle
    drag(qtbot, w.view, [(20.5, 20.5), (30, 25), (40.5, 30.5)])
    mask = w.roi_editor.mask()
    assert mask[20:31, 20:41].all() and mask.sum() == 11 * 21
    w.roi_editor.invert_button.click()
    assert w.roi_editor.mask().sum() == mask.size - 11 * 21
    w.roi_editor.invert_button.click()
    out = tmp_path / "mask.png"
    w.save_mask(out)
    saved = w.roi_editor.mask().copy()
    w.roi_editor.clear_button.click()
    assert not w.roi_editor.mask().any()
    assert w.load_mask(out)
    np.testing.assert_array_equal(w.roi_editor.mask(), saved)
    np.testing.assert_array_equal(load_mask_png(out), saved)
    # a mask of the wrong size is refused with a message
    from PIL import Image
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(tmp_path / "small.png")
    assert not w.load_mask(tmp_path / "small.png")
    assert "mask" in w.banner.text().lower()


def test_reencode_with_roi_writes_a_matching_roi_chunk(qtbot, opened, tmp_path, image_png):
    w = opened
    qtbot.keyClick(w, Qt.Key.Key_G)
    drag(qtbot, w.view, [(10.5, 12.5), (50.5, 40.5)])
    mask = w.roi_editor.mask().copy()
    assert mask.any()
    dlg = w.make_encode_dialog()
    dlg.codec_combo.setCurrentIndex(dlg.codec_combo.findData(TEST_CODEC))
    assert dlg.background_spin.isEnabled()
    dlg.quality_spin.setValue(4)
    dlg.background_spin.setValue(2)
    req = dlg.request()
    assert (req.codec, req.quality, req.background_quality, req.bpp) == (TEST_CODEC, 4, 2, None)
    with qtbot.waitSignal(w.document_ready, timeout=20000):
        w.reencode(req)
    assert w.doc.data is not None and not w.doc.saved
    assert len(w.previews) == 4
    np.testing.assert_array_equal(w.doc.info.roi, mask)
    np.testing.assert_array_equal(w.roi_editor.mask(), mask)  # the mask stays editable
    assert "inside ROI" in w.roi_editor.bits_label.text()
    # quality is measured against the original the encode started from
    out = tmp_path / "roi.gic"
    assert w.save_action.isEnabled()
    assert w.save_encoded(out)
    f = container.unpack(out.read_bytes())
    np.testing.assert_array_equal(f.roi, mask)
    assert f.header.codec == TEST_CODEC and f.header.num_layers == 4
    assert f.metadata["source"] == Path(image_png).name and f.metadata["encoder"].startswith("gic")
    assert "source" in w.info_label.text()
    assert w.doc.saved and "not saved" not in w.windowTitle()
    # outside the ROI the finest layer equals the background layer; inside it is refined
    fin, bg = w.previews[-1].image, w.previews[1].image
    np.testing.assert_array_equal(fin[~mask], bg[~mask])
    assert (fin[mask] != bg[mask]).any()


def test_encode_can_be_cancelled(qtbot, opened):
    w = opened
    JpegLadderCodec.hold = threading.Event()  # the encode pauses after its first layer
    with qtbot.waitSignal(w.encode_runner.progress, timeout=20000):
        w.reencode(EncodeRequest(codec=TEST_CODEC, quality=4))
    assert w.cancel_button.isVisible()
    with qtbot.waitSignal(w.encode_runner.busy_changed, timeout=20000, check_params_cb=lambda busy: not busy):
        qtbot.keyClick(w, Qt.Key.Key_Escape)
        JpegLadderCodec.hold.set()
    assert w.doc.data is None and w.doc.name == "orig.png"  # the cancelled result never opened
    assert "cancel" in w.statusBar().currentMessage().lower()


def test_roi_overlay_hides_after_reencode_and_on_open_and_o_shows_it(qtbot, opened, tmp_path):
    """The user sees the region they asked to be sharp: the overlay hides after a re-encode and when a
    file with a stored ROI opens; O (ROI > Show ROI overlay) shows it again."""
    w = opened
    qtbot.keyClick(w, Qt.Key.Key_G)
    drag(qtbot, w.view, [(10.5, 12.5), (50.5, 40.5)])
    qtbot.keyClick(w, Qt.Key.Key_R)  # stop painting: the painted mask stays on screen
    assert not w.roi_editor.is_active() and w.view.has_overlay("roi")
    with qtbot.waitSignal(w.document_ready, timeout=20000):
        w.reencode(EncodeRequest(codec=TEST_CODEC, quality=4, background_quality=2))
    assert w.doc.info.roi is not None and w.roi_editor.mask().any()
    assert not w.view.has_overlay("roi") and not w.roi_show_action.isChecked()
    qtbot.keyClick(w, Qt.Key.Key_O)
    assert w.view.has_overlay("roi") and w.roi_show_action.isChecked()
    qtbot.keyClick(w, Qt.Key.Key_O)
    assert not w.view.has_overlay("roi")
    out = tmp_path / "roi.gic"
    assert w.save_encoded(out)
    qtbot.keyClick(w, Qt.Key.Key_O)
    with qtbot.waitSignal(w.document_ready, timeout=20000):
        w.open_path(out)  # a file with a stored ROI: hidden again, though shown before
    assert w.roi_editor.mask().any() and not w.view.has_overlay("roi")
    w.roi_show_action.trigger()
    assert w.view.has_overlay("roi")
    qtbot.keyClick(w, Qt.Key.Key_O)
    qtbot.keyClick(w, Qt.Key.Key_R)  # painting always shows the mask
    assert w.view.has_overlay("roi") and w.roi_show_action.isChecked()
    qtbot.keyClick(w, Qt.Key.Key_R)
