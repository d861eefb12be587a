"""The shipped model and the shipped sample agree: the sample .gic (opened by `gic view` with no
arguments) must be re-encoded whenever the weights change, and this test says so."""
from __future__ import annotations

import numpy as np
import pytest

from gic.codecs import container
from gic.codecs.imageio import load_image
from gic.resources import path

WEIGHTS = path("models", "progic-small.pt")
SAMPLE = path("samples", "kodim23.gic")

pytestmark = pytest.mark.skipif(not WEIGHTS.is_file(), reason="no bundled ProGIC model")


def test_bundled_sample_was_made_by_the_bundled_model():
    from gic.codecs.progic.codec import ProGICCodec

    codec = ProGICCodec()
    f = container.unpack(SAMPLE.read_bytes())
    assert (f.header.model_id, f.header.model_hash) == (codec.model_id, codec.loaded.model_hash), (
        "re-encode the sample: gic encode resources/samples/kodim23.png resources/samples/kodim23.gic "
        "--codec progic --quality 12")
    assert not f.partial and len(f.layers) == codec.stages


@pytest.mark.slow
def test_bundled_model_quality_on_the_sample():
    """A loose floor on the shipped weights (LPIPS about 0.145 at 12 stages for v1 to v6): catches
    broken or untrained weights, not small regressions."""
    from gic.codecs.metrics import lpips
    from gic.codecs.progic.codec import ProGICCodec

    original = load_image(path("samples", "kodim23.png"))
    previews = list(ProGICCodec().decode_progressive(SAMPLE.read_bytes()))
    first, last = lpips(original, previews[0].image), lpips(original, previews[-1].image)
    assert last < 0.2 and last < first
    assert np.mean(previews[-1].image) > 10


def test_bundled_model_reads_files_of_the_models_it_replaced():
    """Every earlier shipped model whose bitstream the bundled one kept (`info["decodes"]`) still
    opens: the sample relabelled as made by such a model decodes to the same pixels."""
    import dataclasses

    from gic.codecs.progic.codec import ProGICCodec

    codec = ProGICCodec()
    for shipped in [("progic-small-v1", "9842a2b14e06e1ffb019bb2c8c09b20c"),
                    ("progic-small-v2", "6cb5b8d42887cfd7bd4d39968d5dc942"),
                    ("progic-small-v3", "1e91741bad00b802166b845e3a0addf6"),
                    ("progic-small-v4", "c4b3d9fc7fcbafefa0a91bc9ea46127e"),
                    ("progic-small-v5", "ada8be8e28848e9c60af3442f005a772")]:
        assert (shipped[0], bytes.fromhex(shipped[1])) in codec.loaded.also_decodes
    f = container.unpack(SAMPLE.read_bytes())
    current = codec.decode(SAMPLE.read_bytes())
    for model_id, model_hash in codec.loaded.also_decodes:
        header = dataclasses.replace(f.header, model_id=model_id, model_hash=model_hash)
        old = container.pack(header, f.layers, params=f.params, roi=f.roi, metadata=f.metadata)
        assert np.array_equal(codec.decode(old), current)
