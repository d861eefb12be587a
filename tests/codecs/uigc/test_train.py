"""Training the prior: `gic train --family uigc` on a token cache runs, resumes and exports."""
import numpy as np
import torch

from gic.cli.main import main as gic_main
from gic.codecs.uigc.tokens import TokenGrids
from gic.codecs.uigc.train import PriorTrainConfig, PriorTrainer
from gic.codecs.uigc.weights import load_prior


def _cache(tmp_path):
    rng = np.random.default_rng(0)
    shapes = np.array([[20, 24]] * 6)
    flat = (rng.integers(0, 16, int(shapes.prod(1).sum())) * 3).astype(np.uint16)  # learnable
    path = tmp_path / "tokens.npz"
    TokenGrids(flat, shapes, [f"g{i}" for i in range(6)]).save(path)
    return path


def test_cli_trains_resumes_and_exports(tmp_path):
    cache, out = _cache(tmp_path), tmp_path / "run"
    args = ["train", "--family", "uigc", "--data", str(cache), "--out", str(out), "--model", "tiny",
            "--batch", "4", "--crop", "128", "--log-every", "5", "--checkpoint-every", "5",
            "--threads", "1", "--no-progress"]
    assert gic_main(args + ["--steps", "10"]) == 0
    assert torch.load(out / "last.pt", weights_only=False)["step"] == 10
    assert gic_main(args + ["--steps", "15"]) == 0
    ck = torch.load(out / "last.pt", weights_only=False)
    assert ck["step"] == 15 and "resumed from" in (out / "train.log").read_text()
    weights = tmp_path / "prior.pt"
    assert gic_main(["train", "--family", "uigc", "--out", str(out), "--export", str(weights),
                     "--model-id", "uigc-test"]) == 0
    loaded = load_prior(weights)
    assert loaded.model_id == "uigc-test" and loaded.config.dim == 16 and loaded.tokenizer == "progic"


def test_loss_falls_on_learnable_tokens(tmp_path):
    cfg = PriorTrainConfig(data=str(_cache(tmp_path)), out=str(tmp_path / "r"), steps=60, batch=8, crop=8,
                           lr=3e-3, warmup=5, threads=1, log_every=10, checkpoint_every=100,
                           model={"dim": 32, "depth": 2, "heads": 2, "mlp": 2})
    # Seeded: the trainer draws its crops and steps from a time-seeded generator (so a resumed run
    # sees new crops), and one batch's loss swings by several bits with the steps it drew; unseeded,
    # this failed once in a clean-clone CI run (2026-12-04). Seeds 0-5 give 7.2-8.3 -> 4.2-4.9 bits.
    torch.manual_seed(0)
    t = PriorTrainer(cfg)
    t.rng = np.random.default_rng(0)
    first = [t.train_step()["loss"] for _ in range(5)]
    while t.step < 55:
        t.train_step()
    last = [t.train_step()["loss"] for _ in range(5)]
    assert np.mean(last) < np.mean(first) - 1.0  # 16 used values of 256: 8 bits -> ~4 bits
