"""`gic bench` end to end on two tiny images and two classical codecs, then resumed."""
import csv
import json
import math

import pytest

from gic.codecs.bench.command import main
from gic.codecs.bench.plots import plotting_available

FAST = ["--codecs", "jpeg,webp", "--metrics", "psnr,ms-ssim", "--points", "3", "--no-progress"]


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_two_images_two_codecs_end_to_end(image_dir, tmp_path):
    out = tmp_path / "out"
    ref = tmp_path / "published.json"
    ref.write_text(json.dumps({"name": "Paper (published)", "description": "from a paper",
                               "results": {"bpp": [0.5, 1, 2, 4], "psnr-rgb": [20, 25, 30, 35]}}))
    assert main(["--data", str(image_dir), "--out", str(out), *FAST, "--speed-repeat", "1",
                 "--anchor", "jpeg", "--reference", str(ref)]) == 0

    rows = read_rows(out / "per_image.csv")
    assert len(rows) == 2 * 2 * 3
    assert {(r["image"], r["codec"]) for r in rows} == {(i, c) for i in ("im0.png", "im1.png")
                                                        for c in ("jpeg", "webp")}
    for r in rows:
        assert float(r["bpp"]) == pytest.approx(int(r["bytes"]) * 8 / (192 * 176))
        assert 10 < float(r["psnr-rgb"]) < 60 and 0 < float(r["ms-ssim"]) <= 1
        assert float(r["encoding_time"]) > 0 and float(r["decoding_time"]) > 0
    jpeg = [r for r in rows if r["codec"] == "jpeg" and r["image"] == "im0.png"]
    assert [float(r["bpp"]) for r in jpeg] == sorted(float(r["bpp"]) for r in jpeg)
    assert float(jpeg[-1]["psnr-rgb"]) > float(jpeg[0]["psnr-rgb"])

    curve = json.loads((out / "rd" / "webp.json").read_text())
    assert curve["name"] == "webp" and curve["description"]
    res = curve["results"]
    assert set(res) == {"bpp", "psnr-rgb", "ms-ssim", "encoding_time", "decoding_time"}
    assert all(len(v) == 3 for v in res.values())
    webp_rows = [r for r in rows if r["codec"] == "webp" and r["target"] == curve["targets"][0]]
    assert res["bpp"][0] == pytest.approx(sum(float(r["bpp"]) for r in webp_rows) / 2)

    bd = json.loads((out / "bdrate.json").read_text())
    assert bd["anchor"] == "jpeg" and bd["bd_rate"]["jpeg"]["psnr-rgb"] == pytest.approx(0)
    assert set(bd["bd_rate"]["webp"]) == {"psnr-rgb", "ms-ssim"}
    published = bd["bd_rate"]["Paper (published)"]
    assert published["ms-ssim"] is None  # the reference has no MS-SSIM curve

    speed = json.loads((out / "speed.json").read_text())
    by_codec = {r["codec"]: r for r in speed["results"]}
    assert set(by_codec) == {"jpeg", "webp"} and speed["threads"] == 1
    for r in by_codec.values():
        assert "error" not in r, r
        assert (r["width"], r["height"]) == (768, 512)
        assert r["encoding_time"] > 0 and r["peak_rss_mb"] > 10 and r["cpus"] == 1
        assert 0 <= r["codec_rss_mb"] < r["peak_rss_mb"]
    assert by_codec["jpeg"]["encoding_ratio"] == pytest.approx(1.0)

    readme = (out / "README.md").read_text()
    if plotting_available():
        for name in ("rd-psnr.png", "rd-ms-ssim.png", "speed.png"):
            assert (out / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "(plots/rd-psnr.png)" in readme and "(plots/speed.png)" in readme
    else:  # matplotlib is optional: the numbers must still be there, and the README says why
        assert "matplotlib is not installed" in readme
    assert "gic bench --data" in readme and "| webp |" in readme
    assert "| *Paper (published)* |" in readme and "from a paper" in readme


def test_resume_limit_and_redo(image_dir, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["--data", str(image_dir), "--out", str(out), *FAST, "--no-speed", "--no-plots"]
    assert main([*args, "--limit", "1"]) == 0
    first = read_rows(out / "per_image.csv")
    assert {r["image"] for r in first} == {"im0.png"} and len(first) == 6

    assert main(args) == 2  # results exist: refuse to clobber them silently
    assert "--resume" in capsys.readouterr().err

    assert main([*args, "--resume"]) == 0
    second = read_rows(out / "per_image.csv")
    assert second[:6] == first  # the finished pairs were kept, not measured again
    assert {r["image"] for r in second[6:]} == {"im1.png"} and len(second) == 12
    assert json.loads((out / "rd" / "jpeg.json").read_text())["num_images"] == [2, 2, 2]

    assert main([*args, "--resume", "--redo", "webp"]) == 0
    third = read_rows(out / "per_image.csv")
    assert [r for r in third if r["codec"] == "jpeg"] == [r for r in second if r["codec"] == "jpeg"]
    assert len(third) == 12
    old = [r["encoding_time"] for r in second if r["codec"] == "webp"]
    new = [r["encoding_time"] for r in third if r["codec"] == "webp"]
    assert old != new  # measured again

    assert main([*args, "--resume", "--points", "4"]) == 2  # different points: cannot mix
    assert "cannot resume" in capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [
    (["--codecs", "nope"], "unknown codec"),
    (["--codecs", "jpeg", "--metrics", "psnr,vmaf"], "unknown metric"),
    (["--codecs", "jpeg", "--bpps", "0.1,-1"], "positive"),
])
def test_bad_options_exit_2_with_message(image_dir, tmp_path, capsys, extra, message):
    assert main(["--data", str(image_dir), "--out", str(tmp_path / "o"), "--no-progress",
                 *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_bad_reference_file(image_dir, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "results": {"bpp": [0.1, 0.2], "lpips": [0.3]}}')
    assert main(["--data", str(image_dir), "--out", str(tmp_path / "o"), "--codecs", "jpeg",
                 "--reference", str(bad)]) == 2
    assert "cannot use reference curve" in capsys.readouterr().err


def test_missing_data_folder(tmp_path, capsys):
    assert main(["--data", str(tmp_path / "none"), "--out", str(tmp_path / "o"),
                 "--codecs", "jpeg"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_bpp_targets_record_searched_quality(image_dir, tmp_path):
    out = tmp_path / "out"
    assert main(["--data", str(image_dir), "--out", str(out), "--codecs", "jpeg", "--metrics",
                 "psnr", "--bpps", "0.5,1.5", "--limit", "1", "--no-speed", "--no-plots",
                 "--no-progress"]) == 0
    rows = read_rows(out / "per_image.csv")
    assert [r["target"] for r in rows] == ["bpp=0.5", "bpp=1.5"]
    assert int(rows[0]["quality"]) < int(rows[1]["quality"])
    assert abs(float(rows[1]["bpp"]) - 1.5) < abs(float(rows[0]["bpp"]) - 1.5)
    assert not math.isnan(float(rows[0]["psnr-rgb"]))
