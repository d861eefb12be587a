"""A tiny ProGIC model trained for a few steps on synthetic images: real weights, real code paths,
seconds of CPU. Quality is irrelevant here; the bitstream logic is what these tests check."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gic.codecs.progic.train import TrainConfig, Trainer
from gic.codecs.progic.train_command import TINY_MODEL
from gic.codecs.progic.weights import export_checkpoint


def synthetic_image(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Smooth colour gradients with a few edges and some noise: photo-like enough to train on."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([np.sin(6 * xx * rng.uniform(0.5, 2) + rng.uniform(0, 6)),
                    np.cos(5 * yy * rng.uniform(0.5, 2) + rng.uniform(0, 6)),
                    np.sin(4 * (xx + yy) * rng.uniform(0.5, 2))], -1) * 0.35 + 0.5
    img[int(h * 0.3):int(h * 0.6), int(w * 0.2):int(w * 0.5)] *= 0.5
    img += rng.normal(0, 0.03, img.shape)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


@pytest.fixture(scope="session")
def train_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train_images")
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(synthetic_image(rng, 96, 128)).save(folder / f"img{i}.png")
    return folder


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory, train_folder):
    run = tmp_path_factory.mktemp("run")
    cfg = TrainConfig(data=str(train_folder), out=str(run), steps=15, batch=4, crop=64,
                      log_every=5, checkpoint_every=100, model=TINY_MODEL, threads=1)
    Trainer(cfg).run(progress=False)
    out = run / "tiny.pt"
    export_checkpoint(run / "last.pt", out, model_id="progic-tiny-test")
    return out


@pytest.fixture()
def image():
    return synthetic_image(np.random.default_rng(1), 70, 101)  # odd size: padding and cropping
