"""An installation without PyTorch (the torch-free bundle, `GIC_BUNDLE_TORCH=0`), imitated by a
fresh interpreter in which `import torch` fails: the learned codecs still encode and decode on ONNX
Runtime and numpy, and what needs torch (CUDA, the torch runtime, LPIPS/DISTS, training) stops with
gic's one-line error instead of an ImportError traceback."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gic.codecs import torch_check
from gic.codecs.errors import CodecError

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "kodim23_64x48.png"
LEARNED = ("progic", "uigc", "mcdh")
#: Makes `import torch` raise ModuleNotFoundError (name="torch"), as in a bundle that lacks it.
BLOCK = "import json, sys; sys.modules['torch'] = None\n"


def gic_without_torch(*argv: object, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`gic ARGV` in a fresh interpreter that cannot import torch; prints the heavy modules loaded."""
    code = (BLOCK + "from gic.cli.main import main\n"
            f"rc = main({[str(a) for a in argv]!r})\n"
            "print(json.dumps([m for m in ('torch', 'onnxruntime') if sys.modules.get(m)]))\n"
            "sys.exit(rc)\n")
    full = {k: v for k, v in os.environ.items() if k != "GIC_RUNTIME"}
    full.update({"OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore", **(env or {})})
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=timeout)


def loaded(result: subprocess.CompletedProcess) -> list[str]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_needs_torch(result: subprocess.CompletedProcess, what: str) -> None:
    """Exit 2 with one line `gic: error: WHAT needs PyTorch ...`, no traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"gic: error: {what} needs PyTorch"), line


@pytest.mark.slow
@pytest.mark.parametrize("codec", LEARNED)
def test_learned_codecs_encode_and_decode_without_torch(tmp_path, codec):
    gic, png = tmp_path / "a.gic", tmp_path / "a.png"
    # torch never loads; the networks (UIGC's tokenizer is ProGIC's) run on ONNX Runtime
    assert loaded(gic_without_torch("encode", SAMPLE, gic, "--codec", codec)) == ["onnxruntime"]
    assert loaded(gic_without_torch("decode", gic, png)) == ["onnxruntime"]
    assert loaded(gic_without_torch("info", gic)) == []
    with Image.open(png) as im, Image.open(SAMPLE) as ref:
        out, ref = np.asarray(im.convert("RGB"), float), np.asarray(ref.convert("RGB"), float)
    assert out.shape == ref.shape and np.abs(out - ref).mean() < 40  # a picture of the sample


def test_cuda_and_the_torch_runtime_say_they_need_torch(tmp_path):
    gic = tmp_path / "a.gic"
    assert_needs_torch(gic_without_torch("encode", SAMPLE, gic, "--codec", "mcdh", "--device", "cuda"),
                       "--device cuda")
    assert not gic.exists()
    sample = Path(__file__).resolve().parents[2] / "resources" / "samples" / "kodim23.gic"
    assert_needs_torch(gic_without_torch("decode", sample, tmp_path / "o.png", env={"GIC_RUNTIME": "torch"}),
                       "the progic codec on the torch runtime")


def test_metrics_without_torch_give_psnr_and_skip_the_networks(tmp_path):
    r = gic_without_torch("metrics", SAMPLE, SAMPLE, "--json")
    assert loaded(r) == []
    assert json.loads(r.stdout[: r.stdout.rindex("}") + 1]) == {"psnr": None, "ms-ssim": None}  # inf, NaN
    notes = r.stderr.splitlines()
    assert len(notes) == 2 and all("needs PyTorch" in n for n in notes), r.stderr
    assert_needs_torch(gic_without_torch("metrics", SAMPLE, SAMPLE, "--metrics", "lpips"), "the metric LPIPS")


def test_train_without_torch_says_so():
    assert_needs_torch(gic_without_torch("train", "--family", "mcdh", "--data", "x", "--out", "y"), "'gic train'")


def test_have_torch_looks_without_importing(monkeypatch):
    assert torch_check.have_torch() == (subprocess.run(
        [sys.executable, "-c", "import torch"], capture_output=True).returncode == 0)
    monkeypatch.setitem(sys.modules, "torch", None)
    assert not torch_check.have_torch()
    with pytest.raises(CodecError, match="^the thing needs PyTorch"):
        torch_check.require_torch("the thing")


def test_metric_networks_are_refused_in_one_line_without_torch(monkeypatch):
    from gic.codecs import metrics
    from gic.codecs.bench import runner

    monkeypatch.setattr(torch_check, "have_torch", lambda: False)
    monkeypatch.setattr(runner, "have_torch", lambda: False)
    a = np.zeros((64, 64, 3), np.uint8)
    assert metrics.compute(a, a, ("psnr",)) == {"psnr": float("inf")}
    with pytest.raises(CodecError, match="^the metric DISTS needs PyTorch"):
        metrics.compute(a, a, ("dists",))
    assert runner.default_metrics(None) == runner.CPU_METRICS  # no `import torch` to ask for a GPU
