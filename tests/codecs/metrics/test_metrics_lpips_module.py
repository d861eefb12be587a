"""LPIPS nn.Module: reference values, batching, gradients, frozen weights."""
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gic.codecs.errors import CodecError
from gic.codecs.metrics.lpips import LPIPS

DATA = Path(__file__).resolve().parents[2] / "data" / "metrics"


def load_pm1(name: str) -> torch.Tensor:
    a = np.asarray(Image.open(DATA / f"{name}.png").convert("RGB"), dtype=np.float32)
    return torch.from_numpy(a).permute(2, 0, 1).unsqueeze(0) / 127.5 - 1.0


@pytest.fixture(scope="module")
def model() -> LPIPS:
    return LPIPS.load("cpu")


@pytest.fixture(scope="module")
def images() -> dict[str, torch.Tensor]:
    return {n: load_pm1(n) for n in ("ex_ref", "ex_p0", "ex_p1")}


def test_reference_values(model, images):
    # richzhang/PerceptualSimilarity test_network.py prints "Distances: (0.722, 0.138)".
    x = torch.cat([images["ex_ref"], images["ex_ref"]])
    y = torch.cat([images["ex_p0"], images["ex_p1"]])
    d = model(x, y)
    assert d.shape == (2,)
    assert round(d[0].item(), 3) == 0.722
    assert round(d[1].item(), 3) == 0.138


def test_identical_is_zero_and_symmetric(model, images):
    r, p = images["ex_ref"], images["ex_p0"]
    assert model(r, r).item() == pytest.approx(0.0, abs=1e-7)
    assert model(r, p).item() == pytest.approx(model(p, r).item(), rel=1e-5)


def test_spatial_map(model, images):
    r, p = images["ex_ref"], images["ex_p1"]
    m = model(r, p, spatial=True)
    assert m.shape == (1, 1, 64, 64)
    # Upsampling changes the average a little, not the magnitude.
    assert m.mean().item() == pytest.approx(model(r, p).item(), rel=0.05)


def test_frozen_and_differentiable(model, images):
    assert all(not p.requires_grad for p in model.parameters())
    x = images["ex_p0"].clone().requires_grad_(True)
    # A flat grey target has all-zero feature vectors in places: gradients must stay finite.
    flat = torch.zeros_like(x)
    loss = model(x, images["ex_ref"]).sum() + model(x, flat).sum()
    loss.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.parameters())


def test_bad_shapes(model):
    with pytest.raises(CodecError):
        model(torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 64, 32))
    with pytest.raises(CodecError):
        model(torch.zeros(1, 3, 16, 16), torch.zeros(1, 3, 16, 16))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")
def test_reference_values_cuda(images):
    m = LPIPS.load("cuda")
    d = m(images["ex_ref"].cuda(), images["ex_p0"].cuda())
    assert round(d.item(), 3) == 0.722
