"""The PyInstaller bundle: its macOS document types, its argv rule, and (GIC_TEST_BUNDLE=1) a real
build started offscreen to screenshot the bundled sample.

Building takes several minutes on 2 cores (PyInstaller analyses all of torch), so the build test
runs only when asked: `GIC_TEST_BUNDLE=1 pytest tests/packaging/test_bundle.py`; it reuses a bundle
already at $GIC_BUNDLE_DIR (default dist/bundle/gic) when one is there.
"""
from __future__ import annotations

import os
import plistlib
import subprocess
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


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("GIC_TEST_BUNDLE") != "1",
                    reason="builds the PyInstaller bundle (minutes): set GIC_TEST_BUNDLE=1")
def test_bundle_starts_offscreen_and_screenshots_the_sample(tmp_path):
    bundle = Path(os.environ.get("GIC_BUNDLE_DIR", REPO / "dist" / "bundle" / "gic"))
    if not (bundle / "gic").is_file():
        proc = subprocess.run(["bash", str(REPO / "packaging" / "build_bundle.sh")], cwd=REPO,
                              capture_output=True, text=True, timeout=3600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "GIC_WEIGHTS_DIR", "VIRTUAL_ENV"}}
    env.update(QT_QPA_PLATFORM="offscreen", PATH="/usr/bin:/bin", HOME=str(tmp_path))
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
