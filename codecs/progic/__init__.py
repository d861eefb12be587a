"""ProGIC-style progressive RVQ codec: model, training and the Codec wrapper.

Importing this package is cheap (no torch): it only registers the spec; torch loads when the
codec is created.
"""
from __future__ import annotations

from ..registry import CodecSpec, register

FACTOR = 16  # image pixels per latent position, per axis (here so the codec needs no torch for it)

#: The bundled weights' architecture decides the range: quality = RVQ stages (1..12).
SPEC = CodecSpec(
    name="progic", family="progic",
    description="progressive RVQ generative codec (ProGIC-style); quality = RVQ stages",
    quality_range=(1, 12), default_quality=6, extension=".gic",
    factory="gic.codecs.progic.codec:ProGICCodec",
    learned=True, progressive=True, roi=True, rank=0,
    trainer="gic.codecs.progic.train_command",
)


def register_all() -> bool:
    """Register "progic" if its bundled weights are present (a source checkout always has them)."""
    from gic.resources import path

    if not path("models", "progic-small.pt").exists():
        return False
    register(SPEC)
    return True
