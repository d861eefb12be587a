"""MCDH: multi-context dual-hyperprior codec (after arXiv 2309.10799), the fidelity (PSNR) family.

Importing this package is cheap (no torch): it only registers the spec when the weights are
installed. The codec runs on ONNX Runtime when the export beside the weights matches them
(`onnx_export`, `learned.runtime`), so encode and decode then never import torch; on torch otherwise.
"""
from __future__ import annotations

from ..registry import CodecSpec, register

SPEC = CodecSpec(
    name="mcdh", family="mcdh",
    description="transformer autoencoder, channel- and spatial-aware hyperpriors, checkerboard local + "
                "global context, gain units (MCDH-style); quality = rate level",
    quality_range=(1, 8), default_quality=5, extension=".gic",
    factory="gic.codecs.mcdh.codec:MCDHCodec",
    learned=True, progressive=False, roi=False, rank=6,
    trainer="gic.codecs.mcdh.train_command",
)


def register_all() -> bool:
    """Register "mcdh" if its weights are present."""
    from gic.resources import path

    if not path("models", "mcdh-small.pt").exists():
        return False
    register(SPEC)
    return True
