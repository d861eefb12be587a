"""benchmarks/compare_weights.py: the anchor curve it reads from a bench CSV and the BD-rates."""
import csv
from pathlib import Path

import pytest

@pytest.fixture(scope="module")
def cw(load_script):
    return load_script("benchmarks/compare_weights.py")


def write_csv(path: Path, rows: list[tuple]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "codec", "target", "bpp", "lpips", "dists"])
        w.writerows(rows)


def test_anchor_curve_averages_per_setting_over_the_compared_images(cw, tmp_path):
    write_csv(tmp_path / "b.csv", [
        ("a.png", "avif", "q=0", 0.1, 0.5, 0.3), ("b.png", "avif", "q=0", 0.3, 0.3, 0.1),
        ("c.png", "avif", "q=0", 9.0, 9.0, 9.0),  # not compared: ignored
        ("a.png", "avif", "q=9", 0.4, 0.2, 0.2), ("b.png", "avif", "q=9", 0.6, 0.2, 0.0),
        ("a.png", "jpeg", "q=9", 5.0, 5.0, 5.0)])
    curve = cw.anchor_curve(str(tmp_path / "b.csv"), "avif", [Path("a.png"), Path("b.png")])
    expected = {"bpp": [0.2, 0.5], "lpips": [0.4, 0.2], "dists": [0.2, 0.1]}
    assert {k: pytest.approx(v) for k, v in expected.items()} == curve
    with pytest.raises(SystemExit, match="no webp rows"):
        cw.anchor_curve(str(tmp_path / "b.csv"), "webp", [Path("a.png")])


def test_bd_rates_use_dists_only_where_measured(cw):
    anchor = {"bpp": [0.1, 0.2, 0.4], "lpips": [0.5, 0.4, 0.3], "dists": [0.3, 0.2, 0.1]}
    half = {"bpp": [0.05, 0.1, 0.2], "lpips": [0.5, 0.4, 0.3], "dists": {"1": 0.3, "3": 0.1}}
    bd = cw.bd_against(anchor, half)
    assert bd["lpips"] == pytest.approx(-50.0, abs=0.1)
    assert bd["dists"] < 0  # same DISTS at half the rate at both measured stages
    assert "dists" not in cw.bd_against(anchor, dict(half, dists={"2": 0.2}))
