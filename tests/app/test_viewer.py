"""Opening and progressive decoding, driven through the real window."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from gic.app import settings

import qt_input
from app_doubles import TEST_CODEC, JpegLadderCodec


def open_and_wait(qtbot, window, path):
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        window.open_path(path)


def test_open_gic_receives_every_layer_in_order(qtbot, window, gic_file, image):
    layers = []
    window.decode_runner.partial.connect(
        lambda _j, p: layers.append(p.layer) if hasattr(p, "layer") else None)
    open_and_wait(qtbot, window, gic_file)
    assert layers == [1, 2, 3, 4]
    assert [p.layer for p in window.previews] == [1, 2, 3, 4]
    assert window.layers.layers() == [1, 2, 3, 4]
    assert window.layers.current_layer() == 4  # followed the decode to the finest layer
    assert window.view.image() is window.previews[-1].image
    assert window.doc.info.codec == TEST_CODEC
    assert window.layers.table.rowCount() == 4
    bits = [p.bits for p in window.previews]
    assert bits == sorted(bits) and bits[-1] <= gic_file.stat().st_size * 8
    assert not window.banner.isVisible()
    assert str(gic_file.resolve()) == settings.recent_files()[0]


def test_layer_slider_and_keys_show_any_layer(qtbot, window, gic_file):
    open_and_wait(qtbot, window, gic_file)
    window.layers.slider.setValue(2)
    assert window.view.image() is window.previews[1].image
    qtbot.keyClick(window, Qt.Key.Key_BracketLeft)
    assert window.layers.current_layer() == 1
    assert window.view.image() is window.previews[0].image
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert window.layers.current_layer() == 3


def test_opening_another_file_cancels_the_running_decode(qtbot, window, tmp_path, image, gic_file):
    other = tmp_path / "other.gic"
    other.write_bytes(JpegLadderCodec().encode(image[::-1].copy(), 3))
    JpegLadderCodec.hold = threading.Event()  # the first decode stops after layer 1 until released
    JpegLadderCodec.decoded_layers = []
    with qtbot.waitSignal(window.decode_runner.partial, check_params_cb=lambda j, p: hasattr(p, "layer")):
        window.open_path(gic_file)
    first_job = window.decode_runner.current_id()
    stale = []
    window.decode_runner.partial.connect(lambda j, p: stale.append(p) if j == first_job else None)
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        window.open_path(other)  # cancels the first decode, which is still waiting before layer 2
        JpegLadderCodec.hold.set()  # let both run: the old one must stop, its results be dropped
    assert window.doc.name == "other.gic"
    assert [p.layer for p in window.previews] == [1, 2, 3]
    assert stale == []
    np.testing.assert_array_equal(window.previews[-1].image.shape, image.shape)
    qtbot.waitUntil(lambda: not window.decode_runner.is_busy(), timeout=10000)
    # The cancelled decode stopped between layers: it never decoded all 4 layers of the first file.
    assert JpegLadderCodec.decoded_layers.count(4) == 0


def test_truncated_file_shows_its_layers_and_says_partial(qtbot, window, tmp_path, gic_file):
    from gic.codecs import container

    data = gic_file.read_bytes()
    f = container.unpack(data)
    cut = tmp_path / "cut.gic"
    cut.write_bytes(data[: f.layer_offsets[1] + 7])  # two complete layers and a bit of the third
    open_and_wait(qtbot, window, cut)
    assert [p.layer for p in window.previews] == [1, 2]
    assert window.banner.isVisible()
    assert "partial" in window.banner.text() and "2 of 4" in window.banner.text()
    assert window.view.image() is not None


def test_corrupt_file_shows_an_error_and_the_app_stays_usable(qtbot, window, tmp_path, gic_file):
    data = bytearray(gic_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.gic"
    bad.write_bytes(bytes(data))
    open_and_wait(qtbot, window, bad)
    assert window.banner.isVisible()
    assert "bad.gic" in window.banner.text() and "corrupt" in window.banner.text().lower()
    assert window.previews == []
    assert not window.save_action.isEnabled()  # nothing decodable to save
    garbage = tmp_path / "junk.gic"
    garbage.write_bytes(b"this is not an image at all")
    open_and_wait(qtbot, window, garbage)
    assert "junk.gic" in window.banner.text()
    open_and_wait(qtbot, window, gic_file)  # still works afterwards
    assert len(window.previews) == 4
    assert not window.banner.isVisible()


@pytest.mark.filterwarnings("ignore:.*QDragEnterEvent.*:DeprecationWarning")
def test_drop_a_file_opens_it(qtbot, window, gic_file):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(gic_file))])
    pos = QPointF(200, 200)
    from PySide6.QtGui import QDragEnterEvent

    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        QApplication.sendEvent(window, drop)
    assert window.doc.name == "sample.gic" and len(window.previews) == 4


def test_open_an_image_as_original(qtbot, window, image_png, image):
    open_and_wait(qtbot, window, image_png)
    np.testing.assert_array_equal(window.view.image(), image)
    assert window.original() is not None
    assert window.encode_action.isEnabled()
    assert "Original: orig.png" in window.original_label.text()


def test_an_image_with_transparency_says_alpha_is_flattened_onto_white(qtbot, window, tmp_path, image):
    from PIL import Image

    rgba = np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])
    rgba[:8, :8, 3] = 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "clear.png")
    open_and_wait(qtbot, window, tmp_path / "clear.png")
    assert (window.original()[:8, :8] == 255).all()
    text = window.banner.text()
    assert window.banner.isVisible() and "clear.png has transparency" in text and "onto white" in text
    Image.fromarray(image).save(tmp_path / "opaque.png")
    open_and_wait(qtbot, window, tmp_path / "opaque.png")
    assert not window.banner.isVisible()


def test_unreadable_image_shows_an_error(qtbot, window, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    open_and_wait(qtbot, window, bad)
    assert window.banner.isVisible() and "broken.png" in window.banner.text()
    assert window.doc is None or window.doc.original is None


def test_recent_files_menu_reopens(qtbot, window, gic_file, image_png):
    open_and_wait(qtbot, window, gic_file)
    open_and_wait(qtbot, window, image_png)
    window._fill_recent_menu()
    actions = [a for a in window.recent_menu.actions() if a.text() == "sample.gic"]
    assert actions
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        actions[0].trigger()
    assert window.doc.name == "sample.gic"


def test_zoom_keys_and_pixel_readout(qtbot, window, gic_file):
    open_and_wait(qtbot, window, gic_file)
    view = window.view
    assert view.is_fit()
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_1)
    assert view.zoom() == pytest.approx(1.0)
    qtbot.keyClick(view, Qt.Key.Key_2)
    assert view.zoom() == pytest.approx(2.0)
    assert view._pixmap_item.transformationMode() == Qt.TransformationMode.FastTransformation  # crisp
    qtbot.keyClick(view, Qt.Key.Key_0)
    assert view.is_fit()
    # hover over image pixel (10, 5): the status bar reads it out
    qt_input.hover(view.viewport(), view.mapFromScene(QPointF(10.5, 5.5)))
    assert "x 10  y 5" in window.pixel_label.text()
    r, g, b = window.view.image()[5, 10]
    assert f"RGB {r:3d} {g:3d} {b:3d}" in window.pixel_label.text()


def test_close_mid_decode_joins_the_worker(qtbot, window, gic_file):
    JpegLadderCodec.hold = threading.Event()
    with qtbot.waitSignal(window.decode_runner.partial, check_params_cb=lambda j, p: hasattr(p, "layer")):
        window.open_path(gic_file)
    assert window.decode_runner.is_busy()
    threading.Timer(0.2, JpegLadderCodec.hold.set).start()  # released from outside, like a slow layer
    window.close()
    assert not window.decode_runner.is_busy()


def test_wheel_zoom_and_right_drag_pan_while_painting(qtbot, window, image_png):
    open_and_wait(qtbot, window, image_png)
    view = window.view
    vp = view.viewport()
    z0 = view.zoom()
    qt_input.wheel(vp, vp.rect().center(), 3)
    assert view.zoom() == pytest.approx(z0 * 1.25 ** 3)
    assert not view.is_fit()
    view.set_zoom(16.0)  # much larger than the window: room to pan both ways
    view.centerOn(48, 32)
    qtbot.keyClick(window, Qt.Key.Key_R)  # paint mode: the left button paints, right still pans
    h0, v0 = view.horizontalScrollBar().value(), view.verticalScrollBar().value()
    c = vp.rect().center()
    qt_input.right_drag(vp, [c, c + QPoint(-40, -30)])
    assert (view.horizontalScrollBar().value(), view.verticalScrollBar().value()) == (h0 + 40, v0 + 30)
    assert not window.roi_editor.mask().any()


def test_first_picture_comes_before_the_metrics(qtbot, window, gic_file, image):
    """Start-up order (benchmarks/startup.py measures it): the first layer is on screen before any
    PSNR/LPIPS work starts, so loading LPIPS never delays the picture."""
    events = []
    with qtbot.waitSignal(window.document_ready, timeout=30000):  # with an original: after the metrics
        window.open_bytes(gic_file.read_bytes(), "sample.gic", original=image, original_name="orig.png")
        window.doc.subscribe(lambda e, d, _layer: events.append((e, window.metrics_runner.is_busy())))
    names = [e for e, _ in events]
    assert "layer" in names and "metrics" in names
    first_layer = names.index("layer")
    assert first_layer < names.index("metrics")
    assert events[first_layer][1] is False  # no metrics job running yet when the first layer arrives
    assert window.view.image() is not None and window.layers.metrics(1).get("lpips") is not None
