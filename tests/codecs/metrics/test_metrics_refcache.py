"""The reference-feature cache: the same numbers as without it, reused per reference, bounded."""
import numpy as np
import pytest

from gic.codecs.metrics import dists as dists_mod
from gic.codecs.metrics import lpips as lpips_mod
from gic.codecs.metrics import refcache, weights


@pytest.fixture
def cache(monkeypatch):
    fresh = refcache.FeatureCache()
    monkeypatch.setattr(refcache, "CACHE", fresh)
    return fresh


def _variants(img, degrade):
    return [degrade(img, s, seed=s) for s in (4, 12)]


@pytest.mark.parametrize("metric", ["lpips", pytest.param("dists", marks=pytest.mark.skipif(
    not weights.dists_path().is_file(), reason="DISTS weights not converted"))])
def test_cached_results_equal_uncached_ones_and_the_reference_runs_once(metric, cache, textured, degrade):
    fn = {"lpips": lpips_mod.lpips, "dists": dists_mod.dists}[metric]
    plain = [fn(textured, d, "cpu", cache=False) for d in _variants(textured, degrade)]
    assert cache.hits == cache.misses == 0  # cache=False neither reads nor fills it
    cached = [fn(textured, d, "cpu") for d in _variants(textured, degrade)]
    assert cached == plain  # bit for bit: the very features an uncached call computes
    assert (cache.misses, cache.hits) == (1, 1)
    other = textured[::-1].copy()  # another reference: its own entry
    assert fn(other, other, "cpu") == pytest.approx(0.0, abs=1e-6)
    assert cache.misses == 2


@pytest.mark.parametrize("metric", ["lpips", pytest.param("dists", marks=[pytest.mark.slow, pytest.mark.skipif(
    not weights.dists_path().is_file(), reason="DISTS weights not converted")])])
def test_tiled_evaluation_is_cached_per_window(metric, monkeypatch, cache, textured, degrade):
    mod = {"lpips": lpips_mod, "dists": dists_mod}[metric]
    monkeypatch.setattr(mod, "TILE_CORE", 64)
    if metric == "dists":
        monkeypatch.setattr(mod, "SINGLE_WINDOW_PIXELS", 0)
    else:
        monkeypatch.setattr(mod, "TILE_MARGIN", 32)
    fn = getattr(mod, metric)
    a, b = _variants(textured, degrade)
    first, second = fn(textured, a, "cpu"), fn(textured, b, "cpu")
    assert cache.hits == 1 and len(cache.get(next(iter(cache._items)))) > 1  # one entry per window
    assert (first, second) == (fn(textured, a, "cpu", cache=False), fn(textured, b, "cpu", cache=False))


def test_the_budget_and_slots_bound_what_is_kept():
    import torch

    small = refcache.FeatureCache(slots=2, max_bytes=1000)
    assert not small.put("big", [torch.zeros(300)])  # 1200 bytes: never kept
    assert small.get("big") is None
    for k in "abc":
        assert small.put(k, [torch.zeros(100)])
    assert small.get("a") is None and small.get("c") is not None  # least recently used went first
    assert small.put("d", [torch.zeros(200)]) and small.held_bytes <= 1000


def test_keys_tell_images_apart_by_content_not_identity():
    a = np.zeros((4, 5, 3), np.uint8)
    b = a.copy()
    assert refcache.image_key(a) == refcache.image_key(b)
    b[0, 0, 0] = 1
    assert refcache.image_key(a) != refcache.image_key(b)
    assert refcache.image_key(a[:, ::-1]) == refcache.image_key(np.ascontiguousarray(a[:, ::-1]))
