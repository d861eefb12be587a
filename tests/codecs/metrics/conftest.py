"""Shared fixtures: the reference images shipped in tests/data/metrics/."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

DATA = Path(__file__).resolve().parents[2] / "data" / "metrics"


def load_rgb(name: str) -> np.ndarray:
    return np.asarray(Image.open(DATA / f"{name}.png").convert("RGB"))


@pytest.fixture(scope="session")
def ref_images() -> dict[str, np.ndarray]:
    return {n: load_rgb(n) for n in ("ex_ref", "ex_p0", "ex_p1", "r0", "r1")}


@pytest.fixture
def textured() -> np.ndarray:
    """A deterministic 'natural-ish' image: smooth gradients plus texture, 200x232."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:200, 0:232]
    base = np.stack([xx * 1.0, yy * 1.2, (xx + yy) * 0.6], axis=-1)
    tex = rng.normal(0, 20, (50, 58, 3)).repeat(4, 0).repeat(4, 1)
    return np.clip(base + tex, 0, 255).astype(np.uint8)


def _degrade(img: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def degrade():
    """`degrade(img, sigma)`: the image with Gaussian noise of that sigma added (deterministic)."""
    return _degrade
