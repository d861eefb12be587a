"""What the fuzzer runs on one input: the readers and the decoders, found through the registry.

Why two targets: reading (the container parser, the downscaled and classical sniffers, `open_bytes`
and the header-only descriptions `gic info` shows) is cheap and must survive millions of inputs;
decoding runs a codec and costs milliseconds, so it gets its own budget. The decoder target first
re-seals the CRCs of whatever chunk structure the input still has (`reseal`): without that almost
every mutation of a .gic file stops at a CRC mismatch and the codecs' own parsers are never reached.

The rule both targets check: only the project's errors (`GicError`: `GicFormatError`,
`CodecError`, ...) may escape; a decoder must return an H x W x 3 uint8 array of the announced size.
Nothing here is imported by the package.
"""
from __future__ import annotations

import struct
import zlib
from typing import Callable

import numpy as np

from gic.codecs import container, opening, registry
from gic.codecs.errors import GicError

#: Exceptions a target may let out: the project's own.
PROJECT_ERRORS: tuple[type[BaseException], ...] = (GicError,)


class BadOutput(AssertionError):
    """A decoder returned something other than the announced H x W x 3 uint8 image."""


def reseal(data: bytes) -> bytes:
    """`data` with the CRC of its .gic header and of every chunk that fits recomputed (other bytes
    unchanged; non-.gic data returned as is). Mirrors the layout in docs/format.md."""
    if not container.is_gic(data):
        return data
    buf = bytearray(data)
    pos = 19  # magic 8, version 2, width 4, height 4, num_layers 1
    for _ in range(2):  # codec name, model id: a length byte then the bytes
        if pos >= len(buf):
            return bytes(buf)
        pos += 1 + buf[pos]
    pos += container.HASH_BYTES
    if pos + 4 > len(buf):
        return bytes(buf)
    buf[pos: pos + 4] = struct.pack("<I", zlib.crc32(bytes(buf[:pos])))
    pos += 4
    while pos + 8 <= len(buf):
        ctype = bytes(buf[pos: pos + 4])
        (length,) = struct.unpack_from("<I", buf, pos + 4)
        end = pos + 8 + length
        if end + 4 > len(buf):
            break
        buf[end: end + 4] = struct.pack("<I", zlib.crc32(bytes(buf[pos + 8: end]), zlib.crc32(ctype)))
        pos = end + 4
    return bytes(buf)


def read(data: bytes) -> None:
    """Everything `gic info` and the viewer do to recognise a file, without decoding pixels."""
    if container.is_gic(data):
        container.read_header(data)
    opened = opening.open_bytes(data)
    opened.format()
    if opened.reader is not None:
        opened.reader.image_size(data)


def _check_image(image: object, size: tuple[int, int] | None) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 \
            or image.shape[2] != 3 or (size is not None and image.shape[:2] != size):
        shape = getattr(image, "shape", None)
        raise BadOutput(f"decoder returned {type(image).__name__} {shape}, expected {size} x 3 uint8")


def decode(data: bytes) -> str:
    """Open the (re-sealed) bytes and decode them with the codec that claims them: every layer of a
    .gic file (progressively, as the viewer does), a wrapped file's reader, or a plain image both
    through Pillow and through the registered codec of its format. Returns what decoded it (the
    codec's name, or "pillow"): the results count how often each decoder got through."""
    data = reseal(data)
    opened = opening.open_bytes(data)
    if opened.is_gic:
        h = opened.gic.header
        codec = opened.codec_instance("cpu")
        for preview in codec.decode_progressive(data):
            _check_image(preview.image, (h.height, h.width))
        return opened.codec
    if opened.kind == "wrapped":
        w, h = opened.reader.image_size(data)
        _check_image(opened.decode(), (h, w))
        return opened.codec
    _check_image(opened.decode(), None)
    if opened.codec:  # the classical codec of this format decodes it too (its own error wrapping)
        _check_image(registry.create(opened.codec).decode(data), None)
    return opened.codec or "pillow"


TARGETS: dict[str, Callable[[bytes], object]] = {"reader": read, "decoder": decode}
