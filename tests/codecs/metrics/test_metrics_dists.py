"""DISTS: reference value at full resolution, exact tiling, and the missing-weights message."""
import numpy as np
import pytest
import torch

import gic.codecs.metrics as metrics
from gic.codecs.errors import CodecError
from gic.codecs.metrics import dists as dists_mod
from gic.codecs.metrics import weights

needs_weights = pytest.mark.skipif(
    not weights.dists_path().is_file(),
    reason=f"DISTS weights not converted; run: {weights.DISTS_SETUP_COMMAND}",
)


@needs_weights
@pytest.mark.slow
def test_reference_value(ref_images):
    # dingkeyan93/DISTS reference: DISTS(r0, r1) = 0.3347 (256x256, so no resize question).
    assert round(metrics.dists(ref_images["r0"], ref_images["r1"]), 4) == 0.3347
    assert metrics.dists(ref_images["r0"], ref_images["r0"]) == pytest.approx(0.0, abs=1e-6)


@needs_weights
@pytest.mark.slow
def test_module_matches_reference(ref_images):
    model = dists_mod.get_model("cpu")
    to = lambda a: torch.from_numpy(a.copy()).permute(2, 0, 1)[None].float() / 255  # noqa: E731
    with torch.inference_mode():
        d = model(torch.cat([to(ref_images["r0"])] * 2), torch.cat([to(ref_images["r1"]), to(ref_images["r0"])]))
    assert d.shape == (2,)
    assert round(d[0].item(), 4) == 0.3347 and abs(d[1].item()) < 1e-5
    # Differentiable w.r.t. the input (used as a loss), weights frozen.
    x = to(ref_images["r0"][:48, :48]).requires_grad_(True)
    model(x, to(ref_images["r1"][:48, :48])).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert all(not p.requires_grad for p in model.parameters())


@needs_weights
@pytest.mark.slow
def test_tiling_is_exact(monkeypatch, ref_images):
    ref, dist = ref_images["r0"][:176, :160], ref_images["r1"][:176, :160]
    whole = metrics.dists(ref, dist)
    assert dists_mod._core_for(176, 160) >= 176  # small enough for one window by default
    monkeypatch.setattr(dists_mod, "TILE_CORE", 64)
    monkeypatch.setattr(dists_mod, "SINGLE_WINDOW_PIXELS", 0)  # tiles even for an image this small
    assert metrics.dists(ref, dist) == pytest.approx(whole, abs=1e-9)


@needs_weights
def test_compute_all_keys(ref_images):
    res = metrics.compute(ref_images["r0"], ref_images["r1"])
    assert list(res) == ["psnr", "ms-ssim", "lpips", "dists"]
    assert round(res["dists"], 4) == 0.3347
    assert all(np.isfinite(v) for v in res.values())


def test_missing_weights_names_the_command(monkeypatch, tmp_path, ref_images):
    monkeypatch.setenv(weights.WEIGHTS_DIR_ENV, str(tmp_path))
    weights.clear_cache()
    try:
        with pytest.raises(CodecError) as err:
            metrics.dists(ref_images["r0"], ref_images["r1"])
    finally:
        weights.clear_cache()
    msg = str(err.value)
    assert "\n" not in msg and weights.DISTS_SETUP_COMMAND in msg and str(tmp_path) in msg
