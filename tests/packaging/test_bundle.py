"""The PyInstaller bundle: its macOS document types, its argv rule, and (GIC_TEST_BUNDLE=1) a real
build started offscreen to screenshot the bundled sample; GIC_TEST_BUNDLE_NOTORCH=1 does the same for
the torch-free flavour (`GIC_BUNDLE_TORCH=0`) and decodes files of every learned codec with it.

Building takes several minutes on 2 cores (PyInstaller analyses all of torch), so the build tests
run only when asked: `GIC_TEST_BUNDLE=1 GIC_TEST_BUNDLE_NOTORCH=1 pytest tests/packaging/test_bundle.py`;
they reuse a bundle already at $GIC_BUNDLE_DIR (default dist/bundle/gic) or $GIC_BUNDLE_NOTORCH_DIR
(default dist/bundle-notorch/gic) when one is there.
"""
from __future__ import annotations

import os
import plistlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def info(load_script):
    return load_script("packaging/bundle_info.py")


@pytest.fixture(scope="module")
def entry(load_script):
    return load_script("packaging/bundle_main.py")


def test_info_plist_declares_the_gic_document_type(info):
    plist = plistlib.loads(plistlib.dumps(info.info_plist("1.2.3")))  # serialisable as a real Info.plist
    (exported,) = plist["UTExportedTypeDeclarations"]
    assert exported["UTTypeTagSpecification"]["public.filename-extension"] == ["gic"]
    assert exported["UTTypeTagSpecification"]["public.mime-type"] == ["application/x-gic"]
    gic_doc = plist["CFBundleDocumentTypes"][0]
    assert gic_doc["LSItemContentTypes"] == [exported["UTTypeIdentifier"]]
    assert gic_doc["LSHandlerRank"] == "Owner" and gic_doc["CFBundleTypeExtensions"] == ["gic"]
    assert plist["CFBundleShortVersionString"] == "1.2.3"


@pytest.mark.parametrize("argv, expect", [
    ([], ["view"]),
    (["photo.gic"], ["view", "photo.gic"]),
    (["info", "photo.gic"], ["info", "photo.gic"]),
    (["--version"], ["--version"]),
])
def test_bundle_opens_the_viewer_unless_a_command_is_named(entry, argv, expect):
    assert entry.bundle_argv(argv, {"view", "info", "encode"}) == expect


def test_bundle_knows_every_cli_command(entry, monkeypatch):
    seen = {}
    monkeypatch.setattr("sys.argv", ["gic", "thumbnail", "--help"])
    from gic.cli import main as cli

    monkeypatch.setattr(cli, "main", lambda argv: seen.setdefault("argv", argv) and 0)
    entry.main()
    assert seen["argv"] == ["thumbnail", "--help"]


#: flavour -> (env var that asks for its test, env var naming a built one, default folder, GIC_BUNDLE_TORCH)
FLAVOURS = {"torch": ("GIC_TEST_BUNDLE", "GIC_BUNDLE_DIR", "bundle", "1"),
            "notorch": ("GIC_TEST_BUNDLE_NOTORCH", "GIC_BUNDLE_NOTORCH_DIR", "bundle-notorch", "0")}


def _flavours():
    for name, (ask, *_rest) in FLAVOURS.items():
        yield pytest.param(name, marks=pytest.mark.skipif(
            os.environ.get(ask) != "1", reason=f"builds the PyInstaller bundle (minutes): set {ask}=1"))


def built_bundle(flavour: str) -> Path:
    """The bundle folder of `flavour`, built first unless one is there already."""
    _ask, dir_var, folder, with_torch = FLAVOURS[flavour]
    bundle = Path(os.environ.get(dir_var, REPO / "dist" / folder / "gic"))
    if not (bundle / "gic").is_file():
        env = {**os.environ, "GIC_BUNDLE_TORCH": with_torch, "GIC_BUNDLE_OUT": str(bundle.parent)}
        proc = subprocess.run(["bash", str(REPO / "packaging" / "build_bundle.sh")], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=3600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return bundle


def bundle_env(home: Path) -> dict[str, str]:
    """A user's environment: none of the checkout's Python paths or weights."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "GIC_WEIGHTS_DIR", "VIRTUAL_ENV"}}
    env.update(QT_QPA_PLATFORM="offscreen", PATH="/usr/bin:/bin", HOME=str(home))
    return env


@pytest.mark.slow
@pytest.mark.parametrize("flavour", list(_flavours()))
def test_bundle_starts_offscreen_and_screenshots_the_sample(tmp_path, flavour):
    bundle = built_bundle(flavour)
    env = bundle_env(tmp_path)
    shot = tmp_path / "shot.png"
    proc = subprocess.run([str(bundle / "gic"), "view", "--screenshot", str(shot)], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    with Image.open(shot) as im:
        assert im.size == (1280, 800)
        small = np.asarray(im.convert("RGB").resize((64, 40))).reshape(-1, 3)
        assert len(np.unique(small, axis=0)) > 50
    codecs = subprocess.run([str(bundle / "gic"), "codecs"], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=300)
    assert codecs.returncode == 0 and "progic" in codecs.stdout
    thumb = tmp_path / "t.png"
    sample = next((bundle / "_internal" / "gic" / "resources" / "samples").glob("*.gic"))
    proc = subprocess.run([str(bundle / "gic"), "thumbnail", str(sample), str(thumb), "--size", "64"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("GIC_TEST_BUNDLE_NOTORCH") != "1",
                    reason="builds the torch-free PyInstaller bundle (minutes): set GIC_TEST_BUNDLE_NOTORCH=1")
def test_torch_free_bundle_decodes_every_learned_codec_and_refuses_torch_features_in_one_line(tmp_path):
    bundle = built_bundle("notorch")
    internal = bundle / "_internal"
    assert not (internal / "torch").exists() and not list(internal.glob("libtorch*"))
    assert not list((internal / "gic" / "resources" / "weights").glob("*.pt"))  # LPIPS/DISTS: torch only
    env = bundle_env(tmp_path)

    def run(*argv: object) -> subprocess.CompletedProcess:
        return subprocess.run([str(bundle / "gic"), *map(str, argv)], capture_output=True, text=True,
                              cwd=tmp_path, timeout=600, env=env)

    def dev(*argv: object) -> None:  # the development install (with torch)
        proc = subprocess.run([sys.executable, "-m", "gic.cli", *map(str, argv)], capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr

    source = REPO / "tests" / "data" / "kodim23_64x48.png"
    for codec in ("progic", "uigc", "mcdh"):
        dev("encode", source, tmp_path / f"{codec}.gic", "--codec", codec)
        dev("decode", tmp_path / f"{codec}.gic", tmp_path / f"{codec}-dev.png")
        proc = run("decode", tmp_path / f"{codec}.gic", tmp_path / f"{codec}.png")
        assert proc.returncode == 0, proc.stderr
        with Image.open(tmp_path / f"{codec}.png") as a, Image.open(tmp_path / f"{codec}-dev.png") as b:
            diff = np.abs(np.asarray(a, int) - np.asarray(b, int))
        assert diff.max() <= 1, (codec, diff.max())  # both on ONNX Runtime: the same picture
    one_line = {("encode", source, tmp_path / "x.gic", "--codec", "mcdh", "--device", "cuda"): "--device cuda",
                ("metrics", source, source, "--metrics", "lpips"): "the metric LPIPS",
                ("train", "--family", "mcdh", "--data", tmp_path, "--out", tmp_path / "t"): "'gic train'"}
    for argv, what in one_line.items():
        proc = run(*argv)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        (line,) = proc.stderr.splitlines()
        assert line.startswith(f"gic: error: {what} needs PyTorch"), line
    proc = run("metrics", source, tmp_path / "mcdh.png")
    assert proc.returncode == 0 and "PSNR" in proc.stdout and proc.stderr.count("needs PyTorch") == 2, proc.stderr
