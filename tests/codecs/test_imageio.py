"""Loading image files to RGB uint8 (orientation, alpha, odd modes, bad files) and atomic PNG saves."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gic.codecs import imageio
from gic.codecs.errors import CodecError

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLE = DATA / "kodim23_64x48.png"


def test_loads_the_sample_as_rgb_uint8():
    img = imageio.load_image(SAMPLE)
    assert img.shape == (48, 64, 3) and img.dtype == np.uint8 and img.flags.writeable
    with Image.open(SAMPLE) as im:
        assert np.array_equal(img, np.asarray(im.convert("RGB")))


@pytest.mark.parametrize("orientation,shape", [(1, (48, 64, 3)), (3, (48, 64, 3)), (6, (64, 48, 3)),
                                               (8, (64, 48, 3))])
def test_exif_orientation_is_applied(tmp_path, orientation, shape):
    src = imageio.load_image(SAMPLE)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "rotated.png"
    Image.fromarray(src).save(path, exif=exif)
    img = imageio.load_image(path)
    assert img.shape == shape
    info = imageio.probe(path.read_bytes())
    assert (info.height, info.width) == shape[:2]
    if orientation == 6:  # 90° clockwise to display: the stored first column becomes the top row
        assert np.array_equal(img, np.rot90(src, k=-1))
    if orientation == 3:
        assert np.array_equal(img, src[::-1, ::-1])


def test_alpha_is_flattened_over_white(tmp_path):
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:2, :, 3] = 255  # top half opaque red-ish, bottom half fully transparent
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(path)
    img = imageio.load_image(path)
    assert img.shape == (4, 5, 3)
    assert (img[:2] == [200, 0, 0]).all()
    assert (img[2:] == 255).all()
    loaded = imageio.load_image_info(path)
    assert loaded.alpha_flattened and np.array_equal(loaded.pixels, img)
    rgba[..., 3] = 255
    Image.fromarray(rgba, "RGBA").save(path)
    assert not imageio.load_image_info(path).alpha_flattened  # all opaque: nothing to say
    Image.fromarray(rgba[..., :3]).save(path)
    assert not imageio.load_image_info(path).alpha_flattened


def test_grey_palette_and_16bit_images_become_rgb(tmp_path):
    grey = np.arange(48 * 64, dtype=np.uint32).reshape(48, 64) % 256
    Image.fromarray(grey.astype(np.uint8), "L").save(tmp_path / "g.png")
    assert np.array_equal(imageio.load_image(tmp_path / "g.png")[..., 1], grey)

    deep = (grey * 257).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "d.png")  # uint16 → mode I;16
    img16 = imageio.load_image(tmp_path / "d.png")
    assert img16.dtype == np.uint8 and np.array_equal(img16[..., 0], grey)

    Image.fromarray(imageio.load_image(SAMPLE)).convert("P").save(tmp_path / "p.gif")
    assert imageio.load_image(tmp_path / "p.gif").shape == (48, 64, 3)


@pytest.mark.parametrize("fmt,suffix", [("JPEG", ".jpg"), ("WEBP", ".webp"), ("AVIF", ".avif"),
                                        ("JXL", ".jxl"), ("JPEG2000", ".jp2"), ("BMP", ".bmp"),
                                        ("TIFF", ".tif")])
def test_reads_every_format_the_codecs_write(tmp_path, fmt, suffix):
    path = tmp_path / f"x{suffix}"
    Image.fromarray(imageio.load_image(SAMPLE)).save(path, fmt)
    img = imageio.load_image(path)
    assert img.shape == (48, 64, 3)
    assert imageio.probe(path.read_bytes()).format == fmt


def test_missing_file_is_a_codec_error_naming_it(tmp_path):
    with pytest.raises(CodecError, match="nothere.png"):
        imageio.load_image(tmp_path / "nothere.png")


def test_directory_is_a_codec_error(tmp_path):
    with pytest.raises(CodecError):
        imageio.load_image(tmp_path)


@pytest.mark.parametrize("content", [b"", b"hello, this is text\n", os.urandom(300)])
def test_not_an_image_is_a_codec_error(tmp_path, content):
    path = tmp_path / "fake.png"
    path.write_bytes(content)
    with pytest.raises(CodecError, match="fake.png"):
        imageio.load_image(path)


def test_truncated_image_is_a_codec_error(tmp_path):
    data = SAMPLE.read_bytes()
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CodecError, match="cut.png"):
        imageio.load_image(path)


def test_gic_file_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "x.gic"
    path.write_bytes(b"\x89GIC\r\n\x1a\n" + bytes(40))
    with pytest.raises(CodecError, match="gic decode"):
        imageio.load_image(path)


def test_save_png_round_trips_and_is_atomic(tmp_path, monkeypatch):
    img = imageio.load_image(SAMPLE)
    out = tmp_path / "out.png"
    imageio.save_png(out, img)
    assert np.array_equal(imageio.load_image(out), img)
    before = out.read_bytes()

    # A write that fails at the last step leaves the old file and no temp file behind.
    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(CodecError, match="No space left"):
        imageio.save_png(out, np.zeros((4, 4, 3), np.uint8))
    monkeypatch.undo()
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_save_png_refuses_a_non_image_array(tmp_path):
    with pytest.raises(CodecError):
        imageio.save_png(tmp_path / "x.png", np.zeros((4, 4), np.float32))
    assert not (tmp_path / "x.png").exists()


def test_mask_from_brightness_or_alpha(tmp_path):
    grey = np.zeros((6, 8), np.uint8)
    grey[1:3, 2:5] = 255
    Image.fromarray(grey, "L").save(tmp_path / "m.png")
    mask = imageio.load_mask(tmp_path / "m.png")
    assert mask.dtype == bool and np.array_equal(mask, grey > 0)

    rgba = np.zeros((6, 8, 4), np.uint8)  # black everywhere, the region painted opaque
    rgba[4:, :3, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    assert np.array_equal(imageio.load_mask(tmp_path / "a.png"), rgba[..., 3] > 0)

    with pytest.raises(CodecError, match="nomask.png"):
        imageio.load_mask(tmp_path / "nomask.png")
