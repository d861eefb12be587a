"""Pieces of the benchmark that need no codec run: points, averaging, CSV, memory, ratios."""
import math
import os

import numpy as np
import pytest

from gic.codecs.bench.images import list_images, speed_image
from gic.codecs.bench.memory import PeakRSS, max_rss_mb
from gic.codecs.bench.records import (BenchError, average_results, columns, read_csv, write_csv)
from gic.codecs.bench.runner import BenchConfig, MetricRunner, bd_table, quality_points
from gic.codecs.bench.speed import thread_budget, with_ratios


class FakeCodec:
    def __init__(self, lo, hi):
        self.quality_range = (lo, hi)


def test_quality_points_short_range_uses_every_quality():
    assert quality_points(FakeCodec(1, 8), 6) == list(range(1, 9))


def test_quality_points_long_range_dense_at_low_end():
    qs = quality_points(FakeCodec(0, 100), 8)
    assert len(qs) == 8 and qs[0] == 0 and qs[-1] == 80
    gaps = np.diff(qs)
    assert all(gaps > 0) and gaps[0] < gaps[-1]


def test_average_results_shape_and_nan_handling():
    rows = [
        {"image": "a", "codec": "c", "target": "q=1", "quality": 1, "bpp": 0.1, "psnr-rgb": 30.0,
         "lpips": 0.3, "encoding_time": 1.0, "decoding_time": 0.5},
        {"image": "b", "codec": "c", "target": "q=1", "quality": 1, "bpp": 0.3, "psnr-rgb": 32.0,
         "lpips": math.nan, "encoding_time": 3.0, "decoding_time": 0.5},
        {"image": "a", "codec": "other", "target": "q=1", "quality": 1, "bpp": 9.0,
         "psnr-rgb": 1.0, "lpips": 1.0, "encoding_time": 1.0, "decoding_time": 1.0},
    ]
    got = average_results(rows, "c", ["psnr", "lpips"], ["q=1", "q=2"], "desc")
    assert got["name"] == "c" and got["description"] == "desc"
    assert got["targets"] == ["q=1"] and got["num_images"] == [2]
    assert got["results"]["bpp"] == [pytest.approx(0.2)]
    assert got["results"]["psnr-rgb"] == [pytest.approx(31.0)]
    assert got["results"]["lpips"] == [None]  # NaN on one image: no honest average
    assert set(got["results"]) == {"bpp", "psnr-rgb", "lpips", "encoding_time", "decoding_time"}


def test_csv_round_trip_and_header_check(tmp_path):
    header = columns(["psnr"])
    row = {"image": "a.png", "width": 4, "height": 2, "codec": "jpeg", "target": "q=5", "quality": 5,
           "bytes": 100, "bpp": 100.0, "psnr-rgb": math.nan, "encoding_time": 0.25,
           "decoding_time": 1e-5, "encoding_mem_mb": 0.0, "decoding_mem_mb": 3.5}
    write_csv(tmp_path / "x.csv", header, [row])
    back = read_csv(tmp_path / "x.csv", header)
    assert len(back) == 1 and math.isnan(back[0].pop("psnr-rgb"))
    assert back[0] == {k: v for k, v in row.items() if k != "psnr-rgb"}
    with pytest.raises(BenchError, match="same --metrics"):
        read_csv(tmp_path / "x.csv", columns(["psnr", "lpips"]))


def test_metric_runner_records_failure_as_nan():
    calls = []

    def compute(ref, dist, metrics, device=None):
        calls.append(tuple(metrics))
        if "dists" in metrics:
            raise FileNotFoundError("DISTS weights missing")
        return {m: 1.0 for m in metrics}

    run = MetricRunner(["psnr", "dists"], None, compute)
    a = np.zeros((4, 4, 3), np.uint8)
    first = run(a, a)
    assert first["psnr"] == 1.0 and math.isnan(first["dists"])
    assert "DISTS weights missing" in run.failed["dists"]
    calls.clear()
    second = run(a, a)  # the failed metric is not retried on every point
    assert calls == [("psnr",)] and math.isnan(second["dists"])


def test_bd_table_against_anchor():
    def curve(name, scale):
        return {"name": name, "results": {"bpp": [0.1 * scale, 0.2 * scale, 0.4 * scale],
                                          "psnr-rgb": [30.0, 33.0, 36.0]}}
    table = bd_table({"avif": curve("avif", 1), "half": curve("half", 0.5)}, "avif", ["psnr"])
    assert table["avif"]["psnr-rgb"] == pytest.approx(0.0)
    assert table["half"]["psnr-rgb"] == pytest.approx(-50.0)
    assert bd_table({"half": curve("half", 0.5)}, "avif", ["psnr"])["half"]["psnr-rgb"] is None


def test_speed_ratios_against_anchor():
    rows = [{"codec": "avif", "encoding_time": 0.2, "decoding_time": 0.05},
            {"codec": "x", "encoding_time": 0.1, "decoding_time": 0.2},
            {"codec": "bad", "error": "boom"}]
    out = with_ratios(rows, "avif")
    assert out[1]["encoding_ratio"] == pytest.approx(0.5)
    assert out[1]["decoding_ratio"] == pytest.approx(4.0)
    assert out[2]["encoding_ratio"] is None


def test_peak_rss_sees_a_large_allocation():
    with PeakRSS() as peak:
        block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
    assert peak.extra_mb > 48
    assert max_rss_mb() > 48
    del block


def test_list_images_sorted_filtered_limited(image_dir):
    assert [p.name for p in list_images(image_dir)] == ["im0.png", "im1.png"]
    assert [p.name for p in list_images(image_dir, 1)] == ["im0.png"]
    with pytest.raises(BenchError, match="no images"):
        list_images(image_dir / "..")  # tmp_path holds only the folder itself


def test_speed_image_is_landscape_768x512():
    portrait = np.zeros((300, 200, 3), np.uint8)
    assert speed_image(portrait).shape == (512, 768, 3)
    exact = np.random.default_rng(0).integers(0, 255, (512, 768, 3), dtype=np.uint8)
    assert np.array_equal(speed_image(exact), exact)


def test_command_line_reproduces_options(tmp_path):
    cfg = BenchConfig(data=tmp_path / "k", out=tmp_path / "o", codecs=["a", "b"], bpps=(0.05, 0.1),
                      limit=2, threads=2, speed=False)
    line = cfg.command_line()
    assert "--codecs a,b" in line and "--bpps 0.05,0.1" in line and "--limit 2" in line
    assert "--threads 2" in line and "--no-speed" in line and "--points" not in line
    assert "--limit" not in cfg.command_line(with_limit=False)


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="needs CPU affinity (Linux)")
def test_thread_budget_pins_and_restores():
    before = os.sched_getaffinity(0)
    env = os.environ.get("OMP_NUM_THREADS")
    with thread_budget(1) as cpus:
        assert cpus == 1 and len(os.sched_getaffinity(0)) == 1
        assert os.environ["OMP_NUM_THREADS"] == "1"
    assert os.sched_getaffinity(0) == before and os.environ.get("OMP_NUM_THREADS") == env


def test_child_peak_rss_does_not_include_parent(tmp_path):
    # A fresh process must not be billed for its parent's memory (Linux ru_maxrss would be).
    import subprocess
    import sys
    block = np.ones(160 * 2**20 // 8)  # the parent holds 160 MiB
    code = "from gic.codecs.bench.memory import max_rss_mb; print(max_rss_mb())"
    child = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout)
    assert 5 < child < 120
    del block


def test_average_of_lossless_psnr_is_null_not_infinite(tmp_path):
    from gic.codecs.bench.records import write_json
    rows = [{"image": "a", "codec": "c", "target": "q=9", "quality": 9, "bpp": 8.0,
             "psnr-rgb": math.inf, "encoding_time": 1.0, "decoding_time": 1.0}]
    got = average_results(rows, "c", ["psnr"], ["q=9"])
    assert got["results"]["psnr-rgb"] == [None]
    write_json(tmp_path / "c.json", got)  # strict JSON: would raise on inf


def test_dists_is_opt_in_on_cpu_and_help_says_what_each_metric_costs(tmp_path):
    import argparse

    from gic.codecs.bench.command import add_arguments, config_from_args
    from gic.codecs.bench.runner import ALL_METRICS, default_metrics

    assert default_metrics("cpu") == ("psnr", "ms-ssim", "lpips")
    assert default_metrics("cuda:0") == ALL_METRICS
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    cfg = config_from_args(parser.parse_args(["--data", str(tmp_path), "--out", str(tmp_path), "--device", "cpu"]))
    assert cfg.metrics == ("psnr", "ms-ssim", "lpips") and "--metrics" not in cfg.command_line()
    chosen = config_from_args(parser.parse_args(["--data", str(tmp_path), "--out", str(tmp_path),
                                                 "--device", "cpu", "--metrics", "psnr,dists"]))
    assert chosen.metrics == ("psnr", "dists") and "--metrics psnr,dists" in chosen.command_line()
    text = " ".join(parser.format_help().split())
    for fragment in ("psnr ~1 ms", "ms-ssim 0.4 s", "lpips 0.5 s", "dists 10 s", "cached"):
        assert fragment in text
