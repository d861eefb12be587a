"""LPIPS on uint8 arrays: reference values, spatial map, exact tiling, devices, compute()."""
import math

import numpy as np
import pytest
import torch

import gic.codecs.metrics as metrics
from gic.codecs.errors import CodecError
from gic.codecs.metrics import lpips as lpips_mod
from gic.codecs.metrics import weights


def test_reference_values(ref_images):
    assert round(metrics.lpips(ref_images["ex_ref"], ref_images["ex_p0"]), 3) == 0.722
    assert round(metrics.lpips(ref_images["ex_ref"], ref_images["ex_p1"]), 3) == 0.138
    assert metrics.lpips(ref_images["ex_ref"], ref_images["ex_ref"]) == pytest.approx(0.0, abs=1e-7)


def test_map_shape_and_mean(ref_images):
    ref, p0, p1 = ref_images["ex_ref"], ref_images["ex_p0"], ref_images["ex_p1"]
    m0, m1 = metrics.lpips_map(ref, p0), metrics.lpips_map(ref, p1)
    assert m0.shape == ref.shape[:2] and m0.dtype == np.float32
    assert (m0 >= 0).all()
    # The map is the per-layer maps upsampled and summed: its mean tracks the scalar closely.
    assert m0.mean() == pytest.approx(metrics.lpips(ref, p0), rel=0.05)
    assert m1.mean() == pytest.approx(metrics.lpips(ref, p1), rel=0.05)
    assert m0.mean() > m1.mean()


def test_tiling_is_exact(monkeypatch, textured, degrade):
    dist = degrade(textured, 15)
    whole, whole_map = metrics.lpips(textured, dist), metrics.lpips_map(textured, dist)
    # Force 64-px cores: 4x4 windows instead of one pass.
    monkeypatch.setattr(lpips_mod, "TILE_CORE", 64)
    tiled, tiled_map = metrics.lpips(textured, dist), metrics.lpips_map(textured, dist)
    assert tiled == pytest.approx(whole, abs=1e-6)
    np.testing.assert_allclose(tiled_map, whole_map, atol=1e-5)


def test_bad_inputs(ref_images):
    ref = ref_images["ex_ref"]
    with pytest.raises(CodecError):
        metrics.lpips(ref, ref[:32])
    with pytest.raises(CodecError, match="31x31"):
        metrics.lpips(ref[:20, :20], ref[:20, :20])
    with pytest.raises(CodecError):
        metrics.lpips(ref, ref, device="tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_requested_without_cuda(ref_images):
    with pytest.raises(CodecError, match="CUDA"):
        metrics.lpips(ref_images["ex_ref"], ref_images["ex_p0"], device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")
def test_reference_values_cuda(ref_images):
    assert round(metrics.lpips(ref_images["ex_ref"], ref_images["ex_p0"], device="cuda"), 3) == 0.722
    assert round(metrics.lpips(ref_images["ex_ref"], ref_images["ex_p1"], device="cuda"), 3) == 0.138


def test_model_cached_per_device():
    assert lpips_mod.get_model("cpu") is lpips_mod.get_model("cpu")
    assert lpips_mod.get_model("cpu") is not lpips_mod.LPIPS.load("cpu")


def test_compute_keys_and_values(ref_images):
    ref, p1 = ref_images["r0"], ref_images["r1"]
    res = metrics.compute(ref, p1, metrics=("psnr", "ms-ssim", "lpips"))
    assert list(res) == ["psnr", "ms-ssim", "lpips"]
    assert res["psnr"] == pytest.approx(metrics.psnr(ref, p1))
    assert res["ms-ssim"] == pytest.approx(metrics.ms_ssim(ref, p1))
    assert res["lpips"] == pytest.approx(metrics.lpips(ref, p1))
    small = metrics.compute(ref_images["ex_ref"], ref_images["ex_ref"], metrics=("psnr", "ms-ssim"))
    assert small["psnr"] == math.inf and math.isnan(small["ms-ssim"])
    with pytest.raises(CodecError, match="unknown metric"):
        metrics.compute(ref, p1, metrics=("ssim",))
    assert metrics.METRICS == ("psnr", "ms-ssim", "lpips", "dists")


def test_weights_file_checks(tmp_path):
    bogus = tmp_path / "x.pt"
    torch.save({"format": "something else"}, bogus)
    with pytest.raises(CodecError, match="not a converted"):
        weights.read_state_dict(bogus, "lpips-alex-v0.1")
    (tmp_path / "y.pt").write_bytes(b"not a torch file")
    with pytest.raises(CodecError, match="cannot read"):
        weights.read_state_dict(tmp_path / "y.pt", "lpips-alex-v0.1")
    with pytest.raises(CodecError, match="run: do-this"):
        weights.read_state_dict(tmp_path / "missing.pt", "m", "do-this")
