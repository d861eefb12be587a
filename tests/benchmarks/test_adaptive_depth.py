"""benchmarks/adaptive_depth.py: encoder-chosen two-level depth maps against uniform depth."""
import json

import numpy as np
import pytest


@pytest.fixture(scope="module")
def ad(load_script):
    return load_script("benchmarks/adaptive_depth.py")


def test_block_means_average_only_the_pixels_inside_the_image(ad):
    values = np.arange(20 * 36, dtype=np.float64).reshape(20, 36)
    means = ad.block_means(values)
    assert means.shape == (2, 3)
    assert means[0, 0] == pytest.approx(values[:16, :16].mean())
    assert means[1, 2] == pytest.approx(values[16:, 32:].mean())  # a 4x4 edge block


def test_top_blocks_mask_covers_the_highest_scoring_blocks(ad):
    score = np.array([[0.1, 0.9, 0.3], [0.8, 0.2, 0.0]])
    mask = ad.top_blocks_mask(score, 1 / 3, (20, 40))
    assert mask.shape == (20, 40) and mask.dtype == bool
    assert mask[:16, 16:32].all() and mask[16:, :16].all()  # the two best blocks (0.9 and 0.8)
    assert mask.sum() == 16 * 16 + 4 * 16  # the second is cut by the image's bottom edge
    assert not ad.top_blocks_mask(score, 0.0, (20, 40)).any()


def test_measures_real_files_on_a_folder(ad, tiny_weights_and_images):
    weights, tmp_path = tiny_weights_and_images(48, 64)
    out = tmp_path / "r.json"
    assert ad.main(["--data", str(tmp_path), "--weights", str(weights), "--pairs", "1/3",
                    "--fractions", "0.5", "--out", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["images"] == ["0.png", "1.png"]
    res = r["results"]
    assert set(res) == {"uniform 1", "uniform 3", "lpips-gain 1/3 at 0.5", "random 1/3 at 0.5"}
    # half the blocks at 3 stages: more bits than 1 stage everywhere, fewer than 3 (plus the mask)
    assert res["uniform 1"]["bpp"] < res["lpips-gain 1/3 at 0.5"]["bpp"] < res["uniform 3"]["bpp"] + 0.3
    assert all(0 <= v["dists"] <= 1 and 0 <= v["lpips"] <= 2 for v in res.values())
    with pytest.raises(SystemExit):
        ad.main(["--data", str(tmp_path), "--weights", str(weights), "--pairs", "3/4"])
