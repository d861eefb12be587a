"""UIGC fixtures: the shipped prior and a small crop of the bundled sample (a 16x12 token grid)."""
import numpy as np
import pytest
from PIL import Image

from gic.codecs import registry
from gic.resources import path

pytestmark = pytest.mark.skipif(not path("models", "uigc-prior.pt").exists(), reason="no UIGC prior")


@pytest.fixture(scope="session")
def codec():
    return registry.create("uigc")


@pytest.fixture(scope="session")
def image():
    with Image.open(path("samples", "kodim23.png")) as im:
        return np.ascontiguousarray(np.asarray(im.convert("RGB"))[128:320, 256:512])
