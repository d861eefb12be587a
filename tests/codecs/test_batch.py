"""Folders of files: planning (skip, refuse collisions), the worker pool, per-file failures."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gic.codecs import batch, container
from gic.codecs.errors import CodecError


def _images(folder, n=3, w=64, h=48):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        rng = np.random.default_rng(i)
        y, x = np.mgrid[0:h, 0:w]
        img = np.stack([x * 4, y * 5, (x + y) * 2], -1) + rng.normal(0, 8, (h, w, 3))
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f"im{i}.png")
    return folder


def test_plan_skips_existing_outputs_unless_forced_and_ignores_non_images(tmp_path):
    src = _images(tmp_path / "in")
    (src / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    out.mkdir()
    (out / "im1.jpg").write_bytes(b"old")
    plan = batch.plan_encode(src, out, "jpeg")
    assert [t.source.name for t in plan.tasks] == ["im0.png", "im2.png"]
    assert [(r.source.name, r.status) for r in plan.settled] == [("im1.png", "skipped")]
    forced = batch.plan_encode(src, out, "jpeg", force=True)
    assert len(forced.tasks) == 3 and not forced.settled


def test_two_inputs_writing_one_output_are_both_refused(tmp_path):
    src = _images(tmp_path / "in", n=1)
    Image.open(src / "im0.png").save(src / "im0.webp")
    plan = batch.plan_encode(src, tmp_path / "out", "jpeg")
    assert not plan.tasks
    assert {r.status for r in plan.settled} == {"failed"}
    assert all("would also be written" in r.detail for r in plan.settled)


def test_decode_into_its_own_folder_takes_compressed_files_only_and_keeps_pngs(tmp_path):
    src = _images(tmp_path / "in", n=2)
    Image.open(src / "im0.png").save(src / "im0.jpg")
    Image.open(src / "im1.png").save(src / "other.webp")
    plan = batch.plan_decode(src, src)
    assert [t.source.name for t in plan.tasks] == ["other.webp"]  # the PNGs are not inputs
    assert [(r.source.name, r.status) for r in plan.settled] == [("im0.jpg", "skipped")]


def test_bad_folders_are_one_line_errors(tmp_path):
    with pytest.raises(CodecError, match="not a folder"):
        batch.plan_encode(tmp_path / "missing", tmp_path / "out", "jpeg")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CodecError, match="no images"):
        batch.plan_encode(tmp_path / "empty", tmp_path / "out", "jpeg")
    with pytest.raises(CodecError, match="no compressed files"):
        batch.plan_decode(tmp_path / "empty", tmp_path / "out")
    src = _images(tmp_path / "in", n=1)
    (tmp_path / "file").write_text("x")
    with pytest.raises(CodecError, match="not a folder"):
        batch.plan_encode(src, tmp_path / "file", "jpeg")


def test_a_bad_file_fails_alone_and_two_workers_write_what_one_does(tmp_path):
    src = _images(tmp_path / "in", n=3)
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    settings = batch.EncodeSettings("jpeg", quality=40)
    seen = []
    one = batch.run(batch.plan_encode(src, tmp_path / "one", "jpeg"), settings, jobs=1)
    two = batch.run(batch.plan_encode(src, tmp_path / "two", "jpeg"), settings, jobs=2,
                    on_result=seen.append)
    assert [r.source.name for r in two] == ["broken.png", "im0.png", "im1.png", "im2.png"]
    assert len(seen) == 4
    for a, b in zip(one, two):
        assert a.status == b.status and a.detail.split(":")[0] == b.detail.split(":")[0]
    assert two[0].status == "failed" and "broken.png" in two[0].detail
    for r in two[1:]:
        assert r.status == "done" and r.width == 64 and r.bytes_out == r.output.stat().st_size
        assert r.output.read_bytes() == (tmp_path / "one" / r.output.name).read_bytes()
    table = batch.summary_table(two, 1.0)
    assert "encoded" in table and "failed" in table
    done = [r for r in two if r.status == "done"]
    rate = sum(r.bytes_out for r in done) * 8 / (3 * 64 * 48)
    assert f"{rate:.4f}" in table


def test_decode_batch_takes_layers_of_gic_files_and_reports_corrupt_ones(tmp_path):
    from gic.codecs import registry

    src = _images(tmp_path / "in", n=2)
    enc = batch.run(batch.plan_encode(src, tmp_path / "gic", "progic"), batch.EncodeSettings("progic", quality=3))
    assert all(r.status == "done" for r in enc)
    (tmp_path / "gic" / "junk.gic").write_bytes(b"\x89GIC\r\n\x1a\n" + b"\0" * 20)
    dec = batch.run(batch.plan_decode(tmp_path / "gic", tmp_path / "png"), batch.DecodeSettings(layers=1))
    status = {r.source.name: r for r in dec}
    assert status["junk.gic"].status == "failed"
    assert status["im0.gic"].status == "done" and status["im0.gic"].detail.startswith("layers 1 of 3")
    codec = registry.create("progic")
    data = (tmp_path / "gic" / "im0.gic").read_bytes()
    first = next(iter(codec.decode_progressive(data))).image
    assert np.array_equal(np.asarray(Image.open(tmp_path / "png" / "im0.png")), first)
    assert container.is_gic(data)


def test_encoding_a_folder_into_itself_never_replaces_an_input(tmp_path):
    src = _images(tmp_path / "in", n=1)
    Image.open(src / "im0.png").save(src / "a.jpg")
    plan = batch.plan_encode(src, src, "jpeg", force=True)
    assert [t.source.name for t in plan.tasks] == ["im0.png"]
    assert [(r.source.name, r.status, r.detail) for r in plan.settled] == \
        [("a.jpg", "failed", "the output would replace the input")]
