"""Reading any image file into the RGB uint8 array every codec takes, and writing PNGs safely.

Why a module of its own: the CLI, the app and the benchmark must all see the same pixels for the
same file (EXIF rotation applied, alpha flattened the same way), or their numbers disagree.
"""
from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from .base import check_image
from .errors import CodecError, GicError
from .fileio import read_bytes, write_atomic
from .limits import ENV, check_pixels, max_pixels
from .names import IMAGE_SUFFIXES

try:  # registers JPEG XL with Pillow so .jxl files open like any other
    import pillow_jxl  # noqa: F401
except ImportError:  # pragma: no cover - a declared dependency
    pass

#: Transparent pixels are composited over this colour (white, as browsers show them on a page).
BACKGROUND = (255, 255, 255)


@dataclass(frozen=True)
class ImageInfo:
    """What a file is, without decoding its pixels."""

    format: str  # Pillow's format name, e.g. "PNG", "JPEG", "WEBP"
    width: int
    height: int
    mode: str  # Pillow mode of the stored data, e.g. "RGB", "RGBA", "L"
    num_bytes: int

    @property
    def bpp(self) -> float:
        return self.num_bytes * 8.0 / (self.width * self.height)


def to_rgb(im: Image.Image) -> Image.Image:
    """RGB version of an image of any mode; alpha is composited over BACKGROUND."""
    if im.mode == "RGB":
        return im
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if im.mode.startswith("I;16") or im.mode == "I":
        # 16-bit greyscale: keep the top 8 bits rather than clipping everything above 255 to white.
        arr = np.asarray(im, dtype=np.uint32) >> 8
        return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L").convert("RGB")
    if im.mode == "F":
        arr = np.asarray(im, dtype=np.float32)
        scale = 255.0 if arr.size and float(np.nanmax(arr)) <= 1.0 else 1.0
        arr = np.clip(np.nan_to_num(arr) * scale + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(arr, "L").convert("RGB")
    return im.convert("RGB")


def open_checked(data: bytes, name: str, formats: list[str] | None = None) -> Image.Image:
    """Image.open (header only) with gic's pixel limit in place of Pillow's own guard: a file
    announcing more pixels than `limits.max_pixels()` is a CodecError before any pixel is decoded.
    Pillow's exceptions pass through (callers turn them into their CodecError)."""
    limit = max_pixels()
    if Image.MAX_IMAGE_PIXELS != limit:  # Pillow errors above twice its limit: keep ours in force
        Image.MAX_IMAGE_PIXELS = limit
    with warnings.catch_warnings():  # its warning between 1x and 2x: we refuse those ourselves
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=formats)
        except Image.DecompressionBombError:  # over twice the limit: Pillow says so first
            raise CodecError(f"{name} announces more than twice the pixel limit: over the limit of "
                             f"{limit:,} (raise it with gic --max-pixels N or {ENV}=N if the file "
                             "is trusted)") from None
    try:
        check_pixels(*im.size, name, CodecError)
    except CodecError:
        im.close()
        raise
    return im


def _open(data: bytes, name: str) -> Image.Image:
    if not data:
        raise CodecError(f"{name} is empty")
    if data[:8] == b"\x89GIC\r\n\x1a\n":
        raise CodecError(f"{name} is a .gic file, not an image: decode it first (gic decode)")
    try:
        return open_checked(data, name)
    except CodecError:
        raise
    except Image.UnidentifiedImageError:
        raise CodecError(f"{name} is not an image file (or its format is not supported)") from None
    except Image.DecompressionBombError as exc:
        raise CodecError(f"{name} is too large to open safely: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - Pillow's openers raise many types on bad data
        raise CodecError(f"cannot open {name}: {exc}") from None


@dataclass(frozen=True)
class LoadedImage:
    """Decoded pixels and what the conversion to RGB did that a user should be told."""

    pixels: np.ndarray  # HxWx3 uint8
    alpha_flattened: bool  # it had transparent pixels, composited over BACKGROUND


def has_transparency(im: Image.Image) -> bool:
    """True if any pixel is not fully opaque (an alpha channel that is all 255 changes nothing)."""
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info):
        return int(np.asarray(im.convert("RGBA"))[..., 3].min()) < 255
    return False


def alpha_note(name: str) -> str:
    """The one line that says what happened to an image's transparency (CLI and viewer alike)."""
    r, g, b = BACKGROUND
    return (f"{name} has transparency: alpha is flattened onto white (RGB {r},{g},{b}) "
            "before encoding; codecs store RGB only")


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """Decode the bytes of an image file (any format Pillow reads) to HxWx3 uint8.

    EXIF orientation is applied, alpha is flattened over white, animated files give their first
    frame. Any failure is a CodecError naming `name`.
    """
    return decode_image_info(data, name).pixels


def decode_image_info(data: bytes, name: str = "image") -> LoadedImage:
    """decode_image, also saying whether transparency was flattened (so front ends can tell)."""
    im = _open(data, name)
    try:
        with im:
            im.load()
            im = ImageOps.exif_transpose(im)
            return LoadedImage(np.array(to_rgb(im), dtype=np.uint8), has_transparency(im))
    except CodecError:
        raise
    except Image.DecompressionBombError as exc:
        raise CodecError(f"{name} is too large to open safely: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - truncated/corrupt data: OSError, SyntaxError, ...
        raise CodecError(f"cannot decode {name}: {exc}") from None


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Load an image file as RGB uint8 (see decode_image); missing/unreadable files → CodecError."""
    return decode_image(read_bytes(path), os.fspath(path))


def load_image_info(path: str | os.PathLike) -> LoadedImage:
    """load_image, also saying whether transparency was flattened (see decode_image_info)."""
    return decode_image_info(read_bytes(path), os.fspath(path))


def decode_mask(data: bytes, name: str = "mask") -> np.ndarray:
    """An ROI mask from an image file: HxW bool, True inside the region of interest.

    A mask with transparency marks the region by its opaque pixels (alpha > 127), as painted in
    an editor layer; otherwise by its bright pixels (luminance > 127), black being background.
    """
    im = _open(data, name)
    try:
        with im:
            im.load()
            im = ImageOps.exif_transpose(im)
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                alpha = np.asarray(im.convert("RGBA"))[..., 3]
                if alpha.min() < 255:
                    return alpha > 127
            return np.asarray(to_rgb(im).convert("L")) > 127
    except CodecError:
        raise
    except Exception as exc:  # noqa: BLE001 - as in decode_image
        raise CodecError(f"cannot decode {name}: {exc}") from None


def load_mask(path: str | os.PathLike) -> np.ndarray:
    """Load an ROI mask file (see decode_mask)."""
    return decode_mask(read_bytes(path), os.fspath(path))


def probe(data: bytes, name: str = "image") -> ImageInfo:
    """Format, size and mode of an image file from its header (pixels are not decoded)."""
    with _open(data, name) as im:
        w, h = im.size
        try:
            orientation = im.getexif().get(0x0112, 1)
        except Exception:  # noqa: BLE001 - a damaged EXIF block only loses the rotation
            orientation = 1
        if orientation in (5, 6, 7, 8):  # rotated by 90°: report the size decode_image returns
            w, h = h, w
        return ImageInfo(format=im.format or "unknown", width=w, height=h, mode=im.mode,
                         num_bytes=len(data))


def encode_png(image: np.ndarray) -> bytes:
    """Lossless PNG bytes of an RGB uint8 image (no metadata)."""
    image = check_image(image)
    buf = io.BytesIO()
    # zlib level 4, not 6: measured on decoded kodim23 (768x512), 0.11 s vs 0.5 s on a loaded core
    # for a file 0.25% larger (a third of a cold `gic decode` was level 6's longer match search)
    Image.fromarray(image, "RGB").save(buf, "PNG", compress_level=4)
    return buf.getvalue()


def save_png(path: str | os.PathLike, image: np.ndarray) -> None:
    """Write an RGB uint8 image as PNG atomically: an existing file is replaced only on success."""
    write_atomic(path, encode_png(image))


def is_image_path(path: str | os.PathLike) -> bool:
    """True if the name says picture (IMAGE_SUFFIXES): opened as an original, listed in folders."""
    return os.path.splitext(os.fspath(path))[1].lower() in IMAGE_SUFFIXES


def list_images(folder: str | os.PathLike, limit: int | None = None,
                error: type[GicError] = CodecError) -> list["Path"]:
    """Image files directly inside `folder`, sorted by name (reproducible); the first `limit` if given.

    Raises `error` (a GicError) for a missing folder, a folder without images, or a bad limit.
    """
    from pathlib import Path

    folder = Path(folder)
    if not folder.is_dir():
        raise error(f"image folder {folder} does not exist")
    found = sorted(p for p in folder.iterdir() if p.is_file() and is_image_path(p))
    if not found:
        raise error(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {folder}")
    if limit is not None:
        if limit < 1:
            raise error(f"--limit must be at least 1, got {limit}")
        found = found[:limit]
    return found
