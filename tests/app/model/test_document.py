"""The viewer's document model, without a window: layers, the layer on screen, original, metrics,
saving, encode results and the events the window observes."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gic.app.jobs import FileInfo
from gic.app.model import Document
from gic.codecs.base import Preview


def preview(layer: int, shape=(4, 6, 3)) -> Preview:
    return Preview(layer=layer, num_layers=3, image=np.full(shape, layer, np.uint8), bits=8 * layer)


def info(**kw) -> FileInfo:
    base = dict(codec="c", width=6, height=4, num_layers=3, size=3, partial=False, roi=None, metadata={})
    return FileInfo(**{**base, **kw})


def recorder(doc: Document) -> list:
    seen: list = []
    doc.subscribe(lambda event, d, layer: seen.append((event, layer)))
    return seen


def test_layers_original_and_metrics_with_events_in_order():
    doc = Document(name="x.gic", data=b"...")
    seen = recorder(doc)
    doc.set_info(info(partial=True))
    for k in (1, 2):
        doc.add_preview(preview(k))
    assert doc.codec == "c" and doc.partial and doc.latest.layer == 2 and doc.preview(1).layer == 1
    assert doc.preview(3) is None and doc.has_image and doc.layers() == [1, 2]
    assert int(doc.encode_source()[0, 0, 0]) == 2  # no original: the finest layer
    doc.set_metrics(2, {"psnr": 30.0})
    assert not doc.measurable and doc.heatmap_possible is False
    original = np.zeros((4, 6, 3), np.uint8)
    doc.attach_original(original, "o.png")
    assert doc.encode_source() is original and doc.metrics == {}  # old metrics were of no original
    assert doc.measurable and doc.heatmap_possible
    assert seen == [("info", None), ("layer", 1), ("current", 1), ("layer", 2), ("current", 2),
                    ("metrics", 2), ("original", None)]


def test_the_layer_on_screen_follows_the_decode_until_the_user_picks_another():
    doc = Document(name="x.gic", data=b"...")
    seen = recorder(doc)
    doc.add_preview(preview(1))
    doc.add_preview(preview(2))
    assert doc.current == 2 and doc.current_preview.layer == 2
    doc.select(1)  # the user looks at layer 1: the decode no longer moves the view
    doc.add_preview(preview(3))
    assert doc.current == 1 and seen[-1] == ("layer", 3)
    assert doc.select(7) is None and doc.current == 1  # not decoded: ignored, no event
    assert seen[-1] == ("layer", 3)
    assert doc.step(+1) == 2 and doc.step(+5) == 3 and doc.step(-4) == 1
    doc.select(3)
    doc.add_preview(preview(4))  # back on the finest: following again
    assert doc.current == 4


def test_step_without_layers_or_a_current_one():
    doc = Document(name="x.gic")
    assert doc.step(1) is None
    doc.previews.append(preview(1))  # decoded but never selected
    assert doc.current is None and doc.step(1) == 1


def test_quality_and_summary_of_a_layer():
    doc = Document(name="x.gic")
    doc.add_preview(preview(2))  # 16 bits over 24 pixels
    assert doc.quality(2)["bpp"] == pytest.approx(16 / 24) and doc.quality(5) == {}
    assert doc.summary(2) == "Layer 2/3: 0.6667 bpp" and doc.summary(1) is None
    doc.set_metrics(2, {"psnr": 31.234, "lpips": 0.12345})
    assert doc.summary(2) == "Layer 2/3: 0.6667 bpp, PSNR 31.23 dB, LPIPS 0.1235"


def test_an_original_of_another_size_is_refused_with_the_reason():
    doc = Document(name="x.gic")
    doc.add_preview(preview(1))
    why = doc.mismatch(np.zeros((5, 6, 3), np.uint8), "big.png")
    assert why and "big.png is 6×5" in why and "6×4" in why
    with pytest.raises(ValueError):
        doc.attach_original(np.zeros((5, 6, 3), np.uint8), "big.png")
    assert doc.original is None


def test_an_image_document_starts_with_its_original_and_no_layers():
    image = np.ones((2, 3, 3), np.uint8)
    doc = Document(name="o.png", original=image, original_name="o.png")
    assert doc.has_image and doc.latest is None and doc.encode_source() is image
    assert not doc.heatmap_possible  # nothing decoded or to decode yet
    doc.fail("boom")
    assert doc.error == "boom" and doc.failure_note("boom") == "Cannot open o.png: boom"


def test_an_encode_result_is_named_after_the_original_unsaved_until_saved(tmp_path):
    image = np.ones((2, 3, 3), np.uint8)
    doc = Document(name="kodim23.png", original=image, original_name="kodim23.png")
    mask = np.ones((2, 3), bool)
    first = doc.encoded(b"abc", "jpeg", ".jpg", roi=mask)
    assert first.name == "kodim23-jpeg.jpg" and first.unsaved and first.title == "kodim23-jpeg.jpg (not saved)"
    assert first.original is image and first.keep_mask is mask and first.save_suffix == ".jpg"
    again = first.encoded(b"de", "webp", ".webp")  # an encode of an encode: still the original's name
    assert again.name == "kodim23-webp.webp" and again.original is image
    seen = recorder(again)
    again.mark_saved(tmp_path / "kept.webp")
    assert not again.unsaved and again.name == "kept.webp" and again.title == "kept.webp"
    assert seen == [("saved", None)]
    assert Document(name="noext").save_suffix == ".gic" and not Document(name="x.gic").unsaved


def test_the_roi_to_edit_is_the_stored_one_else_the_painted_one():
    painted = np.zeros((4, 6), bool)
    doc = Document(name="x.gic", data=b"...", keep_mask=painted)
    assert doc.initial_roi() is painted
    doc.set_info(info())
    assert doc.initial_roi() is painted
    stored = np.ones((4, 6), bool)
    doc.set_info(info(roi=stored))
    assert doc.initial_roi() is stored


def test_partial_and_failure_notes():
    doc = Document(name="cut.gic", data=b"...")
    doc.set_info(info())
    assert doc.partial_note() is None
    doc.set_info(info(partial=True))
    doc.add_preview(preview(1))
    assert doc.partial_note() == ("cut.gic is partial: it holds 1 of 3 layers (the file was cut short). "
                                  "Showing what it has.")
    assert doc.failure_note("bad") == "cut.gic: decoding stopped after layer 1: bad"


def test_the_model_imports_no_qt():
    """The model runs where Qt does not: importing it loads no PySide6 (nor the window)."""
    code = ("import sys, gic.app.model, gic.app.model.document, gic.app.model.comparison; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph') "
            "or m.startswith('gic.app.main_window')]; print(bad); sys.exit(1 if bad else 0)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[3])
    assert run.returncode == 0, run.stdout + run.stderr
