import numpy as np
import pytest
from PIL import Image


def make_image(seed: int, w: int = 192, h: int = 176) -> np.ndarray:
    """A small natural-ish picture: smooth gradients, edges and some noise, so codecs behave."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([128 + 90 * np.sin(x / (9 + seed)), 128 + 90 * np.cos(y / 13),
                    (x + y) * 255 / (w + h)], -1)
    img[h // 3: h // 2, w // 4: w // 2] = [230, 40, 40]
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture
def image_dir(tmp_path):
    d = tmp_path / "images"
    d.mkdir()
    for i in range(2):
        Image.fromarray(make_image(i)).save(d / f"im{i}.png")
    (d / "notes.txt").write_text("not an image")
    return d
