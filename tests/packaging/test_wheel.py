"""The wheel and sdist (`python -m build`): what is inside, and that an installed wheel works.

The install test puts the wheel into a fresh venv whose dependencies (torch, PySide6, ...) come
from the running environment through a .pth line, so nothing is downloaded or reinstalled.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
MAX_WHEEL_BYTES = 28 * 2**20  # today 24.2 MB: ProGIC (5.0 MB) + its ONNX export (5.2 MB), MCDH (3.8 MB) + ONNX and sidecar (3.7 MB), UIGC (3.0 MB), LPIPS (4.9 MB), the sample
REQUIRED = [
    "gic/cli/main.py", "gic/cli/thumbnail.py", "gic/codecs/base.py", "gic/codecs/metrics/convert.py",
    "gic/resources/models/progic-small.pt", "gic/resources/weights/lpips_alex_v0.1.pt",
    "gic/resources/models/progic-small.analysis.onnx", "gic/resources/models/progic-small.synthesis.onnx",
    "gic/resources/models/progic-small.runtime.npz",
    "gic/resources/samples/kodim23.gic", "gic/resources/samples/kodim23.png",
    "gic/resources/gic.desktop", "gic/resources/gic-mime.xml", "gic/resources/gic.thumbnailer",
    "gic/resources/icons/gic.svg", "gic/resources/icons/hicolor/256x256/apps/gic.png",
    "gic/resources/THIRD_PARTY.md",
]

pytestmark = pytest.mark.skipif(importlib.util.find_spec("build") is None,
                                reason="the 'build' package is not installed (pip install -e '.[packaging]')")


def forbidden(name: str, tests_ok: bool = False) -> bool:
    """Files that must never ship: tests (in the wheel), caches, training checkpoints, converted
    DISTS weights. (setuptools puts tests/test*.py into an sdist, which is where tests belong.)"""
    parts = name.split("/")
    return ((not tests_ok and "tests" in parts) or "__pycache__" in parts or name.endswith((".pyc", ".ckpt", ".tmp"))
            or parts[-1] in {"last.pt", "best.pt", "dists_vgg16.pt"} or ".venv" in parts or "runs" in parts)


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """sdist, then the wheel built from that sdist (so a missing file in the sdist shows up)."""
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


@pytest.mark.slow
def test_wheel_holds_the_package_and_its_data_only(dist):
    (wheel,) = dist.glob("gic-*.whl")
    assert wheel.stat().st_size < MAX_WHEEL_BYTES
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert not [n for n in names if forbidden(n)]
    assert all(n.startswith(("gic/", "gic-")) for n in names), names
    assert set(REQUIRED) <= set(names), set(REQUIRED) - set(names)
    (sdist,) = dist.glob("gic-*.tar.gz")
    with tarfile.open(sdist) as tf:
        members = [m.name.split("/", 1)[-1] for m in tf.getmembers()]
    assert not [m for m in members if forbidden(m, tests_ok=True)]


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory) -> Path:
    """A new venv holding the wheel; its dependencies resolve to this environment's site-packages."""
    root = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    py = root / "bin" / "python"
    (wheel,) = dist.glob("gic-*.whl")
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps",
                           "--no-index", "--no-cache-dir", "-q", str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # A plain path line: the dependencies become importable, but this checkout's editable-install
    # hook (a .pth with an import line in that folder) is not run, so `gic` comes from the wheel.
    Path(site, "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return root


def run(venv: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "GIC_WEIGHTS_DIR"}}
    env["QT_QPA_PLATFORM"] = "offscreen"
    proc = subprocess.run([str(venv / "bin" / args[0]), *args[1:]], capture_output=True, text=True,
                          cwd=venv, env=env, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc


@pytest.mark.slow
def test_installed_wheel_runs_cli_round_trip_and_viewer(venv, tmp_path):
    where = run(venv, "python", "-c", "import gic.codecs, gic.resources; "
                "print(gic.codecs.__file__); print(gic.resources.path('models'))").stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in where), where  # not this checkout

    assert "progic" in run(venv, "gic", "codecs").stdout
    src = REPO / "tests" / "data" / "kodim23_64x48.png"
    packed, back = tmp_path / "x.gic", tmp_path / "x.png"
    run(venv, "gic", "encode", str(src), str(packed), "--codec", "progic")
    run(venv, "gic", "decode", str(packed), str(back))
    a = np.asarray(Image.open(src).convert("RGB"), dtype=np.float64)
    b = np.asarray(Image.open(back).convert("RGB"), dtype=np.float64)
    assert a.shape == b.shape
    assert 10 * np.log10(255**2 / np.mean((a - b) ** 2)) > 15  # a real decode (18.4 dB today), not noise
    lpips = run(venv, "gic", "metrics", str(src), str(back), "--metrics", "lpips").stdout
    assert "lpips" in lpips.lower()  # the shipped LPIPS weights load from the wheel

    shot = tmp_path / "shot.png"
    run(venv, "gic", "view", "--screenshot", str(shot))  # the bundled sample, with its original
    with Image.open(shot) as im:
        assert im.size == (1280, 800)
        small = np.asarray(im.convert("RGB").resize((64, 40))).reshape(-1, 3)
        assert len(np.unique(small, axis=0)) > 50  # a picture, not a blank window
