"""The viewer with the real learned codec: a tiny ProGIC trained for a few steps (real code paths,
quality irrelevant), registered as "progic" unless the bundled model already is."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt

from gic.app import jobs
from gic.codecs import container, registry

import qt_input

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def progic(tmp_path_factory):
    if "progic" in registry.names():
        yield "progic"
        return
    from gic.codecs.progic.codec import ProGICCodec
    from gic.codecs.progic.train import TrainConfig, Trainer
    from gic.codecs.progic.train_command import TINY_MODEL
    from gic.codecs.progic.weights import export_checkpoint

    from app_doubles import make_image

    folder = tmp_path_factory.mktemp("train")
    for i in range(4):
        Image.fromarray(make_image(128, 96, seed=i)).save(folder / f"{i}.png")
    run = tmp_path_factory.mktemp("run")
    cfg = TrainConfig(data=str(folder), out=str(run), steps=10, batch=4, crop=64, log_every=5,
                      checkpoint_every=100, model=TINY_MODEL, threads=1)
    Trainer(cfg).run(progress=False)
    weights = run / "tiny.pt"
    export_checkpoint(run / "last.pt", weights, model_id="progic-tiny-app-test")
    registry.register(registry.CodecSpec.of(
        ProGICCodec, "progic", lambda **o: ProGICCodec(weights=str(weights), **o),
        quality_range=(1, TINY_MODEL["stages"]), default_quality=1, learned=True,
        description="tiny test model"))
    yield "progic"
    registry.unregister("progic")
    jobs._codecs.pop(("progic", "cpu"), None)  # noqa: SLF001


@pytest.mark.parametrize("window", [["progic", "jpeg"]], indirect=True)
def test_paint_roi_encode_save_and_reopen_with_progic(qtbot, progic, window, image_png, tmp_path):
    w = window
    with qtbot.waitSignal(w.document_ready, timeout=20000):
        w.open_path(image_png)
    assert "progic" in w.codec_names()
    w.view.set_zoom(4.0)
    w.view.centerOn(48, 32)
    qtbot.keyClick(w, Qt.Key.Key_G)  # rectangle tool
    qt_input.drag(w.view.viewport(), [w.view.mapFromScene(QPointF(20.5, 16.5)),
                                      w.view.mapFromScene(QPointF(60.5, 40.5))])
    mask = w.roi_editor.mask().copy()
    assert mask.sum() == 25 * 41
    dlg = w.make_encode_dialog()
    dlg.codec_combo.setCurrentIndex(dlg.codec_combo.findData("progic"))
    top = dlg.quality_spin.maximum()
    dlg.quality_spin.setValue(top)
    dlg.background_spin.setValue(1)
    layers = []
    w.decode_runner.partial.connect(lambda _j, p: layers.append(p.layer) if hasattr(p, "layer") else None)
    with qtbot.waitSignal(w.document_ready, timeout=60000):
        w.reencode(dlg.request())
    assert layers == list(range(1, top + 1))
    np.testing.assert_array_equal(w.doc.info.roi, mask)
    assert "Bits inside ROI" in w.roi_editor.bits_label.text()
    assert all(w.layers.metrics(k).get("lpips") is not None for k in layers)
    out = tmp_path / "roi.gic"
    assert w.save_encoded(out)
    f = container.unpack(out.read_bytes())
    np.testing.assert_array_equal(f.roi, mask)
    assert f.header.codec == "progic" and f.header.num_layers == top
    layers.clear()
    with qtbot.waitSignal(w.document_ready, timeout=60000):
        w.open_path(out)
    assert layers == list(range(1, top + 1))
    assert w.doc.info.roi is not None and not w.banner.isVisible()


@pytest.mark.parametrize("window", [["progic", "jpeg"]], indirect=True)
def test_cancel_of_a_large_progic_encode_is_prompt_and_progress_moves(qtbot, progic, window):
    """2048x1536 is six analysis tiles: the bar moves after the first, Cancel ends the job within a
    tile's time (it ran on for 70-90 s of an 8000x6000 encode before)."""
    import time

    from app_doubles import make_image

    w = window
    big = np.tile(make_image(256, 192), (8, 8, 1))  # 2048x1536
    w.open_image(big, "big.png")
    fractions = []
    w.encode_runner.progress.connect(lambda _j, f: fractions.append(f))
    t0 = time.monotonic()
    w.reencode(jobs.EncodeRequest(codec="progic", quality=2))
    qtbot.waitUntil(lambda: bool(fractions), timeout=60000)
    first_tile_s = time.monotonic() - t0
    assert 0 < fractions[0] < 1 and w.progress.value() > 0  # the status bar's bar moved
    t1 = time.monotonic()
    w.cancel_jobs()
    qtbot.waitUntil(lambda: not w.encode_runner.is_busy(), timeout=30000)
    stop_s = time.monotonic() - t1
    assert stop_s < max(3.0, 2 * first_tile_s), (stop_s, first_tile_s)
    assert w.doc.name == "big.png"  # the cancelled encode never opened
