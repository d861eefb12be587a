"""The viewer where torch is missing (the torch-free bundle): PSNR is measured, LPIPS is left out
with the reason in the status bar, and the LPIPS heatmap refuses in one line."""
from __future__ import annotations

from gic.codecs import torch_check


def test_quality_without_torch_measures_psnr_and_says_why_lpips_is_missing(qtbot, window, gic_file, image,
                                                                          monkeypatch):
    monkeypatch.setattr(torch_check, "have_torch", lambda: False)
    with qtbot.waitSignal(window.document_ready, timeout=30000):
        window.open_bytes(gic_file.read_bytes(), "sample.gic", original=image, original_name="orig.png")
    values = window.layers.metrics(1)
    assert values.get("psnr") is not None and values.get("lpips") is None
    message = window.statusBar().currentMessage()
    assert "no LPIPS: the metric LPIPS needs PyTorch" in message, message
    window.heatmap_check.setChecked(True)
    qtbot.waitUntil(lambda: not window.heatmap_check.isChecked(), timeout=20000)
    assert "Cannot compute the LPIPS heatmap: the metric LPIPS needs PyTorch" in window.statusBar().currentMessage()
