"""Golden pixels and bytes: refactoring must not change what gic decodes or writes (torch, the
reference runtime; tests/codecs/progic/test_onnx_parity.py bounds how far ONNX Runtime is from it).

The SHA-256 values were recorded before the learned-codec code was reorganised (issue 20) with one
torch thread on a CPU whose torch kernels were AVX2. Since issue 24 the decoder gives the same
pixels for any thread count; across CPU kernel sets (AVX2, AVX-512, SSE) a few values differ by 1.
If one of them changes, a change of behaviour slipped into what was meant to be a move.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from gic.codecs import container
from gic.codecs.imageio import load_image
from gic.resources import path

REPO_DATA = Path(__file__).resolve().parents[1] / "data"
WEIGHTS = path("models", "progic-small.pt")
SAMPLE = path("samples", "kodim23.gic")

#: kodim23.gic (bundled sample, 12 layers): SHA-256 of every progressive layer's HxWx3 uint8 array.
SAMPLE_LAYERS = {
    1: "9304aa926afac13972c63bfd09b977325a783812062b556eddbd6761fad4c1a2",
    2: "adcb3e1ad4f4952b53081453b729f5e86473f6994315634b91dfbbb5cc10ba71",
    3: "1c1876a7b0a02356fa1d82ea743ab424427d49c5264d56c45afba9b26bfef3cb",
    4: "af690cc4a3e902db5e43fb4006016db56159a4ed250822c8f8aa15c1aa400a24",
    5: "578062bf4b6ab5220a92bf05ad3448824a5a5071cc948177fc15cfe6ed5f82c5",
    6: "8ef34464292da2a04e8c097aeb22665f5d05badc3773c9e5fd888a4d0946806e",
    7: "9adbe7c2e0d03bed114c0cead3056331f3f20a55aeb981684a2f948ed09151a6",
    8: "42fa1a240039709b81e932919c7ba635ef10fe6f533674db663ad22adc92f8ae",
    9: "40b1a21f857b2cde792b0fdaba272857c0708e24b5341d70f385c256be622b3a",
    10: "7b7c767fb76c8bb040048ff284f884e89c0a8f014f412e43016ad483d48c906a",
    11: "a2b740658c564982e323c5c44bbea8b76d65cce3a15fdd7e4be95de2354d31dd",
    12: "ff70f1c8d93202fe6e15571c8455d850a46eba525259b10e736ccbd6c2fbdf37",
}
#: SHA-256 of the bytes ProGIC writes (it writes no META chunk) for small Kodak-like inputs.
ENCODED = {
    "small-q12": "e615a7522ebeb0b53cf17cd3c4531708d298f8f58bcb8764d92f82242ce0e9a9",
    "small-q12:decoded": "431c524b4cfdfb9c6d82254614f588db92bca22e6446e90d3dddb0d290a3b19d",
    "small-q3": "699de3c5f8e5e250df1ead67b83e3c9e5933c845eb9ec8b112c5f83a777d9266",
    "small-q3:decoded": "2ffecae89317ead933810f205cd996d5bc5ee16982fbbfc1027cb32a2313774b",
    "crop-roi": "23733586dba46b26848d4f3945bd33bc7d5e3fff41080bd12009190d68bcf7dd",
    "crop-roi:decoded": "e926cd6c564bd64293ac120bdafba6e7af58ae1047743af99b5d03346988c60d",
    "wide-tiled-q6": "235c1746864f09b0222d1573c1c47ce6c6be4a9046e929e7e9a80c993eca80c7",
    "wide-tiled-q6:decoded": "be4fabbd1c293466db27ee7e8efc13eaee599c2bf403f31f2936b7d117d55f09",
}
#: tests/data/legacy/v1_sample.gic: its layers are synthetic bytes (no model can decode them), so
#: the golden value is what the container yields: layers, ROI mask, params, metadata.
LEGACY = "d8a09fc3ef686517b8ed39f68b9fe46c471701645e082c8f14736baccda1b622"

needs_model = pytest.mark.skipif(not WEIGHTS.is_file(), reason="no bundled ProGIC model")


def sha(a) -> str:
    if isinstance(a, np.ndarray):
        a = np.ascontiguousarray(a).tobytes()
    return hashlib.sha256(a).hexdigest()


@pytest.fixture()
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def inputs() -> dict[str, tuple[np.ndarray, dict]]:
    """Named (image, encode options): a shipped crop, a Kodak crop with an ROI, a wide image that
    goes through the tiled analysis and synthesis."""
    kodim = load_image(path("samples", "kodim23.png"))
    small = load_image(REPO_DATA / "kodim23_64x48.png")
    crop = np.ascontiguousarray(kodim[100:233, 200:391])  # 191x133: odd, padded
    roi = np.zeros(crop.shape[:2], bool)
    roi[30:90, 40:120] = True
    wide = np.ascontiguousarray(np.concatenate([kodim[200:280], kodim[200:280, ::-1]], 1)[:, :1100])
    return {"small-q12": (small, {"quality": 12}),
            "small-q3": (small, {"quality": 3}),
            "crop-roi": (crop, {"quality": 9, "roi": roi, "background_quality": 2}),
            "wide-tiled-q6": (wide, {"quality": 6})}


def legacy_digest() -> str:
    f = container.unpack((REPO_DATA / "legacy" / "v1_sample.gic").read_bytes())
    h = hashlib.sha256()
    for layer in f.layers:
        h.update(sha(layer).encode())
    h.update(sha(f.roi.astype(np.uint8)).encode())
    h.update(repr(sorted(f.params.items())).encode())
    h.update(repr(sorted(f.metadata.items())).encode())
    h.update(repr((f.header.width, f.header.height, f.header.codec, f.header.model_id,
                   f.header.model_hash.hex(), f.header.num_layers)).encode())
    return h.hexdigest()


def test_legacy_v1_file_reads_the_same():
    assert legacy_digest() == LEGACY


def _has_avx2() -> bool:
    try:
        return " avx2" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


@needs_model
@pytest.mark.skipif(not _has_avx2(), reason="the golden pixels were recorded with AVX2 kernels")
def test_bundled_sample_decodes_to_the_same_pixels():
    """In a child pinned to torch's AVX2 kernels (ATEN_CPU_CAPABILITY=avx2): on an AVX-512 machine
    torch picks other kernels, whose floats round 11 of the 1,179,648 values the other way
    (docs/format.md, "Determinism"). The thread count no longer matters, so the child uses 2."""
    script = textwrap.dedent(f"""
        import hashlib, json, torch
        torch.set_num_threads(2)
        from gic.codecs import registry
        codec = registry.create("progic", runtime="torch")  # the reference implementation
        data = open({str(SAMPLE)!r}, "rb").read()
        sha = lambda a: hashlib.sha256(a.tobytes()).hexdigest()
        layers = {{p.layer: sha(p.image) for p in codec.decode_progressive(data)}}
        print(json.dumps({{"layers": layers, "decode": sha(codec.decode(data)),
                          "capability": torch.backends.cpu.get_cpu_capability()}}))
    """)
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "avx2"}
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.splitlines()[-1])
    assert got["capability"] == "AVX2"
    assert {int(k): v for k, v in got["layers"].items()} == SAMPLE_LAYERS
    assert got["decode"] == SAMPLE_LAYERS[max(SAMPLE_LAYERS)]


@needs_model
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(inputs()))
def test_encoding_writes_the_same_bytes(name, one_thread):
    from gic.codecs import registry

    image, options = inputs()[name]
    codec = registry.create("progic", runtime="torch")  # the reference implementation
    data = codec.encode(image, **options)
    f = container.unpack(data)
    assert not f.metadata  # no META chunk: the hash covers every byte
    assert sha(data) == ENCODED[name]
    assert sha(codec.decode(data)) == ENCODED[name + ":decoded"]
