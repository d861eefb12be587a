"""Training MCDH: `gic train --family mcdh` runs, resumes from its checkpoint, exports, and a new run
can start from the export alone (run folders are lost between sessions; committed exports are not)."""
import numpy as np
import pytest
import torch
from PIL import Image

from gic.cli.main import main as gic_main
from gic.codecs.errors import CodecError
from gic.codecs.mcdh.train import MCDHTrainConfig, MCDHTrainer
from gic.codecs.mcdh.train_command import TINY_MODEL
from gic.codecs.mcdh.weights import load_mcdh



def _images(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "img"
    folder.mkdir()
    for i in range(3):
        a = (rng.random((80, 96, 3)) * 255).astype(np.uint8)
        Image.fromarray(a).save(folder / f"im{i}.png")
    return folder


def _args(data, out, *more):
    return ["train", "--family", "mcdh", "--data", str(data), "--out", str(out), "--model", "tiny",
            "--batch", "2", "--crop", "64", "--log-every", "1", "--checkpoint-every", "2",
            "--threads", "1", "--no-progress", *more]


def test_cli_trains_resumes_exports_and_inits_from_export(tmp_path):
    data, out = _images(tmp_path), tmp_path / "run"
    assert gic_main(_args(data, out, "--steps", "2")) == 0
    assert torch.load(out / "last.pt", weights_only=False)["step"] == 2
    assert gic_main(_args(data, out, "--steps", "3")) == 0
    assert torch.load(out / "last.pt", weights_only=False)["step"] == 3
    assert "resumed from" in (out / "train.log").read_text()
    weights = tmp_path / "w.pt"
    assert gic_main(["train", "--family", "mcdh", "--out", str(out), "--export", str(weights),
                     "--model-id", "mcdh-test"]) == 0
    loaded = load_mcdh(weights)
    assert loaded.model_id == "mcdh-test" and loaded.info["step"] == 3

    fresh = tmp_path / "run2"  # the run folder is gone: continue from the export
    assert gic_main(_args(data, fresh, "--steps", "4", "--init", str(weights))) == 0
    ck = torch.load(fresh / "last.pt", weights_only=False)
    assert ck["step"] == 4 and "initialised from" in (fresh / "train.log").read_text()
    exported = loaded.model.state_dict()
    start = {k: v.float() for k, v in ck["model"].items()}
    moved = max(float((start[k] - exported[k]).abs().max()) for k in exported if exported[k].is_floating_point())
    assert 0 < moved < 0.05  # one step from the export, not from a random init


def test_init_refuses_another_architecture(tmp_path):
    data, out = _images(tmp_path), tmp_path / "run"
    assert gic_main(_args(data, out, "--steps", "1")) == 0
    weights = tmp_path / "w.pt"
    gic_main(["train", "--family", "mcdh", "--out", str(out), "--export", str(weights), "--model-id", "t"])
    cfg = MCDHTrainConfig(data=str(data), out=str(tmp_path / "r2"), crop=64, batch=2, threads=1,
                          init=str(weights), model={**TINY_MODEL, "m": 24})
    with pytest.raises(CodecError, match="different architecture"):
        MCDHTrainer(cfg)
