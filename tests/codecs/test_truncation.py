"""Every cut of a file, at every byte, for every codec that writes .gic (issue 24).

A cut file decodes exactly its complete layers (the same pixels as those layers of the whole file)
or, with no complete layer, raises the project's GicFormatError: never another exception, never
other pixels. Small images keep this to a few seconds per codec.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gic.codecs import container, registry
from gic.codecs.errors import GicError, GicFormatError
from gic.codecs.imageio import load_image

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "kodim23_64x48.png"
GIC_CODECS = [s.name for s in registry.specs() if s.extension == ".gic"]


def _codec(name: str):
    try:
        return registry.create(name)
    except GicError as exc:  # weights not installed here
        pytest.skip(f"{name}: {exc}")


@pytest.mark.slow  # 8-25 s a codec on this loaded 2-core machine
@pytest.mark.parametrize("name", GIC_CODECS)
def test_every_truncation_point_decodes_exactly_the_complete_layers(name):
    codec = _codec(name)
    image = np.ascontiguousarray(load_image(SAMPLE)[8:40, 8:56])  # 48x32
    spec = registry.spec(name)
    data = codec.encode(image, spec.quality_range[1])  # the most layers
    full = [p.image for p in codec.decode_progressive(data)]
    for n in range(len(data) + 1):
        cut = data[:n]
        try:
            complete = len(container.unpack(cut).layers)
        except GicFormatError:
            complete = 0
        if complete == 0:
            with pytest.raises(GicFormatError):
                codec.decode(cut)
            with pytest.raises(GicFormatError):
                list(codec.decode_progressive(cut))
            continue
        previews = list(codec.decode_progressive(cut))
        assert len(previews) == min(complete, len(full)), (name, n)
        for k, p in enumerate(previews):
            assert np.array_equal(p.image, full[k]), f"{name}: cut at {n}, layer {k + 1} differs"
        assert np.array_equal(codec.decode(cut), previews[-1].image), (name, n)
