"""Quality overlays (PSNR/LPIPS per layer, heatmap), the comparison view and the RD plot."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from gic.app import jobs
from gic.app.qimage import HEATMAP_STOPS
from gic.codecs.base import bits_per_pixel

import qt_input
from app_doubles import TEST_CODEC


def test_attach_original_measures_every_layer_and_shows_heatmap(qtbot, window, gic_file, image_png):
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        window.open_path(gic_file)
    assert window.layers.metrics(4).get("lpips") is None
    with qtbot.waitSignal(window.document_ready, timeout=60000):
        assert window.attach_original(image_png)
    vals = [window.layers.metrics(k) for k in (1, 2, 3, 4)]
    psnr = [v["psnr"] for v in vals]
    lpips = [v["lpips"] for v in vals]
    assert psnr == sorted(psnr) and psnr[-1] > psnr[0] + 3  # coarse to fine
    assert lpips[-1] < lpips[0]
    assert window.layers.table.item(3, 4).text() == f"{lpips[-1]:.4f}"
    x, y = window.layers.chart_points()
    assert len(x) == 4 and np.allclose(y, lpips)
    assert window.heatmap_check.isEnabled()
    with qtbot.waitSignal(window.heatmap_runner.finished, timeout=60000) as done:
        qtbot.keyClick(window, Qt.Key.Key_H)
    qtbot.waitUntil(lambda: window.view.has_overlay("heatmap"), timeout=5000)
    window.heatmap_opacity.setValue(30)
    assert window.view._overlays["heatmap"].opacity() == pytest.approx(0.3)
    # the colour bar: LPIPS from 0 to the top of the ramp, in the ramp's own colours
    legend = window.view.legend()
    assert "LPIPS" in legend.title and legend.low == "0"
    assert float(legend.high.lstrip("≥ ")) == pytest.approx(np.percentile(done.args[1], 99.5), rel=1e-2)
    left, right = legend_bar_ends(window.view)
    assert np.abs(left - HEATMAP_STOPS[0]).max() < 40 and np.abs(right - HEATMAP_STOPS[-1]).max() < 40
    qtbot.keyClick(window, Qt.Key.Key_H)
    assert not window.view.has_overlay("heatmap") and window.view.legend() is None


def legend_bar_ends(view) -> tuple[np.ndarray, np.ndarray]:
    """The colours drawn at the two ends of a view's legend bar (from the rendered viewport)."""
    from PySide6.QtGui import QFontMetrics

    from gic.app.legend import bar_rect
    from gic.app.qimage import qimage_to_rgb

    vp = view.viewport()
    pixels = qimage_to_rgb(vp.grab().toImage())
    bar = bar_rect(QFontMetrics(view.font()), view.legend(), vp.width(), vp.height())
    y = int(bar.center().y())
    return pixels[y, int(bar.left()) + 2].astype(int), pixels[y, int(bar.right()) - 2].astype(int)


def test_attach_original_of_the_wrong_size_is_refused(qtbot, window, gic_file, tmp_path):
    from PIL import Image

    with qtbot.waitSignal(window.document_ready, timeout=20000):
        window.open_path(gic_file)
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(tmp_path / "small.png")
    assert not window.attach_original(tmp_path / "small.png")
    assert "not attached" in window.banner.text()
    assert window.original() is None


@pytest.fixture
def comparing(qtbot, window, image_png):
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        window.open_path(image_png)
    cmp = window.compare
    cmp.sides[0].set_codec(TEST_CODEC)
    cmp.sides[0].set_quality(2)
    cmp.sides[1].set_codec("jpeg")
    with qtbot.waitSignals([(cmp.side_finished, "a"), (cmp.side_finished, "b")], timeout=60000):
        qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)  # View ▸ Compare
    assert window.tabs.currentWidget() is cmp
    assert all(r is not None for r in cmp.results)
    return window


def test_comparison_at_matched_bpp(qtbot, comparing, image):
    cmp = comparing.compare
    a = cmp.results[0]
    assert a.encode.request.codec == TEST_CODEC
    assert "bpp" in cmp.sides[0].result_label.text() and "LPIPS" in cmp.sides[0].result_label.text()
    with qtbot.waitSignal(cmp.side_finished, timeout=60000):
        cmp.sides[1].match_button.click()
    b = cmp.results[1]
    target = round(a.encode.bpp, 3)
    assert b.encode.request.bpp == pytest.approx(target)
    # the quality found is the best one: its neighbours are no closer to the target
    codec = jobs.get_codec("jpeg")
    q = b.encode.quality
    for nq in (q - 1, q + 1):
        if codec.quality_range[0] <= nq <= codec.quality_range[1]:
            nb = bits_per_pixel(len(codec.encode(image, nq)), image.shape)
            assert abs(b.encode.bpp - target) <= abs(nb - target) + 1e-9
    assert f"{b.encode.bpp:.4f}" in cmp.sides[1].result_label.text()
    assert f"{len(b.encode.data):,} bytes" in cmp.sides[1].result_label.text()
    assert set(b.metrics) >= {"psnr", "lpips"}


def test_split_divider_panes_and_difference(qtbot, comparing):
    cmp = comparing.compare
    view = cmp.split_view
    assert cmp.stack.currentWidget() is view
    # drag the divider from the middle to a quarter of the image
    img_w = view.image().shape[1]
    start = view.mapFromScene(QPointF(img_w / 2, 10))
    end = view.mapFromScene(QPointF(img_w / 4, 10))
    qt_input.drag(view.viewport(), [start, end])
    assert view.split_x() == pytest.approx(img_w / 4, abs=2)
    # side by side: zoom/pan in one pane follows in the other
    cmp.mode_buttons["panes"].click()
    assert cmp.mode() == "panes"
    cmp.pane_a.set_zoom(3.0)
    cmp.pane_a.centerOn(20, 20)
    assert cmp.pane_b.zoom() == pytest.approx(3.0)
    ca, cb = cmp.pane_a.view_state()[1], cmp.pane_b.view_state()[1]
    assert abs(ca.x() - cb.x()) < 1 and abs(ca.y() - cb.y()) < 1
    cmp.mode_buttons["diff"].click()
    a, b = cmp.images()
    expected = np.clip(np.abs(a.astype(int) - b.astype(int)) * 4, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(cmp.diff_view.image(), expected)


def divider_on_screen(view) -> float:
    return view.mapFromScene(QPointF(view.split_x(), 0)).x()


def test_divider_stays_put_on_screen_while_zooming_and_panning(qtbot, comparing):
    view = comparing.compare.split_view
    view.set_split(0.4)
    x0 = 0.4 * view.viewport().width()
    assert divider_on_screen(view) == pytest.approx(x0, abs=2)
    view.set_zoom(24.0)  # the 96-pixel image is far wider than the window now
    assert divider_on_screen(view) == pytest.approx(x0, abs=2)
    before = view.split_x()
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().value() + 480)  # pan right by 20 image columns
    assert divider_on_screen(view) == pytest.approx(x0, abs=2)
    assert view.split_x() == pytest.approx(before + 20, abs=1)  # other image columns are under the divider now
    assert view._clip.rect().left() == pytest.approx(view.split_x())  # B starts at the divider
    qt_input.drag(view.viewport(), [QPointF(x0, 30), QPointF(x0 - 50, 30)])
    assert view.split() == pytest.approx((x0 - 50) / view.viewport().width(), abs=0.01)


def test_switching_views_keeps_zoom_and_position(qtbot, comparing):
    cmp = comparing.compare
    cmp.split_view.set_zoom(3.0)
    cmp.split_view.centerOn(30, 20)
    z, c = cmp.split_view.view_state()
    cmp.set_mode("panes")
    qtbot.wait(50)
    for pane in (cmp.pane_a, cmp.pane_b):
        pz, pc = pane.view_state()
        assert pz == pytest.approx(z) and abs(pc.x() - c.x()) < 1.5 and abs(pc.y() - c.y()) < 1.5
    cmp.pane_b.set_zoom(5.0)
    cmp.pane_b.centerOn(70, 40)
    z, c = cmp.pane_a.view_state()
    assert z == pytest.approx(5.0)
    for mode in ("split", "diff"):
        cmp.set_mode(mode)
        qtbot.wait(50)
        vz, vc = cmp.current_view().view_state()
        assert vz == pytest.approx(z) and abs(vc.x() - c.x()) < 1.5 and abs(vc.y() - c.y()) < 1.5
    cmp.current_view().fit()
    cmp.set_mode("split")
    assert cmp.split_view.is_fit()


def test_changing_a_side_marks_its_result_stale_and_reencodes(qtbot, comparing):
    cmp = comparing.compare
    old = cmp.results[1]
    side = cmp.sides[1]
    side.quality_spin.setValue(old.encode.quality - 20)
    assert cmp.stale == [False, True]  # at once: the old picture is still there, marked
    assert "Stale" in side.result_label.text() and cmp.split_view.labels[1].endswith("STALE")
    assert [p[0] for p in cmp.points()] == [f"A: {TEST_CODEC}"]  # no stale point on the RD plot
    with qtbot.waitSignal(cmp.side_finished, timeout=60000):
        pass  # re-encoded by itself after a short pause, no Encode press
    new = cmp.results[1]
    assert new is not old and new.encode.quality == old.encode.quality - 20
    assert cmp.stale == [False, False] and "Stale" not in side.result_label.text()
    assert not cmp.split_view.labels[1].endswith("STALE")
    with qtbot.waitSignal(cmp.side_finished, timeout=60000):
        side.set_codec("webp")
    assert cmp.results[1].encode.request.codec == "webp" and not cmp.stale[1]


def test_difference_against_the_original_with_its_scale(qtbot, comparing, image):
    cmp = comparing.compare
    cmp.diff_pair.setCurrentIndex(cmp.diff_pair.findData("ao"))  # choosing a difference shows it
    assert cmp.mode() == "diff" and cmp.stack.currentWidget() is cmp.diff_view
    a, _b = cmp.images()
    np.testing.assert_array_equal(
        cmp.diff_view.image(), np.clip(np.abs(a.astype(int) - image.astype(int)) * 4, 0, 255).astype(np.uint8))
    legend = cmp.diff_view.legend()
    assert "A − original" in legend.title and "×4" in legend.title and legend.high == "≥ 64 levels"
    cmp.diff_pair.setCurrentIndex(cmp.diff_pair.findData("bo"))
    cmp.diff_gain.setCurrentIndex(cmp.diff_gain.findData(16))
    _a, b = cmp.images()
    np.testing.assert_array_equal(
        cmp.diff_view.image(), np.clip(np.abs(b.astype(int) - image.astype(int)) * 16, 0, 255).astype(np.uint8))
    assert "B − original" in cmp.diff_view.legend().title and cmp.diff_view.legend().high == "≥ 16 levels"
    left, right = legend_bar_ends(cmp.diff_view)  # black (equal) to white (the top of the scale)
    assert left.max() < 20 and right.min() > 235


def test_plain_keys_zoom_the_view_on_screen(qtbot, comparing):
    w, cmp = comparing, comparing.compare
    main_zoom = w.view.zoom()
    w.activateWindow()
    cmp.sides[0].encode_button.setFocus()  # any widget of the window but a text field
    qtbot.keyClick(w, Qt.Key.Key_3)
    assert cmp.split_view.zoom() == pytest.approx(3.0) and w.view.zoom() == pytest.approx(main_zoom)
    assert w.zoom_label.text() == "300%"
    qtbot.keyClick(w, Qt.Key.Key_0)
    assert cmp.split_view.is_fit() and w.zoom_label.text().startswith("Fit (")
    cmp.set_mode("panes")
    qtbot.keyClick(w, Qt.Key.Key_2)
    assert cmp.pane_a.zoom() == pytest.approx(2.0) and cmp.pane_b.zoom() == pytest.approx(2.0)
    qtbot.keyClick(w, Qt.Key.Key_Plus)
    assert cmp.pane_a.zoom() == pytest.approx(2.5) and w.zoom_label.text() == "250%"
    # a digit typed into a spin box is the spin box's
    spin = cmp.sides[0].quality_spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClick(spin, Qt.Key.Key_4)
    assert spin.value() == 4 and cmp.pane_a.zoom() == pytest.approx(2.5)
    cmp.cancel()
    w.tabs.setCurrentIndex(0)
    assert w.zoom_label.text().startswith("Fit (")  # the viewer's own zoom again


def test_target_size_in_kilobytes(qtbot, comparing, image):
    cmp = comparing.compare
    codec = jobs.get_codec("jpeg")
    size = len(codec.encode(image, 60))
    with qtbot.waitSignal(cmp.side_finished, timeout=60000):
        cmp.sides[1].set_target_kb(size / 1000)
    b = cmp.results[1]
    assert b.encode.request.bpp == pytest.approx(8 * round(size / 1000, 1) * 1000 / (image.shape[0] * image.shape[1]))
    assert abs(len(b.encode.data) - size) <= 0.05 * size  # the nearest size the qualities reach
    assert f"({len(b.encode.data) / 1000:.1f} kB)" in cmp.sides[1].result_label.text()


def test_encode_dialog_target_size(qtbot, comparing, image):
    from gic.app.encode_dialog import kb_to_bpp

    w = comparing
    w.tabs.setCurrentIndex(0)
    dlg = w.make_encode_dialog()
    qtbot.addWidget(dlg)
    dlg.kb_radio.setChecked(True)
    assert dlg.kb_spin.isEnabled() and not dlg.bpp_spin.isEnabled() and not dlg.quality_spin.isEnabled()
    dlg.kb_spin.setValue(2.5)
    req = dlg.request()
    assert req.quality is None and req.bpp == pytest.approx(kb_to_bpp(2.5, image.shape))
    assert req.bpp == pytest.approx(2500 * 8 / (image.shape[0] * image.shape[1]))


def test_rd_plot_with_two_codecs_marks_the_comparison(qtbot, comparing):
    w = comparing
    rd = w.rd_plot
    w.tabs.setCurrentWidget(rd)
    rd.set_checked_codecs(["jpeg", TEST_CODEC])
    rd.points_spin.setValue(3)
    rd.max_bpp_spin.setValue(24)
    with qtbot.waitSignal(rd.computed, timeout=120000):
        rd.compute_button.click()
    by = {}
    for p in rd.points:
        by.setdefault(p.codec, []).append(p)
    assert set(by) == {"jpeg", TEST_CODEC}
    assert len(by["jpeg"]) == 3 and len(by[TEST_CODEC]) == 3
    assert all(p.lpips is not None and 0 <= p.lpips <= 1 for p in rd.points)
    assert [m[0] for m in rd.marks] == [f"A: {TEST_CODEC}", "B: jpeg"]
    assert len(rd.legend.items) >= 2


def test_rd_plot_cancel(qtbot, comparing):
    rd = comparing.rd_plot
    rd.set_checked_codecs(["jpeg", "webp"])
    rd.points_spin.setValue(16)
    with qtbot.waitSignal(rd.runner.busy_changed, timeout=60000, check_params_cb=lambda b: not b):
        rd.compute_button.click()
        rd.cancel_button.click()
    assert "Cancelled" in rd.status.text()
    assert rd.compute_button.isEnabled()
