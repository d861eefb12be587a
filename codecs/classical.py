"""Classical codecs through Pillow: JPEG, WebP, AVIF, JPEG XL, JPEG 2000.

Each writes its own standard file format, the bytes a user would store (no EXIF, no ICC profile:
`Image.fromarray` carries none), so the bpp of the comparison is honest. Encoder effort is fixed
explicitly because it changes both size and time:

- JPEG: libjpeg via Pillow, 4:2:0 chroma subsampling, optimized Huffman tables, baseline.
- WebP: libwebp `method=6` (slowest, smallest files; ~10% slower than the default 4 on Kodak).
- AVIF: libavif `speed=6` (Pillow's default), 4:2:0. speed 4 is ~7x slower for ~3% fewer bytes.
- JPEG XL: libjxl via pillow-jxl-plugin, `effort=7` (libjxl's default). Quality 0-99 (the plugin
  refuses 100 unless lossless).
- JPEG 2000: OpenJPEG via Pillow, irreversible 9/7 wavelet, one quality layer whose compression
  ratio is set from `quality` (see `Jpeg2000Codec`).
"""
from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
from PIL import Image, features

from .base import Codec, ProgressFn
from .errors import CodecError
from .imageio import open_checked, to_rgb
from .registry import CodecSpec, register, register_identifier

try:  # registers the "JXL" format with Pillow
    import pillow_jxl  # noqa: F401

    HAVE_JXL = True
except ImportError:  # pragma: no cover - it is a declared dependency
    HAVE_JXL = False


class PillowCodec(Codec):
    """A codec that is one Pillow image format plus fixed save options."""

    #: Pillow's format name, for both saving and (restricted) opening.
    pillow_format: str = ""

    def __init__(self, **_options: Any) -> None:
        # Options such as device= are accepted and ignored: classical codecs run on the CPU.
        pass

    def _save_options(self, quality: int) -> dict[str, Any]:
        """The keyword arguments passed to Image.save at this quality."""
        raise NotImplementedError

    def _encode(self, image: np.ndarray, quality: int, *, progress: ProgressFn | None = None) -> bytes:
        buf = io.BytesIO()
        try:
            Image.fromarray(image, "RGB").save(buf, self.pillow_format, **self._save_options(quality))
        except (OSError, ValueError, RuntimeError) as exc:
            raise CodecError(f"{self.name} encoder failed: {exc}") from exc
        if progress is not None:
            progress(1.0)
        return buf.getvalue()

    def decode(self, data: bytes, *, progress: ProgressFn | None = None) -> np.ndarray:
        image = decode_with_pillow(data, self.pillow_format, self.name)  # one library call
        if progress is not None:
            progress(1.0)
        return image


def decode_with_pillow(data: bytes, pillow_format: str | None, what: str) -> np.ndarray:
    """Decode bytes of one Pillow format (None: any) to RGB uint8, turning every failure into CodecError.

    Why so broad a catch: Pillow's decoders raise OSError, SyntaxError, ValueError, EOFError,
    struct.error or their own types on malformed input; a caller must only ever see a CodecError.
    """
    if not data:
        raise CodecError(f"cannot decode {what}: no data")
    formats = [pillow_format] if pillow_format else None
    try:
        with open_checked(data, what, formats) as im:
            im.load()
            if im.mode != "RGB":
                im = to_rgb(im)
            return np.array(im, dtype=np.uint8)
    except Image.UnidentifiedImageError:
        raise CodecError(f"not a valid {what} file") from None
    except CodecError:
        raise
    except Exception as exc:  # noqa: BLE001 - see docstring
        raise CodecError(f"cannot decode {what} data: {exc}") from None


class JpegCodec(PillowCodec):
    name = "jpeg"
    description = "JPEG (libjpeg, 4:2:0, optimized Huffman)"
    extension = ".jpg"
    pillow_format = "JPEG"
    quality_range = (1, 95)  # above 95 libjpeg only grows the file
    default_quality = 75

    def _save_options(self, quality: int) -> dict[str, Any]:
        return {"quality": quality, "subsampling": "4:2:0", "optimize": True, "progressive": False}


class WebpCodec(PillowCodec):
    name = "webp"
    description = "WebP lossy (libwebp, method 6)"
    extension = ".webp"
    pillow_format = "WEBP"
    quality_range = (0, 100)
    default_quality = 75

    def _save_options(self, quality: int) -> dict[str, Any]:
        return {"quality": quality, "method": 6, "lossless": False}


class AvifCodec(PillowCodec):
    name = "avif"
    description = "AVIF (libavif, speed 6, 4:2:0)"
    extension = ".avif"
    pillow_format = "AVIF"
    quality_range = (0, 100)
    default_quality = 50

    def _save_options(self, quality: int) -> dict[str, Any]:
        return {"quality": quality, "speed": 6, "subsampling": "4:2:0"}


class JxlCodec(PillowCodec):
    name = "jxl"
    description = "JPEG XL (libjxl, effort 7)"
    extension = ".jxl"
    pillow_format = "JXL"
    quality_range = (0, 99)
    default_quality = 75

    def _save_options(self, quality: int) -> dict[str, Any]:
        return {"quality": quality, "effort": 7, "lossless": False, "use_container": False}


class Jpeg2000Codec(PillowCodec):
    """JPEG 2000 (.jp2). `quality` q sets the target rate geometrically: 0.02 · 1000^(q/100) bpp.

    Why a rate: OpenJPEG is driven by compression ratios, not a quality scale; a geometric map
    gives evenly spaced steps from 0.02 bpp (q=0) to 20 bpp (q=100) and keeps rate increasing
    with quality, which the bpp search relies on. Headers are included in the file size.
    """

    name = "jpeg2000"
    description = "JPEG 2000 (OpenJPEG, 9/7 wavelet, rate from quality)"
    extension = ".jp2"
    pillow_format = "JPEG2000"
    quality_range = (0, 100)
    default_quality = 50

    @staticmethod
    def target_bpp(quality: int) -> float:
        return 0.02 * math.pow(1000.0, quality / 100.0)

    def _save_options(self, quality: int) -> dict[str, Any]:
        ratio = 24.0 / self.target_bpp(quality)  # 24 bits per RGB pixel uncompressed
        return {"quality_mode": "rates", "quality_layers": [ratio], "irreversible": True,
                "no_jp2": False}


#: Magic bytes → codec name, for files that arrive without a name (CLI decode/info).
def identify(data: bytes) -> str | None:
    """The classical codec whose format these bytes start with, or None."""
    head = bytes(data[:16])
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis"):
        return "avif"
    if head[:2] == b"\xff\x0a" or head[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
        return "jxl"
    if head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or head[:4] == b"\xff\x4f\xff\x51":
        return "jpeg2000"
    return None


def available() -> list[type[PillowCodec]]:
    """The classical codecs this Pillow build can actually encode and decode."""
    out: list[type[PillowCodec]] = [JpegCodec]
    if features.check("webp"):
        out.append(WebpCodec)
    if features.check("avif"):
        out.append(AvifCodec)
    if HAVE_JXL:
        out.append(JxlCodec)
    if features.check("jpg_2000"):
        out.append(Jpeg2000Codec)
    return out


#: Front ends suggest the modern formats first (registry.suggested); JPEG is the familiar baseline.
RANKS = {"avif": 10, "webp": 20, "jxl": 30, "jpeg": 40, "jpeg2000": 50}


def spec_of(cls: type[PillowCodec]) -> CodecSpec:
    """A classical codec's spec, read from its class attributes (nothing is built)."""
    return CodecSpec.of(cls, "classical", rank=RANKS.get(cls.name, 100), baseline=cls is JpegCodec)


def register_all() -> None:
    """Register every available classical codec under its name."""
    for cls in available():
        register(spec_of(cls))
    register_identifier(identify)
