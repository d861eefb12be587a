"""`gic thumbnail IN OUT --size N`: a small PNG of a file, for file managers (freedesktop thumbnailer).

A progressive file's natural thumbnail is its first layers: a picture shown at 1/k of its size
cannot show the detail the later layers add, so only the first ceil(layers * N / longest side)
layers are decoded (at least one), through the codec interface's `decode_progressive`, which
stops there. Other images are decoded whole. No Qt: file managers run this in the background.
"""
from __future__ import annotations

import argparse
import io
import math

MAX_SIZE = 1024  # the freedesktop spec's largest thumbnail is 1024 px ("xx-large")


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of pixels, got {text!r}") from None
    if not 1 <= value <= MAX_SIZE:
        raise argparse.ArgumentTypeError(f"expected 1 to {MAX_SIZE} pixels, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="IN", help=".gic file, or any image file")
    parser.add_argument("output", metavar="OUT", help="PNG file to write (atomically)")
    parser.add_argument("--size", "-s", type=_size, default=256, metavar="N",
                        help="longest side of the thumbnail in pixels (default 256; never enlarged)")


def layers_for(size: int, width: int, height: int, num_layers: int) -> int:
    """How many layers a thumbnail whose longest side is `size` needs: in proportion to the scale."""
    scale = min(1.0, size / max(width, height))
    return max(1, min(num_layers, math.ceil(num_layers * scale)))


def thumbnail_pixels(path: str, size: int):
    """RGB pixels of the file's thumbnail source, and the number of layers decoded (None: not .gic)."""
    from gic.codecs import opening
    from gic.codecs.errors import CodecError

    opened = opening.open_path(path)
    if not opened.is_gic:
        return opened.decode("cpu"), None
    header = opened.gic.header
    want = layers_for(size, header.width, header.height, header.num_layers)  # fewer present: all of them
    image, used = None, 0
    for preview in opened.codec_instance("cpu").decode_progressive(opened.data):
        image, used = preview.image, preview.layer  # a generator: layers past `want` are never decoded
        if preview.layer >= want:
            break
    if image is None:
        raise CodecError(f"{path} holds no layer to decode")
    return image, used


def run(args: argparse.Namespace) -> int:
    from PIL import Image

    from gic.codecs import fileio

    pixels, layers = thumbnail_pixels(args.input, args.size)
    image = Image.fromarray(pixels)
    image.thumbnail((args.size, args.size), Image.Resampling.LANCZOS)  # keeps the aspect, never enlarges
    buf = io.BytesIO()
    image.save(buf, "PNG")
    fileio.write_atomic(args.output, buf.getvalue())
    what = f", {layers} layer{'s' if layers != 1 else ''} decoded" if layers is not None else ""
    print(f"wrote {args.output}: {image.width}x{image.height} thumbnail of {args.input}{what}")
    return 0
