"""The one pixel limit every reader checks before it allocates an image (issue 24, defect 3).

Why: a 142 KB downscaled file announced a 45000x45000 image and a 172 KB .gic file 16384x16384;
reading them allocated gigabytes before anything said no. Every reader (.gic container, the
downscaled format, Pillow formats) compares the size a file announces with this one limit before it
decodes a pixel, as Pillow's decompression-bomb guard does. The default can be raised (or lowered)
with `gic --max-pixels N` or the environment variable GIC_MAX_PIXELS (the viewer reads it too).
"""
from __future__ import annotations

import os

from .errors import GicError

#: 128 Mi pixels (e.g. 16384x8192: 384 MiB as RGB uint8); Pillow refuses at about 179 M by default.
DEFAULT_MAX_PIXELS = 2 ** 27
ENV = "GIC_MAX_PIXELS"

_override: int | None = None


def max_pixels() -> int:
    """The limit in force: set_max_pixels(), else GIC_MAX_PIXELS, else DEFAULT_MAX_PIXELS."""
    if _override is not None:
        return _override
    text = os.environ.get(ENV, "").strip()
    if not text:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise GicError(f"{ENV} must be a positive whole number of pixels, got {text!r}")
    return value


def set_max_pixels(value: int | None) -> None:
    """Set the limit for this process (None: back to GIC_MAX_PIXELS or the default)."""
    global _override
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise GicError(f"the pixel limit must be a positive whole number, got {value!r}")
    _override = value


def check_pixels(width: int, height: int, what: str, error: type[GicError] = GicError) -> None:
    """Raise `error` if a `width` x `height` image is over the limit (call it before allocating)."""
    limit = max_pixels()
    if width * height > limit:
        raise error(f"{what} is {width}x{height} = {width * height:,} pixels, over the limit of "
                    f"{limit:,} (raise it with gic --max-pixels N or {ENV}=N if the file is trusted)")
