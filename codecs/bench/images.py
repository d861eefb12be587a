"""Finding and loading the benchmark's images, and the fixed-size image the speed table uses."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .. import imageio
from ..imageio import load_image
from .records import BenchError

SPEED_SIZE = (768, 512)  # width, height: a Kodak frame, the size results are usually quoted at


def list_images(folder: Path, limit: int | None = None) -> list[Path]:
    """Image files directly inside `folder`, sorted by name; the first `limit` if given."""
    return imageio.list_images(folder, limit, error=BenchError)


def load_rgb(path: Path) -> np.ndarray:
    """An image file as RGB uint8 HxWx3, read the way the rest of gic reads it."""
    return load_image(path)


def speed_image(image: np.ndarray, size: tuple[int, int] = SPEED_SIZE) -> np.ndarray:
    """`image` turned landscape and resized to cover `size`, then centre-cropped to it exactly."""
    im = Image.fromarray(image)
    if im.height > im.width:
        im = im.transpose(Image.Transpose.ROTATE_90)
    w, h = size
    if im.size != size:
        scale = max(w / im.width, h / im.height)
        im = im.resize((max(w, round(im.width * scale)), max(h, round(im.height * scale))),
                       Image.Resampling.LANCZOS)
        left, top = (im.width - w) // 2, (im.height - h) // 2
        im = im.crop((left, top, left + w, top + h))
    return np.asarray(im, dtype=np.uint8).copy()
