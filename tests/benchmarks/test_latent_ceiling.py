"""benchmarks/latent_ceiling.py: residual energy per RVQ stage and the unquantised-decode ceiling."""
import json

import pytest
import torch

from gic.codecs.learned.quantisers import ResidualVQ


@pytest.fixture(scope="module")
def lc(load_script):
    return load_script("benchmarks/latent_ceiling.py")


def test_residual_energy_is_zero_once_a_stage_holds_the_latent_exactly(lc):
    torch.manual_seed(0)
    rvq = ResidualVQ(stages=3, codes=8, dim=4)
    flat = torch.randn(8, 4)
    rvq.codebooks[0] = flat  # every latent vector is a code of stage 1
    rvq.codebooks[1:] = 0.0
    shares = lc.residual_energy(rvq, flat)
    assert shares == pytest.approx([1.0, 0.0, 0.0, 0.0], abs=1e-6)
    rvq.codebooks[0] = 0.0  # nothing coded: the whole latent remains
    assert lc.residual_energy(rvq, flat) == pytest.approx([1.0] * 4)


def test_measures_a_weight_file_on_a_folder(lc, tiny_weights_and_images):
    weights, tmp_path = tiny_weights_and_images(40, 52)
    assert lc.main([str(weights), "--data", str(tmp_path), "--stages", "1,3",
                    "--out", str(tmp_path / "r.json")]) == 0
    (r,) = json.loads((tmp_path / "r.json").read_text())
    assert r["images"] == 2 and set(r["psnr"]) == {"unquantised", "1", "3"}
    assert all(0 < v < 60 for v in r["psnr"].values())
    assert len(r["residual_energy_share"]) == 4 and r["residual_energy_share"][0] == 1.0
    with pytest.raises(SystemExit, match="must lie in 1..3"):
        lc.main([str(weights), "--data", str(tmp_path), "--stages", "4"])
