"""`gic thumbnail`: a PNG from the first layers only, the freedesktop thumbnailer's command."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gic.cli import main as cli
from gic.cli import thumbnail as thumbnail_command
from gic.codecs import container, registry
from gic.resources import path

SAMPLE = path("samples", "kodim23.gic")


def _app_doubles():
    """The viewer tests' progressive test codec (a JPEG ladder), loaded by path: tests/app is not
    on sys.path when only tests/cli runs."""
    where = Path(__file__).resolve().parents[1] / "app" / "app_doubles.py"
    spec = importlib.util.spec_from_file_location("app_doubles", where)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_doubles = _app_doubles()
JpegLadderCodec = _doubles.JpegLadderCodec


@pytest.fixture(autouse=True)
def test_codec():
    """Register the double for these tests, then put back whatever was registered before."""
    try:
        previous = registry.spec(_doubles.TEST_CODEC)
    except Exception:  # noqa: BLE001 - not registered
        previous = None
    registry.register(registry.CodecSpec.of(JpegLadderCodec, "test"))
    yield
    if previous is not None:
        registry.register(previous)
    else:
        registry.unregister(_doubles.TEST_CODEC)


@pytest.fixture
def image() -> np.ndarray:
    return _doubles.make_image()


@pytest.fixture
def image_png(tmp_path, image):
    p = tmp_path / "orig.png"
    Image.fromarray(image).save(p)
    return p


@pytest.mark.parametrize("size, expect", [(768, 12), (384, 6), (256, 4), (128, 2), (16, 1), (4000, 12)])
def test_layers_in_proportion_to_scale(size, expect):
    assert thumbnail_command.layers_for(size, 768, 512, 12) == expect


def test_only_the_first_layers_are_decoded(tmp_path, image, monkeypatch):
    """A 96x64, 4-layer file at --size 48 decodes 2 layers; the generator is never pulled further."""
    src = tmp_path / "in.gic"
    src.write_bytes(JpegLadderCodec().encode(image, 4))
    pulled = []
    original = JpegLadderCodec.decode_progressive

    def counting(self, data):
        for preview in original(self, data):
            pulled.append(preview.layer)
            yield preview

    monkeypatch.setattr(JpegLadderCodec, "decode_progressive", counting)
    out = tmp_path / "thumb.png"
    assert cli.main(["thumbnail", str(src), str(out), "--size", "48"]) == 0
    assert pulled == [1, 2]
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == (48, 32)


def test_sample_thumbnail_matches_a_two_layer_decode(tmp_path):
    """The bundled 12-layer ProGIC sample at 128 px: the downscaled 2-layer decode, not the full one."""
    out = tmp_path / "t.png"
    assert cli.main(["thumbnail", str(SAMPLE), str(out), "-s", "128"]) == 0
    two = tmp_path / "two.png"
    assert cli.main(["decode", str(SAMPLE), str(two), "--layers", "2"]) == 0
    with Image.open(two) as im:
        im.thumbnail((128, 128), Image.Resampling.LANCZOS)
        expected = np.asarray(im.convert("RGB"))
    with Image.open(out) as im:
        got = np.asarray(im.convert("RGB"))
    assert got.shape == (85, 128, 3)
    np.testing.assert_array_equal(got, expected)


def test_plain_images_are_scaled_never_enlarged(tmp_path, image_png):
    out = tmp_path / "t.png"
    assert cli.main(["thumbnail", str(image_png), str(out), "--size", "512"]) == 0
    with Image.open(out) as im:
        assert im.size == (96, 64)


def test_a_file_cut_inside_the_first_layer_is_one_error_line(tmp_path, capsys, image):
    data = JpegLadderCodec().encode(image, 4)
    first_end = container.unpack(data).layer_offsets[0]
    bad = tmp_path / "cut.gic"
    bad.write_bytes(data[: first_end - 5])
    out = tmp_path / "t.png"
    assert cli.main(["thumbnail", str(bad), str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gic: error: ")
    assert not out.exists()


@pytest.mark.parametrize("size", ["0", "2000", "big"])
def test_bad_size_is_a_usage_error(tmp_path, capsys, size):
    assert cli.main(["thumbnail", str(SAMPLE), str(tmp_path / "t.png"), "--size", size]) == 2
    assert capsys.readouterr().err.startswith("gic: error: argument --size")
