"""MCDH fixtures: the shipped weights and a crop of the bundled sample."""
import numpy as np
import pytest
from PIL import Image

from gic.codecs import registry
from gic.resources import path

pytestmark = pytest.mark.skipif(not path("models", "mcdh.pt").exists(), reason="no MCDH weights")


@pytest.fixture(scope="session")
def codec():
    return registry.create("mcdh")


@pytest.fixture(scope="session")
def image():
    with Image.open(path("samples", "kodim23.png")) as im:
        return np.ascontiguousarray(np.asarray(im.convert("RGB"))[128:320, 256:504])  # 192 x 248


@pytest.fixture(scope="session")
def files(codec, image):
    return {q: codec.encode(image, q) for q in (1, 4, 8)}
