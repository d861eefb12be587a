"""Torch (the reference) against ONNX Runtime for MCDH, on every exported model: the shipped export
and a fresh export of a tiny freshly initialised model (so the tests do not depend on particular
weights). Sizes that are not multiples of the attention window (192x248, 200x328, 17x33, 1x1) and
one that is (64x64), every rate level, whole and tiled.

What is exact: the entropy-parameter path is the same integer numpy code on both runtimes (the ONNX
path reads its weights from the sidecar), so a given file decodes to identical latents whichever
runtime reads it; the hyper-latents (rounded) matched in every case measured. What is not: the float
latent before rounding differs by up to 8e-6 (shipped model), so a residual within that of a .5 tie
may round the other way. Measured with mcdh-small (step 5000): 1 latent of 18,432 in one of 40
(size, level) encodes (192x248, level 6) rounded differently, by one step; the other 39 files and the
full 768x512 sample at levels 1, 5 and 8 were byte-identical. Pixels of the same file: at most 1
apart, at most 3 of 196,800 values different.
"""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import numpy as np
import pytest

from gic.codecs.errors import CodecError
from gic.codecs.imageio import load_image
from gic.codecs.learned import runtime
from gic.resources import path

WEIGHTS = path("models", "mcdh-small.pt")
GRAPHS = ("analysis", "hyper", "synthesis")
HAS_ORT = importlib.util.find_spec("onnxruntime") is not None

pytestmark = pytest.mark.skipif(not HAS_ORT, reason="onnxruntime is not installed")

#: Bound on |torch - onnxruntime| of the float latent and of the unclamped synthesis output.
MAX_ABS = 1e-4
#: Share of decoded uint8 values allowed to differ (each by at most 1).
MAX_DIFFERING = 1e-4
#: Share of latents allowed to round to another integer when the two runtimes encode an image.
MAX_FLIPPED = 1e-3
SIZES = [(192, 248), (200, 328), (64, 64), (17, 33), (1, 1)]

needs_bundled = pytest.mark.skipif(not WEIGHTS.is_file(), reason="no bundled MCDH model")


def codecs(weights=None):
    from gic.codecs.mcdh.codec import MCDHCodec

    ref = MCDHCodec(weights=weights, runtime="torch")
    ort = MCDHCodec(weights=weights, runtime="onnx")
    assert (ref.runtime, ort.runtime) == ("torch", "onnx")
    return ref, ort


def crops(sizes) -> list[np.ndarray]:
    photo = load_image(path("samples", "kodim23.png"))
    return [np.ascontiguousarray(photo[50: 50 + h, 60: 60 + w]) for h, w in sizes]


def raw_synthesis(codec, latent: np.ndarray, level: int) -> np.ndarray:
    """The unclamped network output of a decoded latent (tiled as the codec tiles) as numpy."""
    if codec.runtime == "onnx":
        return codec.synthesise_tiled(lambda t: codec.loaded.synthesise(t, level - 1), latent)
    import torch

    model = codec.loaded.model
    with torch.inference_mode():
        y = torch.from_numpy(latent) * model.inv_gain(torch.tensor([level - 1]))
        return codec.synthesise_tiled(model.synthesise, y).numpy()


def compare(ref, ort, images, levels, tiles=(None,)) -> dict:
    """Both runtimes on each image and level: latents, coded files, decoded latents and pixels."""
    from gic.codecs.mcdh.fixed import ACT

    stats = {"max_abs": 0.0, "files": 0, "identical_files": 0, "latents": 0, "flipped": 0,
             "values": 0, "differing": 0}
    for image in images:
        for q in levels:
            (ya, zsa, zca), (yb, zsb, zcb) = ref.latents(image, q), ort.latents(image, q)
            err = float(np.abs(ya - yb).max())
            assert err < MAX_ABS, (image.shape, q, err)
            assert np.array_equal(zsa, zsb) and np.array_equal(zca, zcb), (image.shape, q)
            da, db = ref.encode(image, q), ort.encode(image, q)
            stats["files"] += 1
            stats["identical_files"] += da == db
            # the same file decodes to identical latents on both runtimes (integer path)
            _, level, la = ref.decode_latent(da)
            _, _, lb = ort.decode_latent(da)
            assert level == q and np.array_equal(la, lb), (image.shape, q)
            # the other runtime's file: latents within one step, few rounded the other way
            _, _, lc = ref.decode_latent(db)
            step = np.abs(la - lc)
            assert step.max() <= (1 << ACT) + 1, (image.shape, q)
            stats["latents"] += la.size
            stats["flipped"] += int((step > (1 << ACT) // 2).sum())
            latent = (la.astype(np.float32) / np.float32(1 << ACT))[None]
            for tiling in tiles:
                tile, halo = tiling or (None, None)
                for c in (ref, ort):
                    c.tile, c.halo = (tile, halo) if tile else (type(c).tile, type(c).halo)
                a, b = raw_synthesis(ref, latent, q), raw_synthesis(ort, latent, q)
                assert a.shape == b.shape == (1, 3, 16 * la.shape[1], 16 * la.shape[2])
                err = float(np.abs(a - b).max())
                assert err < MAX_ABS, (image.shape, q, tile, err)
                stats["max_abs"] = max(stats["max_abs"], err)
            for c in (ref, ort):
                c.tile, c.halo = type(c).tile, type(c).halo
            pa, pb = ref.decode(da), ort.decode(da)
            assert pa.shape == pb.shape == image.shape
            assert np.abs(pa.astype(int) - pb).max() <= 1, (image.shape, q)
            stats["values"] += pa.size
            stats["differing"] += int((pa != pb).sum())
    assert stats["differing"] <= MAX_DIFFERING * stats["values"], stats
    assert stats["flipped"] <= MAX_FLIPPED * stats["latents"], stats
    return stats


# -- the shipped export ------------------------------------------------------------------------------
@needs_bundled
@pytest.mark.slow
def test_bundled_model_matches_torch_at_every_level_and_size():
    ref, ort = codecs()
    levels = range(1, ref.loaded.config.levels + 1)
    compare(ref, ort, crops(SIZES[:1]), levels, tiles=(None, (4, 2)))  # 12 x 16 latents: 3 x 4 tiles
    compare(ref, ort, crops(SIZES[1:]), levels)


@needs_bundled
def test_encode_and_decode_import_no_torch():
    """Through the registry, with the shipped export: encode + decode of a small image, no torch."""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from gic.codecs import registry\n"
        "c = registry.create('mcdh')\n"
        "img = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)\n"
        "out = c.decode(c.encode(img, 4))\n"
        "assert out.shape == img.shape, out.shape\n"
        "print(c.runtime, 'torch' in sys.modules)\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != runtime.ENV}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["onnx", "False"]


# -- a fresh export of a tiny freshly initialised model (the export script itself) --------------------
def fresh_weights(out, seed: int = 0):
    """Weights of a tiny MCDH as initialised (seeded): no training, no dependence on the shipped ones."""
    import torch

    from gic.codecs.learned.weights import write_weights
    from gic.codecs.mcdh.model import MCDH, MCDHConfig
    from gic.codecs.mcdh.train_command import TINY_MODEL
    from gic.codecs.mcdh.weights import FAMILY, coding_tables

    torch.manual_seed(seed)
    model = MCDH(MCDHConfig(**TINY_MODEL))
    state = {k: v.half().float() for k, v in model.state_dict().items()}
    write_weights(out, FAMILY, "mcdh-tiny-test", model.cfg.to_dict(), state, {}, **coding_tables(state))
    return out


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    return fresh_weights(tmp_path_factory.mktemp("tiny") / "tiny.pt")


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory, tiny_weights):
    pytest.importorskip("onnx")
    weights = tmp_path_factory.mktemp("export") / "tiny.pt"
    shutil.copy(tiny_weights, weights)
    from gic.codecs.mcdh.onnx_export import export_onnx

    sizes = export_onnx(weights)
    assert set(sizes) == {f"tiny.{g}.onnx" for g in GRAPHS} | {"tiny.runtime.npz"}
    return weights


def test_an_export_of_other_weights_falls_back_to_torch(tiny_export, tmp_path):
    """The weight file's hash decides: graphs exported from other weights are never run."""
    from gic.codecs.mcdh.codec import MCDHCodec

    for f in tiny_export.parent.glob("tiny.*"):
        shutil.copy(f, tmp_path / f.name)
    stale = fresh_weights(tmp_path / "tiny.pt", seed=1)  # the same name, other weights
    assert "stale" in runtime.onnx_unavailable(stale, GRAPHS)
    assert MCDHCodec(weights=stale).runtime == "torch"
    with pytest.raises(CodecError, match="stale"):
        MCDHCodec(weights=stale, runtime="onnx")


@pytest.mark.slow
def test_exported_tiny_model_matches_torch(tiny_export):
    ref, ort = codecs(tiny_export)
    assert (ort.model_id, ort.model_hash, ort.loaded.config) == (ref.model_id, ref.model_hash, ref.loaded.config)
    for name in ("y_tables", "zs_tables", "zc_tables"):
        assert np.array_equal(getattr(ort.loaded, name).freq, getattr(ref.loaded, name).freq)
    levels = range(1, ref.loaded.config.levels + 1)
    compare(ref, ort, crops(SIZES[:1]), levels, tiles=(None, (4, 2)))
    stats = compare(ref, ort, crops(SIZES[1:]), levels)
    assert stats["identical_files"] >= stats["files"] - 1, stats


def test_export_cli_writes_the_same_files_each_time(tiny_weights, tmp_path, capsys):
    """`gic train --family mcdh --export-onnx` is deterministic: the lead re-runs it on new weights."""
    pytest.importorskip("onnx")
    from gic.cli import main as cli

    weights = tmp_path / "m.pt"
    shutil.copy(tiny_weights, weights)
    files = [runtime.sidecar_path(weights)] + [runtime.graph_path(weights, g) for g in GRAPHS]
    contents = []
    for _ in range(2):
        assert cli.main(["train", "--family", "mcdh", "--export-onnx", str(weights)]) == 0
        contents.append([f.read_bytes() for f in files])
    out = capsys.readouterr().out
    assert "m.synthesis.onnx" in out and runtime.onnx_unavailable(weights, GRAPHS) is None
    assert contents[0] == contents[1]


def test_export_of_a_missing_or_foreign_file_is_one_line(tmp_path, capsys):
    pytest.importorskip("onnx")
    from gic.cli import main as cli

    bad = tmp_path / "x.pt"
    bad.write_bytes(b"not weights")
    for target in (bad, tmp_path / "missing.pt"):
        assert cli.main(["train", "--family", "mcdh", "--export-onnx", str(target)]) != 0
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
