"""Classical codecs (Pillow) and their reduced-resolution variants: real formats, honest rates."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gic.codecs import classical, downscaled, registry
from gic.codecs.base import bits_per_pixel
from gic.codecs.errors import CodecError, GicError

DATA = Path(__file__).resolve().parents[1] / "data"
FULL = [cls.name for cls in classical.available()]
SCALED = [f"{n}-x{f}" for n, f in downscaled.VARIANTS if n in FULL]
PILLOW_FORMAT = {"jpeg": "JPEG", "webp": "WEBP", "avif": "AVIF", "jxl": "JXL", "jpeg2000": "JPEG2000"}


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    with Image.open(DATA / "kodim23_64x48.png") as im:
        return np.asarray(im.convert("RGB"))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def resample_only(image: np.ndarray, f: int) -> np.ndarray:
    """What the downscaled codecs would give with a lossless inner codec."""
    h, w = image.shape[:2]
    small = Image.fromarray(image).resize((-(-w // f), -(-h // f)), Image.Resampling.LANCZOS)
    return np.asarray(small.resize((w, h), Image.Resampling.LANCZOS))


def test_all_expected_formats_are_available():
    # This machine's Pillow has every one of them; a missing one would silently shrink the benchmark.
    assert set(FULL) == {"jpeg", "webp", "avif", "jxl", "jpeg2000"}


@pytest.mark.parametrize("name", FULL)
def test_full_resolution_round_trip(image, name):
    codec = registry.create(name)
    data = codec.encode(image, codec.quality_range[1])
    out = codec.decode(data)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert psnr(image, out) > 35.0


@pytest.mark.parametrize("name", FULL)
def test_writes_the_real_file_format_and_nothing_extra(image, name):
    codec = registry.create(name)
    data = codec.encode(image, codec.default_quality)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == PILLOW_FORMAT[name]
        assert im.size == (image.shape[1], image.shape[0])
        assert "exif" not in im.info
        if name == "jxl":
            # A bare codestream, no container boxes; libjxl synthesizes an sRGB ICC profile on
            # decode from the few bits of colour encoding in the codestream.
            assert data[:2] == b"\xff\x0a"
        else:
            assert "icc_profile" not in im.info
    assert classical.identify(data) == name
    assert codec.extension.startswith(".")


@pytest.mark.parametrize("name", FULL + SCALED)
def test_rate_grows_with_quality(image, name):
    codec = registry.create(name)
    lo, hi = codec.quality_range
    sizes = [len(codec.encode(image, q)) for q in (lo, (lo + hi) // 2, hi)]
    assert sizes[0] <= sizes[1] <= sizes[2]
    assert sizes[0] < sizes[2]


@pytest.mark.parametrize("name", FULL + SCALED)
def test_encode_to_bpp_picks_the_closest_quality(image, name):
    codec = registry.create(name)
    lo, hi = codec.quality_range
    r_lo = bits_per_pixel(len(codec.encode(image, lo)), image.shape)
    r_hi = bits_per_pixel(len(codec.encode(image, hi)), image.shape)
    target = (r_lo * r_hi) ** 0.5
    data, q = codec.encode_to_bpp(image, target)
    got = bits_per_pixel(len(data), image.shape)
    assert data == codec.encode(image, q)  # deterministic, and the returned quality is the one used
    for nq in (q - 1, q + 1):  # no neighbouring quality is closer to the target
        if lo <= nq <= hi:
            other = bits_per_pixel(len(codec.encode(image, nq)), image.shape)
            assert abs(got - target) <= abs(other - target) + 1e-9
    assert abs(got - target) / target < 0.35
    assert codec.encode(image, bpp=target) == data


@pytest.mark.parametrize("name", SCALED)
def test_downscaled_round_trip_keeps_odd_sizes(image, name):
    codec = registry.create(name)
    odd = np.ascontiguousarray(image[:47, :63])
    data = codec.encode(odd, codec.quality_range[1])
    assert data[:2] == downscaled.MAGIC
    out = codec.decode(data)
    assert out.shape == odd.shape and out.dtype == np.uint8
    # At its top quality the inner codec adds little to the loss of resampling itself.
    factor = codec.factor
    assert psnr(odd, out) > psnr(odd, resample_only(odd, factor)) - 1.5
    sniffed = downscaled.codec_for(data)
    assert sniffed.name == name and np.array_equal(sniffed.decode(data), out)


def test_downscaled_reaches_low_rates_full_resolution_cannot():
    # A smooth 256x192 image: AVIF at full size bottoms out; at 1/4 size it reaches 0.05 bpp.
    yy, xx = np.mgrid[0:192, 0:256]
    smooth = np.stack([xx, yy, (xx + yy) // 2], axis=-1).astype(np.uint8)
    full = registry.create("avif")
    small = registry.create("avif-x4")
    assert bits_per_pixel(len(small.encode(smooth, 0)), smooth.shape) < \
        bits_per_pixel(len(full.encode(smooth, 0)), smooth.shape)
    data, _ = small.encode_to_bpp(smooth, 0.05)
    assert bits_per_pixel(len(data), smooth.shape) < 0.08


@pytest.mark.parametrize("name", FULL)
def test_garbage_and_truncated_data_raise_codec_error(image, name):
    codec = registry.create(name)
    data = codec.encode(image, codec.default_quality)
    for bad in (b"", b"not an image at all", data[: len(data) // 2], data[:20]):
        with pytest.raises(CodecError):
            codec.decode(bad)


def test_a_file_of_another_format_is_refused(image):
    webp = registry.create("webp").encode(image, 50)
    with pytest.raises(CodecError, match="JPEG|jpeg"):
        registry.create("jpeg").decode(webp)


@pytest.mark.parametrize("name", FULL + SCALED[:1])
def test_quality_outside_the_range_is_refused(image, name):
    codec = registry.create(name)
    lo, hi = codec.quality_range
    for q in (lo - 1, hi + 1, 50.5):
        with pytest.raises(CodecError, match="quality"):
            codec.encode(image, q)


def test_bad_downscaled_prefix_is_refused(image):
    codec = registry.create("webp-x2")
    data = codec.encode(image, 50)
    with pytest.raises(CodecError):
        codec.decode(b"DS" + bytes([1, 0]) + data[4:])  # factor 1 is not a downscale
    with pytest.raises(CodecError):
        codec.decode(b"DS" + bytes([2, 0x22]) + data[4:])  # remainders must be < factor
    with pytest.raises(CodecError):
        codec.decode(data[4:])  # the bare inner file
    with pytest.raises(CodecError):
        registry.create("webp-x4").decode(data)  # another factor
    with pytest.raises(GicError):
        downscaled.codec_for(b"DS\x02\x00garbage")


def test_factories_accept_and_ignore_device_and_other_options(image):
    for name in FULL + SCALED:
        codec = registry.create(name, device="cuda", model="whatever")
        assert codec.name == name


def test_jpeg2000_quality_maps_to_rate_monotonically():
    rates = [classical.Jpeg2000Codec.target_bpp(q) for q in range(0, 101)]
    assert rates[0] == pytest.approx(0.02) and rates[-1] == pytest.approx(20.0)
    assert all(a < b for a, b in zip(rates, rates[1:]))


def test_jpeg2000_hits_its_rate_on_a_kodak_sized_image():
    # Headers dominate on tiny images; on 512x384 the file lands close to the mapped rate.
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:384, 0:512]
    img = np.stack([xx // 2, yy // 2, (xx ^ yy) & 255], axis=-1).astype(np.uint8)
    img = np.clip(img + rng.integers(-20, 20, img.shape), 0, 255).astype(np.uint8)
    codec = classical.Jpeg2000Codec()
    q = 50
    got = bits_per_pixel(len(codec.encode(img, q)), img.shape)
    assert got == pytest.approx(codec.target_bpp(q), rel=0.15)
