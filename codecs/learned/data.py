"""Training data for learned families: every image of a folder decoded once into memory, random
crops from there.

Why in memory: on a 2-core machine JPEG decoding per step would cost as much as the model;
580 photos are ~300 MB as uint8.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import CodecError
from ..imageio import list_images


class CropDataset:
    """Random crops (with flips) from images held in memory as uint8 HxWx3 arrays."""

    def __init__(self, folder: str | Path, crop: int = 128, extra_scales: bool = True,
                 limit: int | None = None):
        self.crop = crop
        self.images: list[np.ndarray] = []
        for path in list_images(folder)[:limit]:
            with Image.open(path) as im:
                im = im.convert("RGB")
                if min(im.size) >= crop:
                    self.images.append(np.asarray(im))
                # large photos also at half size, so the model sees the scale of Kodak-like images
                if extra_scales and max(im.size) > 700 and min(im.size) // 2 >= crop:
                    half = im.resize((im.size[0] // 2, im.size[1] // 2), Image.LANCZOS)
                    self.images.append(np.asarray(half))
        if not self.images:
            raise CodecError(f"no image in {folder} is at least {crop} pixels on its short side")

    def __len__(self) -> int:
        return len(self.images)

    def batch(self, size: int, rng: np.random.Generator) -> torch.Tensor:
        """A B x 3 x crop x crop float batch in [0, 1]."""
        c = self.crop
        out = np.empty((size, c, c, 3), dtype=np.uint8)
        for i in range(size):
            img = self.images[rng.integers(len(self.images))]
            y = rng.integers(img.shape[0] - c + 1)
            x = rng.integers(img.shape[1] - c + 1)
            patch = img[y:y + c, x:x + c]
            if rng.random() < 0.5:
                patch = patch[:, ::-1]
            out[i] = patch
        return torch.from_numpy(out).permute(0, 3, 1, 2).float().div_(255.0)
