"""The registry: every built-in codec is listed, creatable and round-trips through one interface."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gic.codecs import registry
from gic.codecs.base import Codec, Preview
from gic.codecs.errors import CodecError

DATA = Path(__file__).resolve().parents[1] / "data"
NAMES = registry.names()


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    with Image.open(DATA / "kodim23_64x48.png") as im:
        return np.asarray(im.convert("RGB"))


def test_builtins_are_registered_in_a_stable_order():
    for name in ("jpeg", "webp", "avif", "jxl", "jpeg2000", "avif-x2", "avif-x4", "webp-x2"):
        assert name in NAMES
    assert len(set(NAMES)) == len(NAMES)
    # Loading the built-ins again (every names() call does) neither duplicates nor reorders them;
    # other test modules may register doubles after them, so compare the common part.
    again = registry.names()
    assert [n for n in again if n in NAMES] == NAMES
    assert NAMES.index("jpeg") < NAMES.index("webp") < NAMES.index("avif") < NAMES.index("avif-x2")


def test_unknown_codec_is_a_codec_error_listing_the_known_ones():
    with pytest.raises(CodecError, match="unknown codec 'nope'.*jpeg"):
        registry.create("nope")


@pytest.mark.parametrize("name", NAMES)
def test_every_codec_honours_the_interface(name, image):
    codec = registry.create(name, device="cpu")
    assert isinstance(codec, Codec)
    assert codec.name == name
    assert codec.extension.startswith(".") and len(codec.extension) > 1
    lo, hi = codec.quality_range
    assert isinstance(lo, int) and isinstance(hi, int) and lo < hi
    assert lo <= codec.default_quality <= hi
    assert isinstance(codec.progressive, bool) and isinstance(codec.supports_roi, bool)

    data = codec.encode(image)  # default quality
    assert isinstance(data, bytes) and len(data) > 0
    out = codec.decode(data)
    assert out.shape == image.shape and out.dtype == np.uint8

    previews = list(codec.decode_progressive(data))
    assert previews and all(isinstance(p, Preview) for p in previews)
    assert [p.layer for p in previews] == list(range(1, len(previews) + 1))
    assert previews[-1].image.shape == image.shape
    assert previews[-1].bits <= len(data) * 8
    if not codec.progressive:
        assert len(previews) == 1 and np.array_equal(previews[0].image, out)


@pytest.mark.parametrize("name", NAMES)
def test_every_codec_rejects_a_non_rgb_array(name):
    codec = registry.create(name)
    with pytest.raises(CodecError):
        codec.encode(np.zeros((8, 8), np.uint8))
    with pytest.raises(CodecError):
        codec.encode(np.zeros((8, 8, 3), np.float32))


@pytest.mark.parametrize("name", [n for n in NAMES if not registry.create(n).supports_roi])
def test_codecs_without_roi_refuse_a_mask(name, image):
    with pytest.raises(CodecError, match="region of interest"):
        registry.create(name).encode(image, roi=np.ones(image.shape[:2], bool))


@pytest.mark.parametrize("name", NAMES)
def test_every_spec_says_what_its_codec_does(name):
    """Front ends decide from the spec alone, so it must describe the codec it builds."""
    spec = registry.spec(name)
    codec = registry.create(name)
    assert (spec.name, spec.description, spec.extension) == (codec.name, codec.description, codec.extension)
    assert tuple(spec.quality_range) == tuple(codec.quality_range)
    assert spec.default_quality == codec.default_quality
    assert (spec.progressive, spec.roi) == (codec.progressive, codec.supports_roi)
    assert spec.family and isinstance(spec.learned, bool)


def test_suggestions_put_learned_codecs_first_and_the_reference_is_classical():
    ranked = registry.suggested()
    learned = [s.learned for s in ranked]
    assert learned == sorted(learned, reverse=True)
    assert registry.default_name() == ranked[0].name
    assert not registry.spec(registry.reference_name()).learned


def test_registering_a_spec_with_a_bad_default_quality_is_refused():
    spec = registry.CodecSpec(name="bad", family="test", description="", quality_range=(1, 4),
                              default_quality=9, extension=".x", factory=lambda **o: None)
    with pytest.raises(CodecError, match="default quality"):
        registry.register(spec)
    assert "bad" not in registry.names()


def test_quality_labels_cover_the_quality_range_when_given():
    for s in registry.specs():
        lo, hi = s.quality_range
        assert s.quality_labels == () or len(s.quality_labels) == hi - lo + 1, s.name
