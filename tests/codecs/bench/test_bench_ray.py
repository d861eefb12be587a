"""`gic bench --ray`: on a local Ray instance of 2 CPUs (started and stopped here) the records
equal a local run's on the same points, and --limit then --resume fill them in the same way."""
from __future__ import annotations

import csv
import json

import pytest

from gic.codecs.bench.command import main

SETUP = ["--codecs", "jpeg,webp,progic", "--metrics", "psnr,ms-ssim,lpips", "--bpps", "0.5,1.5",
         "--no-progress", "--no-speed", "--no-plots"]
#: Columns a run on other processes must reproduce exactly (timings and memory are measurements).
SAME = ("image", "width", "height", "codec", "target", "quality", "bytes", "bpp", "psnr-rgb",
        "ms-ssim", "lpips")


def records(out):
    with open(out / "per_image.csv", newline="") as f:
        return [{k: r[k] for k in SAME} for r in csv.DictReader(f)]


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def close(a: list[dict], b: list[dict]) -> bool:
    """Equal; the network metric to 1e-6 relative: a worker runs torch on `--threads` threads, the
    local run's metrics on all CPUs, which changes LPIPS in about the 9th digit."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        for k in SAME:
            if k == "lpips":
                if abs(float(x[k]) - float(y[k])) > 1e-6 * abs(float(x[k])):
                    return False
            elif x[k] != y[k]:
                return False
    return True


@pytest.mark.slow
def test_ray_records_equal_a_local_run_and_resume_with_limit(local_ray, image_dir, tmp_path):
    local, spread, resumed = tmp_path / "local", tmp_path / "ray", tmp_path / "resumed"
    assert main(["--data", str(image_dir), "--out", str(local), *SETUP]) == 0
    assert main(["--data", str(image_dir), "--out", str(spread), *SETUP, "--ray"]) == 0
    want = records(local)
    assert len(want) == 2 * 3 * 2 and close(records(spread), want)
    run = json.loads((spread / "run.json").read_text())
    assert run["ray"]["cpus"] == 2 and "--ray" in run["command"]

    assert main(["--data", str(image_dir), "--out", str(resumed), *SETUP, "--ray", "--limit", "1"]) == 0
    assert {r["image"] for r in records(resumed)} == {"im0.png"}
    assert main(["--data", str(image_dir), "--out", str(resumed), *SETUP, "--ray", "--resume"]) == 0
    assert close(records(resumed), want)  # same rows, same order as the local run


def test_ray_reports_what_it_needs_when_it_is_not_installed(monkeypatch, image_dir, tmp_path, capsys):
    import builtins

    real = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("no ray")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    assert main(["--data", str(image_dir), "--out", str(tmp_path / "o"), *SETUP, "--ray"]) == 2
    assert "pip install 'gic[ray]'" in capsys.readouterr().err
