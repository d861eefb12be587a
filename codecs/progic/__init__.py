"""ProGIC-style progressive RVQ codec: model, training, entropy coding and the Codec wrapper.

Importing this package is cheap; torch loads only when the codec is created.
"""
from __future__ import annotations

from ..registry import register

DESCRIPTION = "progressive RVQ generative codec (ProGIC-style); quality = RVQ stages"


def _factory(**options):
    from .codec import ProGICCodec

    return ProGICCodec(**options)


def register_default() -> bool:
    """Register "progic" if its bundled weights are present (a source checkout always has them)."""
    from gic.resources import path

    if not path("models", "progic-small.pt").exists():
        return False
    register("progic", _factory, DESCRIPTION)
    return True
