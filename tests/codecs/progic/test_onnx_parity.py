"""Torch (the reference) against ONNX Runtime on every exported ProGIC model: the shipped export and
a fresh export of the tiny test model. Depth maps uniform at every depth, ROI-shaped and random,
latent grids from 1x1 to ragged multi-window sizes, whole and tiled; indices from real images.

Measured today (bundled model): network outputs within 2e-6 of torch; 24 of the 1,179,648 uint8
values of the bundled sample's full decode differ, each by 1; analysis indices identical on it.
"""
from __future__ import annotations

import importlib.util
import shutil

import numpy as np
import pytest

from gic.codecs.errors import CodecError
from gic.codecs.imageio import load_image
from gic.codecs.learned import runtime
from gic.resources import path

WEIGHTS = path("models", "progic-small.pt")
GRAPHS = ("analysis", "synthesis")
HAS_ORT = importlib.util.find_spec("onnxruntime") is not None

pytestmark = pytest.mark.skipif(not HAS_ORT, reason="onnxruntime is not installed")

#: Bound on |torch - onnxruntime| of the unclamped network output (values are about 0..1).
MAX_ABS = 1e-4
#: Share of decoded uint8 values allowed to differ (each by at most 1).
MAX_DIFFERING = 1e-4


def codecs(weights=None):
    from gic.codecs.progic.codec import ProGICCodec

    ref = ProGICCodec(weights=weights, runtime="torch")
    ort = ProGICCodec(weights=weights, runtime="onnx")
    assert (ref.runtime, ort.runtime) == ("torch", "onnx")
    return ref, ort


def depth_maps(stages: int, h: int, w: int, rng: np.random.Generator, every: bool) -> dict[str, np.ndarray]:
    """Uniform maps (every depth, or the first and the last), an ROI-shaped one and a random one."""
    maps = {f"uniform-{d}": np.full((h, w), d) for d in (range(1, stages + 1) if every else (1, stages))}
    roi = np.full((h, w), max(1, stages // 4))
    roi[h // 3: h // 3 + max(1, h // 2), w // 4: w // 4 + max(1, w // 2)] = stages
    maps["roi"] = roi
    maps["random"] = rng.integers(1, stages + 1, (h, w))
    return maps


def raw(codec, idx: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """The unclamped network output (tiled as the codec tiles) as a numpy array."""
    if codec.runtime == "onnx":
        return codec.synthesise_tiled(codec.loaded.synthesise, idx[:, None], depth[None])
    import torch

    with torch.inference_mode():
        y = codec.synthesise_tiled(codec.loaded.model.synthesise, torch.from_numpy(idx)[:, None],
                                   torch.from_numpy(depth)[None])
    return y.numpy()


def compare_synthesis(ref, ort, sizes, tiles=(None,), max_abs=MAX_ABS) -> dict:
    """Raw outputs and pixels of both runtimes on each size (the first with a uniform map at every
    depth) and each tiling ((tile, halo) on the latent grid, or None: the codec's own)."""
    rng = np.random.default_rng(0)
    worst, differing, total = 0.0, 0, 0
    for i, (h, w) in enumerate(sizes):
        idx = rng.integers(0, ref.loaded.tables.shape[1], (ref.stages, h, w))
        for name, depth in depth_maps(ref.stages, h, w, rng, every=i == 0).items():
            for tiling in tiles:
                tile, halo = tiling or (None, None)
                for c in (ref, ort):
                    c.tile, c.halo = (tile, halo) if tile else (type(c).tile, type(c).halo)
                a, b = raw(ref, idx, depth), raw(ort, idx, depth)
                assert a.shape == b.shape == (1, 3, 16 * h, 16 * w)
                err = float(np.abs(a - b).max())
                assert err < max_abs, (h, w, name, tile, err)
                pa, pb = ref.to_image(a, 16 * h, 16 * w), ort.to_image(b, 16 * h, 16 * w)
                assert np.abs(pa.astype(int) - pb).max() <= 1, (h, w, name, tile)
                worst, differing, total = max(worst, err), differing + int((pa != pb).sum()), total + pa.size
    assert differing <= MAX_DIFFERING * total, (differing, total)
    return {"max_abs": worst, "differing": differing, "total": total}


# -- the shipped export ------------------------------------------------------------------------------
needs_bundled = pytest.mark.skipif(not WEIGHTS.is_file(), reason="no bundled ProGIC model")


@needs_bundled
@pytest.mark.slow
def test_bundled_synthesis_matches_torch_on_every_depth_map_size_and_tiling():
    ref, ort = codecs()
    compare_synthesis(ref, ort, sizes=[(3, 5), (1, 1), (8, 8)])
    compare_synthesis(ref, ort, sizes=[(9, 17)], tiles=(None, (4, 2)))  # 3 x 5 tiles


@needs_bundled
@pytest.mark.slow
def test_bundled_sample_decodes_within_one_level_of_torch():
    ref, ort = codecs()
    data = path("samples", "kodim23.gic").read_bytes()
    for p_ref, p_ort in zip(ref.decode_progressive(data), ort.decode_progressive(data)):
        diff = np.abs(p_ref.image.astype(int) - p_ort.image)
        assert diff.max() <= 1 and (diff > 0).sum() <= MAX_DIFFERING * diff.size, (p_ref.layer, (diff > 0).sum())


@needs_bundled
@pytest.mark.slow
def test_bundled_analysis_gives_the_same_indices_and_files_on_a_photo():
    ref, ort = codecs()
    photo = load_image(path("samples", "kodim23.png"))
    a, b = ref._indices(photo), ort._indices(photo)
    assert (a != b).sum() <= 1e-3 * a.size  # a near-tie may flip on another CPU; none here
    crop = np.ascontiguousarray(photo[100:233, 200:391])  # odd size: edge padding
    roi = np.zeros(crop.shape[:2], bool)
    roi[30:90, 40:120] = True
    data = ort.encode(crop, quality=9, roi=roi, background_quality=2)
    assert data == ref.encode(crop, quality=9, roi=roi, background_quality=2)
    # and either runtime reads what the other wrote: the indices are entropy-decoded from integer tables
    diff = np.abs(ref.decode(data).astype(int) - ort.decode(data))
    assert diff.max() <= 1


# -- choosing the runtime -------------------------------------------------------------------------------
@needs_bundled
def test_torch_is_chosen_when_asked_or_for_other_devices(monkeypatch):
    assert runtime.choose("cpu", WEIGHTS, GRAPHS, "torch") == "torch"
    assert runtime.choose("cuda", WEIGHTS, GRAPHS) == "torch"
    monkeypatch.setenv(runtime.ENV, "torch")
    assert runtime.choose("cpu", WEIGHTS, GRAPHS) == "torch"
    monkeypatch.setenv(runtime.ENV, "bogus")
    with pytest.raises(CodecError, match="unknown runtime"):
        runtime.choose("cpu", WEIGHTS, GRAPHS)
    monkeypatch.setenv(runtime.ENV, "onnx")
    with pytest.raises(CodecError, match="cpu only"):
        runtime.choose("cuda", WEIGHTS, GRAPHS)


@needs_bundled
def test_a_stale_or_missing_export_falls_back_to_torch(tmp_path, tiny_weights, monkeypatch):
    """The weight file's hash decides: graphs exported from other weights are never run."""
    stale = tmp_path / "w.pt"
    shutil.copy(tiny_weights, stale)
    for src, dst in [(runtime.sidecar_path(WEIGHTS), runtime.sidecar_path(stale))] + [
            (runtime.graph_path(WEIGHTS, g), runtime.graph_path(stale, g)) for g in GRAPHS]:
        shutil.copy(src, dst)
    assert "stale" in runtime.onnx_unavailable(stale, GRAPHS)
    assert runtime.choose("cpu", stale, GRAPHS) == "torch"
    with pytest.raises(CodecError, match="stale"):
        runtime.choose("cpu", stale, GRAPHS, "onnx")
    runtime.graph_path(stale, "synthesis").unlink()
    assert "missing" in runtime.onnx_unavailable(stale, GRAPHS)
    monkeypatch.setenv(runtime.ENV, "onnx")
    with pytest.raises(CodecError, match="synthesis.onnx"):
        runtime.choose("cpu", stale, GRAPHS)


@needs_bundled
def test_a_graph_from_other_weights_is_refused_when_opened():
    graph = runtime.OnnxGraph(runtime.graph_path(WEIGHTS, "synthesis"), b"\0" * 16)
    with pytest.raises(CodecError, match="other weights"):
        graph.session()


# -- a fresh export (the export script itself) --------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory, request):
    pytest.importorskip("onnx")
    weights = tmp_path_factory.mktemp("export") / "tiny.pt"
    shutil.copy(request.getfixturevalue("tiny_weights"), weights)
    from gic.codecs.progic.onnx_export import export_onnx

    sizes = export_onnx(weights)
    assert set(sizes) == {"tiny.analysis.onnx", "tiny.synthesis.onnx", "tiny.runtime.npz"}
    return weights


@pytest.mark.slow
def test_exported_tiny_model_matches_torch(tiny_export, image):
    ref, ort = codecs(tiny_export)
    # TINY_MODEL has a 4x4 attention window: sizes below, at and across several windows
    compare_synthesis(ref, ort, sizes=[(2, 7), (1, 1), (4, 4)])
    compare_synthesis(ref, ort, sizes=[(9, 13)], tiles=(None, (4, 2)))
    assert np.array_equal(ref._indices(image), ort._indices(image))
    data = ref.encode(image, quality=ref.stages)
    assert np.abs(ref.decode(data).astype(int) - ort.decode(data)).max() <= 1
    assert (ort.model_id, ort.model_hash, ort.stages) == (ref.model_id, ref.model_hash, ref.stages)
    assert np.array_equal(ort.loaded.tables, ref.loaded.tables)
    for a, b in [(ort.loaded.context, ref.loaded.context)]:
        assert (a is None and b is None) or np.array_equal(a, b)


def test_export_cli_writes_the_files(tiny_weights, tmp_path, capsys):
    pytest.importorskip("onnx")
    from gic.cli import main as cli

    weights = tmp_path / "m.pt"
    shutil.copy(tiny_weights, weights)
    assert cli.main(["train", "--family", "progic", "--export-onnx", str(weights)]) == 0
    out = capsys.readouterr().out
    assert "m.synthesis.onnx" in out and runtime.onnx_unavailable(weights, GRAPHS) is None
