"""The MCDH codec: round trips, rate slider, container checks, ROI refusal, thread determinism."""
import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

from gic.codecs import registry
from gic.codecs.errors import CodecError, GicFormatError


def psnr(a, b):
    return 10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b) ** 2))


def test_spec_is_registered_learned_one_layer_without_roi():
    spec = registry.spec("mcdh")
    assert spec.learned and not spec.progressive and not spec.roi
    assert spec.quality_range == (1, 8)


def test_round_trips_at_several_qualities_and_rate_grows_with_quality(codec, image, files):
    sizes, quality = [], []
    for q, data in files.items():
        out = codec.decode(data)
        assert out.shape == image.shape and out.dtype == np.uint8
        assert np.array_equal(out, codec.decode(data))
        assert codec.encode(image, q) == data  # encoding is deterministic too
        sizes.append(len(data))
        quality.append(psnr(out, image))
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert quality[-1] > quality[0]


def test_odd_sizes_round_trip(codec):
    rng = np.random.default_rng(0)
    for h, w in ((1, 1), (17, 33), (70, 20)):
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        assert codec.decode(codec.encode(img, 3)).shape == (h, w, 3)


def test_decoder_finds_the_encoders_latents(codec, image):
    # the decoder's integer path rebuilds exactly the encoder's residual targets
    data = codec.encode(image, 5)
    _, level, y = codec.decode_latent(data)
    assert level == 5
    yg, _, _ = codec.latents(image, 5)
    from gic.codecs.mcdh.fixed import ACT
    assert np.abs(y / (1 << ACT) - yg).max() <= 0.5 + 1e-9 or np.abs(y / (1 << ACT)).max() > 190


def test_passes_in_bands_of_one_row_write_and_read_the_same(codec, image, files, monkeypatch):
    # the default bands cover the test image whole; one-row bands cut every row
    from gic.codecs.mcdh import fixed
    _, _, y = codec.decode_latent(files[4])
    monkeypatch.setattr(fixed, "BAND", 1)
    assert len(codec.loaded.fixed.bands(*y.shape[1:])) == y.shape[1]
    assert codec.encode(image, 4) == files[4]
    assert np.array_equal(codec.decode_latent(files[4])[2], y)


def test_roi_is_refused_clearly(codec, image):
    roi = np.zeros(image.shape[:2], np.uint8)
    roi[:50, :50] = 1
    with pytest.raises(CodecError, match="(?i)roi|region"):
        codec.encode(image, 4, roi=roi)


def test_truncated_files_give_the_projects_error(codec, files):
    # every cut before the end of the one layer chunk (a cut in the IEND trailer after it loses
    # nothing: the container's convention for every codec)
    from gic.codecs import container
    data = files[1]
    end = container.unpack(data).layer_offsets[-1]
    for n in list(range(0, end, max(1, end // 97))) + [end - 1]:
        with pytest.raises(GicFormatError):
            codec.decode(data[:n])
    assert np.array_equal(codec.decode(data[:end]), codec.decode(data))


def test_corrupt_or_foreign_files_give_the_projects_error(codec, files):
    from gic.codecs import container
    data = files[4]
    f = container.unpack(data)
    rng = np.random.default_rng(1)
    for _ in range(20):  # payload bytes flipped (the container's CRC or our symbol check catches it)
        b = bytearray(data)
        i = int(rng.integers(len(b) - len(f.layers[0]) - 8, len(b) - 8))
        b[i] ^= 0xFF
        with pytest.raises(GicFormatError):
            codec.decode(bytes(b))
    for params in ({}, {"level": 0}, {"level": 99}, {"level": "3"}, {"level": 3, "x": 1}):
        bad = container.pack(f.header, f.layers, params=params)
        with pytest.raises(GicFormatError):
            codec.decode(bad)
    # a payload cut short inside a valid container: the range decoder or the symbol check catches it
    with pytest.raises(GicFormatError):
        codec.decode(container.pack(f.header, [f.layers[0][: len(f.layers[0]) // 2]], params=f.params))
    with pytest.raises(GicFormatError):
        codec.decode(b"not a gic file at all")


DECODE_SCRIPT = r"""
import hashlib, sys
import torch
torch.set_num_threads(int(sys.argv[2]))
from gic.codecs import registry
c = registry.create("mcdh")
data = open(sys.argv[1], "rb").read()
_, _, y = c.decode_latent(data)
print(hashlib.sha256(y.tobytes()).hexdigest(), hashlib.sha256(c.decode(data).tobytes()).hexdigest())
"""


@pytest.mark.slow
def test_same_latents_and_pixels_with_one_or_two_threads(files, tmp_path):
    p = tmp_path / "x.gic"
    p.write_bytes(files[4])

    def run(n):
        env = {**os.environ, "OMP_NUM_THREADS": str(n), "OPENBLAS_NUM_THREADS": str(n), "MKL_NUM_THREADS": str(n)}
        return subprocess.run([sys.executable, "-c", DECODE_SCRIPT, str(p), str(n)], env=env, check=True,
                              capture_output=True, text=True, timeout=300).stdout
    assert run(1) == run(2)
