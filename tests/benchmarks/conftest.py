"""Shared set-up for the benchmark-script tests: a tiny untrained ProGIC weight file and a
folder of noise images, so the scripts run end to end in seconds."""
import numpy as np
import pytest
import torch
from PIL import Image

from gic.codecs.progic.model import ModelConfig, ProGIC
from gic.codecs.progic.train_command import TINY_MODEL
from gic.codecs.progic.weights import save_model


@pytest.fixture
def tiny_weights_and_images(tmp_path):
    """Make (weights path, folder of 2 PNGs) for an image size (h, w)."""
    def make(h: int, w: int):
        torch.manual_seed(0)
        weights = tmp_path / "tiny.pt"
        save_model(ProGIC(ModelConfig.from_dict(TINY_MODEL)), weights, "progic-tiny-test")
        rng = np.random.default_rng(0)
        for i in range(2):
            Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
        return weights, tmp_path
    return make
