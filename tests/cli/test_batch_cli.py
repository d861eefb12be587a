"""`gic encode DIR OUTDIR` and `gic decode DIR OUTDIR`, run the way a user runs them."""
from __future__ import annotations

import numpy as np
from PIL import Image

from test_cli import gic  # tests/cli is on sys.path (rootdir conftest, no packages)


def _folder(path, n=3):
    path.mkdir()
    for i in range(n):
        y, x = np.mgrid[0:48, 0:64]
        img = np.stack([x * 4 + i, y * 5, (x + y) * 2], -1).astype(np.uint8)
        Image.fromarray(img).save(path / f"im{i}.png")
    return path


def test_encode_folder_skips_done_files_and_force_redoes_them(tmp_path):
    src, out = _folder(tmp_path / "in"), tmp_path / "out"
    first = gic("encode", src, out, "--codec", "jpeg", "-q", "60", "--jobs", "2")
    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in out.iterdir()) == ["im0.jpg", "im1.jpg", "im2.jpg"]
    lines = first.stdout.splitlines()
    assert lines[0].split() == ["files", "bytes", "in", "bytes", "out", "bpp", "time"]
    assert lines[1].split()[:2] == ["encoded", "3"] and lines[-1].startswith("total")
    assert "ETA" in first.stderr  # not a terminal: one progress line per file
    stamp = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    (out / "im1.jpg").unlink()  # as if the first run had been interrupted there
    again = gic("encode", src, out, "--codec", "jpeg", "-q", "60")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[1].split()[:2] == ["encoded", "1"]
    assert again.stdout.splitlines()[2].split() == ["skipped", "2"]
    assert (out / "im0.jpg").stat().st_mtime_ns == stamp["im0.jpg"]  # never overwritten unasked
    forced = gic("encode", src, out, "--codec", "jpeg", "-q", "60", "--force")
    assert forced.returncode == 0 and forced.stdout.splitlines()[1].split()[:2] == ["encoded", "3"]


def test_a_broken_file_is_reported_and_the_rest_is_done(tmp_path):
    src, out = _folder(tmp_path / "in"), tmp_path / "out"
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff not really")
    r = gic("encode", src, out, "--codec", "webp")
    assert r.returncode == 2
    errors = [line for line in r.stderr.splitlines() if line.startswith("gic: error: ")]
    assert len(errors) == 2 and "broken.jpg" in errors[0] and "1 of 4 files failed" in errors[1]
    assert "Traceback" not in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["im0.webp", "im1.webp", "im2.webp"]


def test_encode_folder_notes_each_image_whose_alpha_is_flattened(tmp_path):
    src, out = _folder(tmp_path / "in", n=2), tmp_path / "out"
    rgba = np.dstack([np.asarray(Image.open(src / "im0.png")), np.full((48, 64), 255, np.uint8)])
    rgba[:5, :5, 3] = 0
    Image.fromarray(rgba, "RGBA").save(src / "clear.png")
    r = gic("encode", src, out, "--codec", "jpeg", "--jobs", "2")
    assert r.returncode == 0, r.stderr
    notes = [line for line in r.stderr.splitlines() if line.startswith("gic: note: ")]
    assert len(notes) == 1 and "clear.png has transparency" in notes[0] and "onto white" in notes[0]


def test_decode_folder_round_trip_and_option_errors(tmp_path):
    src, enc, dec = _folder(tmp_path / "in", n=2), tmp_path / "enc", tmp_path / "dec"
    assert gic("encode", src, enc, "--codec", "jxl", "-q", "90").returncode == 0
    r = gic("decode", enc, dec)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1].split()[:2] == ["decoded", "2"]
    for i in range(2):
        a = np.asarray(Image.open(src / f"im{i}.png"), dtype=float)
        b = np.asarray(Image.open(dec / f"im{i}.png"), dtype=float)
        assert a.shape == b.shape and np.abs(a - b).mean() < 4
    same = gic("encode", dec, dec, "--codec", "jpeg")  # im0.png -> im0.jpg beside it: allowed
    assert same.returncode == 0
    for args, fragment in ((("encode", src, enc, "--jobs", "0"), "--jobs"),
                           (("encode", src, enc, "--roi", src / "im0.png"), "--roi"),
                           (("encode", src / "im0.png", tmp_path / "x.jpg", "--jobs", "2"), "folder"),
                           (("decode", src, dec), "no compressed files")):
        bad = gic(*args)
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and fragment in bad.stderr, bad.stderr
