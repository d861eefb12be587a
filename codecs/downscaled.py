"""A classical codec run at reduced resolution, so it reaches the 0.03-0.1 bpp learned codecs target.

At such rates AVIF/WebP at full size either cannot go that low or fall apart; coding a 2x or 4x
smaller image and upsampling it (Lanczos) is the fair classical baseline.

Bytes: a 4-byte prefix, then the inner codec's file unchanged (the prefix counts toward the rate):

    b"DS"  magic
    1 byte  scale factor f (2..15)
    1 byte  (dh << 4) | dw  where the original size is (small_w * f - dw) x (small_h * f - dh)

so `decode` restores the exact original size without a model of the inner format.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from .base import Codec, ProgressFn, part, report
from .classical import PillowCodec, available, identify
from .errors import CodecError
from .imageio import open_checked
from .limits import check_pixels

MAGIC = b"DS"
PREFIX_LEN = 4
MAX_FACTOR = 15  # the remainders must fit in 4 bits each

#: The variants registered by default: (inner codec name, factor).
VARIANTS = [("avif", 2), ("avif", 4), ("webp", 2), ("webp", 4), ("jxl", 2), ("jxl", 4),
            ("jpeg", 2), ("jpeg", 4)]


class DownscaledCodec(Codec):
    """Downsample by `factor` (Lanczos), encode with `inner`, decode, upsample back (Lanczos)."""

    def __init__(self, inner: PillowCodec, factor: int, **_options: Any) -> None:
        if not 2 <= factor <= MAX_FACTOR:
            raise CodecError(f"downscale factor must be in [2, {MAX_FACTOR}], got {factor}")
        self.inner = inner
        self.factor = int(factor)
        self.name = f"{inner.name}-x{factor}"
        self.description = f"{inner.description}, at 1/{factor} resolution, Lanczos upsampling"
        self.extension = f"{inner.extension}-x{factor}"
        self.quality_range = inner.quality_range
        self.default_quality = inner.default_quality

    def _encode(self, image: np.ndarray, quality: int, *, progress: ProgressFn | None = None) -> bytes:
        h, w = image.shape[:2]
        f = self.factor
        sw, sh = -(-w // f), -(-h // f)  # ceil: every original pixel is covered
        small = np.asarray(Image.fromarray(image, "RGB").resize((sw, sh), Image.Resampling.LANCZOS))
        body = self.inner._encode(np.ascontiguousarray(small), quality, progress=progress)
        dw, dh = sw * f - w, sh * f - h
        return MAGIC + bytes([f, (dh << 4) | dw]) + body

    # -- what a registry reader's codec tells gic.codecs.opening about its files ---------------
    def stored_image(self, data: bytes) -> bytes:
        """The standard image file inside (at reduced size)."""
        return bytes(data[PREFIX_LEN:])

    def describe_file(self, data: bytes) -> str:
        from .imageio import probe

        return f"{probe(self.stored_image(data), self.name).format} at 1/{parse_prefix(data)[0]} size"

    def image_size(self, data: bytes) -> tuple[int, int]:
        """(width, height) that `decode` returns, from the headers alone, checked against the
        pixel limit (a 142 KB file once announced 45000x45000 and cost 11.6 GB to find out)."""
        factor, dw, dh = parse_prefix(data)
        try:
            with open_checked(self.stored_image(data), self.name) as im:
                sw, sh = im.size  # the stored orientation: decode upsamples what Pillow decodes
        except CodecError:
            raise
        except Exception as exc:  # noqa: BLE001 - Pillow's openers raise many types on bad data
            raise CodecError(f"cannot read the {self.name} image inside: {exc}") from None
        w, h = sw * factor - dw, sh * factor - dh
        if w < 1 or h < 1:
            raise CodecError("corrupt downscaled-codec prefix")
        check_pixels(w, h, f"the upsampled image of this {self.name} file", CodecError)
        return w, h

    def decode(self, data: bytes, *, progress: ProgressFn | None = None) -> np.ndarray:
        """Progress: the inner decode is the first half, the upsampling the second (a coarse split:
        each is one library call, so a cancel takes effect between them)."""
        factor, dw, dh = parse_prefix(data)
        if factor != self.factor:
            raise CodecError(f"file was downscaled by {factor}, this codec is {self.name}")
        w, h = self.image_size(data)  # before the inner image is decoded or upsampled
        small = self.inner.decode(self.stored_image(data), progress=part(progress, 0.0, 0.5))
        if small.shape[:2] != (-(-h // factor), -(-w // factor)):
            raise CodecError(f"{self.name} file decodes to another size than its header says")
        report(progress, 0.5)
        image = _upsample(small, factor, dw, dh)
        if progress is not None:
            progress(1.0)
        return image


def parse_prefix(data: bytes) -> tuple[int, int, int]:
    """(factor, dw, dh) from the prefix; CodecError if it is not a downscaled file."""
    if len(data) < PREFIX_LEN or bytes(data[:2]) != MAGIC:
        raise CodecError("not a downscaled-codec file (missing 'DS' prefix)")
    factor, packed = data[2], data[3]
    dw, dh = packed & 0x0F, packed >> 4
    if not 2 <= factor <= MAX_FACTOR or dw >= factor or dh >= factor:
        raise CodecError("corrupt downscaled-codec prefix")
    return factor, dw, dh


def _upsample(small: np.ndarray, factor: int, dw: int, dh: int) -> np.ndarray:
    sh, sw = small.shape[:2]
    w, h = sw * factor - dw, sh * factor - dh
    if w < 1 or h < 1:
        raise CodecError("corrupt downscaled-codec prefix")
    return np.asarray(Image.fromarray(small, "RGB").resize((w, h), Image.Resampling.LANCZOS))


def is_downscaled(data: bytes) -> bool:
    """True if the bytes look like a DownscaledCodec file (prefix + a known classical format)."""
    return len(data) > PREFIX_LEN and bytes(data[:2]) == MAGIC and identify(data[PREFIX_LEN:]) is not None


def codec_for(data: bytes) -> DownscaledCodec:
    """A codec that decodes this downscaled file, whatever inner format and factor it used."""
    factor, _, _ = parse_prefix(data)
    inner_name = identify(data[PREFIX_LEN:])
    by_name = {cls.name: cls for cls in available()}
    if inner_name not in by_name:
        raise CodecError("downscaled file holds an unknown or unsupported inner format")
    return DownscaledCodec(by_name[inner_name](), factor)


def read(data: bytes) -> DownscaledCodec | None:
    """The codec of a downscaled file (any inner format and factor), or None for other bytes."""
    return codec_for(data) if is_downscaled(data) else None


def register_all() -> None:
    """Register the default variants whose inner codec is available."""
    from .registry import CodecSpec, register, register_reader

    register_reader(read)
    by_name = {cls.name: cls for cls in available()}
    for inner_name, factor in VARIANTS:
        if inner_name not in by_name:
            continue
        cls = by_name[inner_name]

        def factory(_cls: type[PillowCodec] = cls, _f: int = factor, **options: Any) -> DownscaledCodec:
            return DownscaledCodec(_cls(), _f)

        register(CodecSpec(name=f"{inner_name}-x{factor}", family="downscaled",
                           description=f"{cls.description}, at 1/{factor} resolution, Lanczos upsampling",
                           quality_range=tuple(cls.quality_range), default_quality=cls.default_quality,
                           extension=f"{cls.extension}-x{factor}", factory=factory, rank=200 + factor))
