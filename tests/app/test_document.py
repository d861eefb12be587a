"""The viewer's document model, without a window: layers, original, metrics, events."""
import numpy as np
import pytest

from gic.app.document import Document
from gic.app.jobs import FileInfo
from gic.codecs.base import Preview


def preview(layer: int, shape=(4, 6, 3)) -> Preview:
    return Preview(layer=layer, num_layers=3, image=np.full(shape, layer, np.uint8), bits=8 * layer)


def test_layers_original_and_metrics_with_events_in_order():
    doc = Document(name="x.gic", data=b"...")
    seen = []
    doc.subscribe(lambda event, d: seen.append((event, len(d.previews))))
    doc.set_info(FileInfo(codec="c", width=6, height=4, num_layers=3, size=3, partial=True, roi=None,
                          metadata={}))
    for k in (1, 2):
        doc.add_preview(preview(k))
    assert doc.codec == "c" and doc.partial and doc.latest.layer == 2 and doc.preview(1).layer == 1
    assert doc.preview(3) is None and doc.has_image
    assert int(doc.encode_source()[0, 0, 0]) == 2  # no original: the finest layer
    doc.set_metrics(2, {"psnr": 30.0})
    original = np.zeros((4, 6, 3), np.uint8)
    doc.attach_original(original, "o.png")
    assert doc.encode_source() is original and doc.metrics == {}  # old metrics were of no original
    assert [e for e, _ in seen] == ["info", "layer", "layer", "metrics", "original"]


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
    doc.fail("boom")
    assert doc.error == "boom"
