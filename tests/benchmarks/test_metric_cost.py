"""benchmarks/metric_cost.py: times every metric, cached and not, and writes what it measured."""
import json

import numpy as np
from PIL import Image


def test_metric_cost_times_every_metric_and_the_cache(load_script, tmp_path):
    mc = load_script("benchmarks/metric_cost.py")
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:176, 0:192]
    img = np.stack([x, y, x + y], -1) % 256 + rng.integers(0, 20, (176, 192, 3))
    Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(tmp_path / "a.png")
    out = tmp_path / "cost.json"
    assert mc.main(["--image", str(tmp_path / "a.png"), "--repeat", "1", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["size"] == "192x176" and "--repeat 1" in report["command"]
    assert {"psnr", "ms-ssim", "lpips", "lpips-cached"} <= set(report["seconds"])
    assert all(v > 0 for v in report["seconds"].values())
    assert report["cache_mb_per_image"]["lpips"] > 0
