"""One pixel limit, checked by every reader before it allocates (issue 24, defect 3)."""
from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image

from gic.codecs import container, downscaled, imageio, limits, opening
from gic.codecs.classical import JpegCodec, decode_with_pillow
from gic.codecs.errors import CodecError, GicError, GicFormatError


@pytest.fixture(autouse=True)
def _reset_limit(monkeypatch):
    monkeypatch.delenv(limits.ENV, raising=False)
    yield
    limits.set_max_pixels(None)


def forged_png(width: int, height: int) -> bytes:
    """A 1x1 PNG whose header (with a valid CRC) announces width x height."""
    buf = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4: ihdr + 12] = struct.pack(">II", width, height)
    data[ihdr + 17: ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr: ihdr + 17])))
    return bytes(data)


def big_ds_file(factor: int = 15, side: int = 1000) -> bytes:
    """A small DS file (a flat side x side JPEG inside) that upsamples to side*factor squared."""
    inner = JpegCodec()._encode(np.full((side, side, 3), 128, np.uint8), 30)
    return downscaled.MAGIC + bytes([factor, 0]) + inner


def test_default_env_and_override():
    assert limits.max_pixels() == limits.DEFAULT_MAX_PIXELS
    limits.set_max_pixels(1000)
    assert limits.max_pixels() == 1000
    limits.set_max_pixels(None)
    assert limits.max_pixels() == limits.DEFAULT_MAX_PIXELS
    for bad in (0, -5, 2.5, True):
        with pytest.raises(GicError):
            limits.set_max_pixels(bad)


def test_env_variable(monkeypatch):
    monkeypatch.setenv(limits.ENV, "400")
    assert limits.max_pixels() == 400
    with pytest.raises(CodecError, match="over the limit of 400"):
        imageio.decode_image(forged_png(21, 20), "x.png")
    monkeypatch.setenv(limits.ENV, "lots")
    with pytest.raises(GicError, match=limits.ENV):
        limits.max_pixels()


def test_gic_header_over_the_limit_is_refused_before_any_chunk():
    header = container.Header(16384, 16384, "progic", "", b"\0" * 16, 1)
    data = container.pack(header, [b"x"], roi=np.ones((16384, 16384), bool))
    tracemalloc.start()
    try:
        for read in (container.read_header, container.unpack, opening.open_bytes):
            with pytest.raises(GicFormatError, match="over the limit"):
                read(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2 ** 20  # the ROI mask alone would be 256 MiB
    limits.set_max_pixels(2 ** 28)  # raised: the same file opens
    assert container.unpack(data).roi.shape == (16384, 16384)


def test_pillow_formats_are_checked_before_decoding():
    data = forged_png(20000, 20000)  # 400 M pixels: above Pillow's own guard too
    for read in (imageio.decode_image, imageio.probe, imageio.decode_mask):
        with pytest.raises(CodecError, match="over the limit"):
            read(data, "huge.png")
    with pytest.raises(CodecError, match="over the limit"):
        decode_with_pillow(data, "PNG", "png")
    limits.set_max_pixels(10 ** 9)  # raised above Pillow's default guard: ours governs
    assert imageio.probe(data, "huge.png").width == 20000


def test_downscaled_file_is_refused_before_decoding_and_sized_from_headers():
    data = big_ds_file()  # 15000 x 15000 = 225 M pixels once upsampled
    codec = downscaled.codec_for(data)
    t0 = time.perf_counter()
    with pytest.raises(CodecError, match="15000x15000"):
        codec.decode(data)
    with pytest.raises(CodecError, match="over the limit"):
        codec.image_size(data)
    assert time.perf_counter() - t0 < 2.0
    limits.set_max_pixels(10 ** 9)
    assert codec.image_size(data) == (15000, 15000)


def test_downscaled_image_size_matches_decode():
    image = np.random.default_rng(0).integers(0, 255, (37, 53, 3), np.uint8)
    codec = downscaled.DownscaledCodec(JpegCodec(), 4)
    data = codec.encode(image, 50)
    assert codec.image_size(data) == (53, 37)
    assert codec.decode(data).shape == (37, 53, 3)
