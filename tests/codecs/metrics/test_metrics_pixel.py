"""PSNR and MS-SSIM against closed-form answers."""
import math

import numpy as np
import pytest

from gic.codecs.errors import CodecError
from gic.codecs.metrics import pixel
from gic.codecs.metrics.pixel import MS_SSIM_WEIGHTS, ms_ssim, psnr


def test_psnr_identical_is_inf(textured):
    assert psnr(textured, textured) == math.inf


def test_psnr_hand_computed():
    ref = np.full((10, 20, 3), 100, np.uint8)
    dist = ref.copy()
    dist[:5] += 10  # half of all samples off by 10 -> MSE 50
    assert psnr(ref, dist) == pytest.approx(10 * math.log10(255**2 / 50), abs=1e-12)
    dist = ref.copy()
    dist[..., 1] -= 3  # one channel off by 3 everywhere -> MSE 3
    assert psnr(ref, dist) == pytest.approx(10 * math.log10(255**2 / 3), abs=1e-12)


def test_psnr_bands_sum_up(degrade, monkeypatch, textured):
    dist = degrade(textured, 9)
    whole = psnr(textured, dist)
    monkeypatch.setattr(pixel, "_BAND", 7)
    assert psnr(textured, dist) == pytest.approx(whole, abs=1e-12)


def _const_ssim(a: float, b: float) -> float:
    c1 = (0.01 * 255) ** 2
    return (2 * a * b + c1) / (a * a + b * b + c1)


def test_ms_ssim_constant_images_closed_form():
    # Constant planes have zero variance: every contrast-structure term is 1 and only the
    # luminance term of the coarsest scale remains, raised to its weight.
    a, b = 120, 90
    ref = np.full((176, 176, 3), a, np.uint8)
    dist = np.full((176, 176, 3), b, np.uint8)
    assert ms_ssim(ref, dist) == pytest.approx(_const_ssim(a, b) ** MS_SSIM_WEIGHTS[-1], abs=1e-12)
    # Averaged over channels: only the red channel differs.
    dist = ref.copy()
    dist[..., 0] = b
    expected = (_const_ssim(a, b) ** MS_SSIM_WEIGHTS[-1] + 2) / 3
    assert ms_ssim(ref, dist) == pytest.approx(expected, abs=1e-12)


def test_ms_ssim_identical_and_monotone(degrade, textured):
    assert ms_ssim(textured, textured) == pytest.approx(1.0, abs=1e-12)
    light, heavy = ms_ssim(textured, degrade(textured, 5)), ms_ssim(textured, degrade(textured, 30))
    assert 0 < heavy < light < 1


def test_ms_ssim_bands_match(degrade, monkeypatch, textured):
    dist = degrade(textured, 12)
    whole = ms_ssim(textured, dist)
    monkeypatch.setattr(pixel, "_BAND", 13)
    assert ms_ssim(textured, dist) == pytest.approx(whole, abs=1e-12)


def test_ms_ssim_kodak_size_and_small_images(degrade):
    rng = np.random.default_rng(3)
    kodak = rng.integers(0, 256, (512, 768, 3), dtype=np.uint8)
    assert 0.9 < ms_ssim(kodak, degrade(kodak, 3)) < 1.0
    small = kodak[:160, :300]
    with pytest.raises(CodecError, match="161x161"):
        ms_ssim(small, small)


@pytest.mark.parametrize(
    "bad",
    [np.zeros((32, 32, 3), np.float32), np.zeros((32, 32), np.uint8), np.zeros((32, 32, 4), np.uint8),
     np.zeros((32, 31, 3), np.uint8), "image.png"],
)
def test_bad_input(bad):
    good = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(CodecError):
        psnr(good, bad)
    with pytest.raises(CodecError):
        ms_ssim(bad, good)
