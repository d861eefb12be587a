"""Every trainable family under `torchrun --nproc_per_node 2` on CPU (gloo): both ranks end with
the same model, EMA codebooks included, and a resumed run continues the schedule.

Each family's `gic train` takes the generic options used here (--model tiny among them; see
docs/architecture.md). Ranks draw different crops (seeded by rank), so identical weights at the end
mean the gradients and the quantisers' statistics really were reduced across processes.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gic.codecs import registry
from gic.codecs.learned.train import RANK_DUMP_ENV

FAMILIES = sorted({s.family for s in registry.suggested() if s.trainer})


@pytest.fixture(scope="module")
def train_images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    for i in range(3):
        rng = np.random.default_rng(i)
        y, x = np.mgrid[0:96, 0:96]
        img = np.stack([x * 2 + 10 * i, y * 2, (x + y)], -1) + rng.normal(0, 20, (96, 96, 3))
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f"im{i}.png")
    return folder


def torchrun(family: str, data: Path, out: Path, steps: int, dump: Path) -> str:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "gic.cli", "train", "--family", family, "--data", str(data), "--out", str(out),
           "--steps", str(steps), "--batch", "2", "--crop", "64", "--model", "tiny", "--threads", "1",
           "--device", "cpu", "--no-progress", "--log-every", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", RANK_DUMP_ENV: str(dump), "PYTHONWARNINGS": "ignore"}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return (out / "train.log").read_text()


def ranks(dump: Path) -> tuple[dict, dict]:
    a, b = (torch.load(dump / f"rank{r}.pt", weights_only=False) for r in (0, 1))
    assert a["world_size"] == b["world_size"] == 2
    return a, b


#: Families whose models hold EMA codebooks (the buffers that must be all-reduced, not just the
#: gradients); a token prior has none.
WITH_CODEBOOKS = {"progic"}


def assert_same_model(a: dict, b: dict, family: str) -> None:
    assert a["model"].keys() == b["model"].keys()
    differ = [k for k in a["model"] if not torch.equal(a["model"][k], b["model"][k])]
    assert not differ, f"ranks disagree on {differ}"
    if family in WITH_CODEBOOKS:
        assert any("ema" in k for k in a["model"]), "no EMA codebook buffers in the compared state"


def logged_lr(log: str) -> dict[int, str]:
    return {int(m[1]): m[2] for m in re.finditer(r" step (\d+) .* lr (\S+) ", log)}


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_two_ranks_agree_and_a_resumed_run_continues_the_schedule(family, train_images, tmp_path):
    whole = torchrun(family, train_images, tmp_path / "whole", 4, tmp_path / "d-whole")
    a, b = ranks(tmp_path / "d-whole")
    assert a["step"] == b["step"] == 4 and a["lr"] == b["lr"]
    assert_same_model(a, b, family)
    start = torch.load(tmp_path / "whole" / "last.pt", weights_only=False)
    assert all(torch.equal(start["model"][k].cpu(), a["model"][k]) for k in a["model"])  # rank 0 saved it

    torchrun(family, train_images, tmp_path / "cut", 2, tmp_path / "d-cut")
    resumed = torchrun(family, train_images, tmp_path / "cut", 4, tmp_path / "d-resumed")
    assert "resumed from" in resumed and " at step 2" in resumed
    resumed = resumed.split("resumed from", 1)[1]  # the log is appended to: this run's lines
    c, d = ranks(tmp_path / "d-resumed")
    assert c["step"] == d["step"] == 4
    assert_same_model(c, d, family)
    assert c["lr"] == a["lr"]  # the last step's learning rate, exactly
    assert len(logged_lr(whole)) == 4 and sorted(logged_lr(resumed)) == [3, 4]
    assert {s: v for s, v in logged_lr(resumed).items() if s > 2} == \
        {s: v for s, v in logged_lr(whole).items() if s > 2}
    ck = torch.load(tmp_path / "cut" / "last.pt", weights_only=False)
    assert ck["step"] == 4
    assert {int(s["step"]) for s in ck["opt"]["state"].values()} == {4}  # Adam counted on from 2
