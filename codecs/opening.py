"""One way to open a file: sniff .gic / a family's own format / plain image bytes, say what they are.

The CLI (`gic decode`, `info`, `metrics`) and the viewer both open files through `open_bytes` /
`open_path`, so a format gic knows opens the same everywhere, and front ends never import a codec
family to recognise its files.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

import numpy as np

from . import container, fileio
from .base import Codec

#: "gic": a .gic container; "wrapped": a family's own format (a registry reader knows it, e.g. a
#: reduced-resolution file); "image": a standard image file, decoded by Pillow.
Kind = Literal["gic", "wrapped", "image"]


@dataclass
class OpenedFile:
    """Bytes and what they are. `codec` names the codec that decodes them (for a plain image, the
    registered codec of its format, or ""); `gic` is the unpacked container of a .gic file."""

    name: str
    data: bytes
    kind: Kind
    codec: str
    gic: container.GicFile | None = None
    reader: Codec | None = None  # the codec a registry reader returned ("wrapped" files)

    @property
    def is_gic(self) -> bool:
        return self.kind == "gic"

    def codec_instance(self, device: str = "cpu") -> Codec:
        """The codec that decodes these bytes (CodecError naming it if it is not installed)."""
        from . import registry

        if self.reader is not None:
            return self.reader
        if self.kind == "gic":
            return registry.create(self.codec, device=device)
        raise TypeError("a plain image has no gic codec: use decode()")

    def decode(self, device: str = "cpu") -> np.ndarray:
        """The full-quality pixels (every layer a .gic file holds)."""
        from . import imageio

        if self.kind == "image":
            return imageio.decode_image(self.data, self.name)
        return self.codec_instance(device).decode(self.data)

    def format(self) -> str:
        """A short description: 'progic .gic', 'AVIF at 1/2 size', 'PNG'..."""
        from . import imageio

        if self.kind == "gic":
            return f"{self.codec} .gic"
        if self.reader is not None:
            return self.reader.describe_file(self.data)
        return imageio.probe(self.data, self.name).format


def open_bytes(data: bytes, name: str = "file") -> OpenedFile:
    """Recognise bytes: a .gic container (validated, cut files allowed), a downscaled-codec file,
    else an image for Pillow (checked only when decoded or probed)."""
    from . import registry

    if container.is_gic(data):
        gic = container.unpack(data)
        return OpenedFile(name, data, "gic", gic.header.codec, gic)
    reader = registry.reader_for(data)
    if reader is not None:
        return OpenedFile(name, data, "wrapped", reader.name, reader=reader)
    return OpenedFile(name, data, "image", registry.identify(data) or "")


def open_path(path: str | os.PathLike) -> OpenedFile:
    """Read and recognise a file (CodecError "cannot read FILE: reason" if it cannot be read)."""
    return open_bytes(fileio.read_bytes(path), os.fspath(path))
