"""A large ProGIC encode reports progress per tile and stops within one tile of a cancel; the bpp
search analyses the image once. Small tiles on a tiny model stand in for a large photo (same loop)."""
from __future__ import annotations

import numpy as np
import pytest

from gic.codecs import container
from gic.codecs.base import Cancelled
from gic.codecs.progic.codec import ANALYSIS_SHARE, ProGICCodec

TILES = 16  # a 256x256 image is a 16x16 latent grid: 4x4 tiles of 4 (halo 2)


@pytest.fixture()
def tiled(tiny_weights):
    codec = ProGICCodec(weights=str(tiny_weights))
    codec.tile, codec.halo = 4, 2  # instance attributes: the shared class keeps its defaults
    return codec


@pytest.fixture()
def big():
    yy, xx = np.mgrid[0:256, 0:256] / 256
    img = np.stack([np.sin(7 * xx), np.cos(5 * yy), xx * yy], -1) * 100 + 120
    return np.clip(img + np.random.default_rng(2).normal(0, 8, img.shape), 0, 255).astype(np.uint8)


def count_analyses(monkeypatch, codec) -> list[int]:
    calls = []
    owner = codec.loaded if codec.runtime == "onnx" else codec.loaded.model
    original = owner.analyse
    monkeypatch.setattr(owner, "analyse", lambda x: calls.append(1) or original(x))
    return calls


def test_progress_moves_per_tile_then_per_layer(tiled, big):
    seen = []
    tiled.encode(big, quality=3, progress=lambda f: seen.append(f) and False)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    analysis = [f for f in seen if f <= ANALYSIS_SHARE + 1e-9]
    assert len(analysis) == TILES  # one report per tile: the bar moves during the long part
    assert analysis[0] == pytest.approx(ANALYSIS_SHARE / TILES)


def test_cancel_stops_after_the_tile_in_hand(tiled, big, monkeypatch):
    analyses = count_analyses(monkeypatch, tiled)
    with pytest.raises(Cancelled):
        tiled.encode(big, quality=3, progress=lambda f: f >= 3 * ANALYSIS_SHARE / TILES - 1e-9)
    assert len(analyses) == 3  # not the 16 of the whole image


def test_bpp_search_analyses_once_and_matches_the_quality_it_found(tiled, big, monkeypatch):
    rate2 = len(tiled.encode(big, quality=2)) * 8 / big.size * 3
    analyses = count_analyses(monkeypatch, tiled)
    data, q = tiled.encode_to_bpp(big, rate2 * 1.02)
    assert q == 2 and len(analyses) == TILES  # one analysis for every trial quality
    assert data == tiled.encode(big, quality=2)
    assert container.unpack(data).header.num_layers == 2


def test_bpp_search_cancel_stops_inside_the_analysis(tiled, big, monkeypatch):
    analyses = count_analyses(monkeypatch, tiled)
    with pytest.raises(Cancelled):
        tiled.encode(big, bpp=0.5, progress=lambda f: len(analyses) >= 2)
    assert len(analyses) == 2
