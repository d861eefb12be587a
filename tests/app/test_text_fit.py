"""Text never clips and the window never resizes itself: geometry checks at the default window size."""
from __future__ import annotations

import numpy as np
import pytest
from app_doubles import JpegLadderCodec, make_image
from PySide6.QtCore import QRectF

from gic.app import jobs
from gic.codecs import registry


class TwelveLayers(JpegLadderCodec):
    """The test double with the layer count of a typical progressive file."""

    name = "testprog12"
    quality_range = (1, 12)
    default_quality = 12
    JPEG_Q = tuple(range(5, 96, 8))


@pytest.fixture
def default_window(qtbot):
    """The main window at its default size (private settings: no saved geometry)."""
    from gic.app import settings
    from gic.app.main_window import MainWindow

    s = settings.settings()
    for key in ("geometry", "view_splitter"):  # saved by earlier tests' windows: start as a new user
        s.remove(key)
    s.sync()
    registry.register(registry.CodecSpec.of(TwelveLayers, "test"))
    w = MainWindow(codec_filter=[TwelveLayers.name, "jpeg"])
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: not w.codecs_runner.is_busy(), timeout=20000)
    yield w
    w.close()
    registry.unregister(TwelveLayers.name)


def open_twelve(qtbot, w, tmp_path, name: str) -> np.ndarray:
    image = make_image(384, 256)
    path = tmp_path / name
    path.write_bytes(TwelveLayers().encode(image, 12))
    with qtbot.waitSignal(w.document_ready, timeout=20000):
        w.open_path(path)
    return image


def test_layer_table_shows_all_twelve_layers_and_long_names_do_not_resize(qtbot, default_window, tmp_path):
    w = default_window
    size = w.size()
    assert size.toTuple() == (1280, 800)
    image = open_twelve(qtbot, w, tmp_path, "a_long_file_name_without_any_spaces_" * 4 + ".gic")
    t = w.layers.table
    qtbot.waitUntil(lambda: t.rowCount() == 12, timeout=5000)
    rows_px = sum(t.rowHeight(r) for r in range(12))
    assert t.viewport().height() >= rows_px, "the layer table scrolls at the default window size"
    assert not t.verticalScrollBar().isVisible()
    assert w.size() == size
    # a long original's name (no spaces) and the "not known" sentence: shown whole, the window stays put
    for text_source in ("another_very_long_original_name_" * 5 + ".png", None):
        if text_source is None:
            w.doc.original = None
            w._original_changed()
        else:
            assert w.set_original(image, text_source)
            qtbot.waitUntil(lambda: not w.is_busy(), timeout=30000)
        qtbot.wait(50)
        label = w.original_label
        assert label.height() >= label.heightForWidth(label.width()), label.text()
        assert label.width() >= label.minimumSizeHint().width()
        assert w.size() == size
    w.tokens_legend.setVisible(True)  # token codecs show it: it fits, and the table still does
    qtbot.wait(50)
    assert w.tokens_legend.width() >= w.tokens_legend.sizeHint().width()
    assert t.viewport().height() >= rows_px and w.size() == size
    info = w.info_label
    assert info.height() >= info.heightForWidth(info.width()) and info.width() >= info.minimumSizeHint().width()
    assert not t.verticalScrollBar().isVisible()


def test_rd_star_labels_stay_inside_the_plot(qtbot, default_window):
    w = default_window
    rd = w.rd_plot
    w.tabs.setCurrentWidget(rd)
    rd.points = [jobs.RDPoint("jpeg", q, bpp, 30.0, lp) for q, (bpp, lp) in
                 enumerate([(0.1, 0.6), (0.5, 0.3), (1.0, 0.1), (2.0, 0.05)], 1)]
    # the two sides at the corners of the data range: the labels would run off to the right and top
    rd.mark_points([("A: a-long-codec-label", 2.0, 0.6, 30.0), ("B: another-long-label", 1.9, 0.58, 30.0)])
    qtbot.wait(100)
    import pyqtgraph as pg

    vb = rd.plot.getPlotItem().getViewBox()
    box = vb.sceneBoundingRect()
    texts = [i for i in vb.addedItems if isinstance(i, pg.TextItem)]
    assert len(texts) == 2
    for item in texts:
        r: QRectF = item.sceneBoundingRect()
        assert box.contains(r), (item.toPlainText(), r, box)


def test_a_long_banner_wraps_without_resizing_the_window(qtbot, default_window):
    w = default_window
    size = w.size()
    w.show_banner("Cannot open /a/very/long/path/" + "without_any_spaces_" * 20 + ".gic: not a .gic file")
    qtbot.wait(50)
    b = w.banner
    assert b.isVisible() and w.size() == size
    assert b.height() >= b.heightForWidth(b.width())  # every line of it shown
