"""Training plumbing every learned family shares; each family supplies its model, step and evaluation.

`TrainerBase` runs on CPU, on CUDA, and under `torchrun` (DistributedDataParallel: each rank draws
its own random crops; a family's quantiser all-reduces its own statistics). It owns the device
choice, seeds, the learning-rate schedule (linear warm-up, cosine decay), atomic checkpoints and
resuming, the log file, the progress bar, periodic evaluation and a clean stop on SIGTERM.

A family subclass builds `self.model` and `self.opt` (and anything else) in `setup()`, and
implements `train_step()` (one optimisation step → a dict of floats) and `evaluate()`; it adds its
own state to checkpoints with `extra_state()` / `load_extra_state()`.
"""
from __future__ import annotations

import json
import math
import os
import signal
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
from torch import nn


@dataclass
class BaseTrainConfig:
    """What every family's training run has; a family's config subclasses it."""

    data: str = ""
    out: str = "runs/model"
    steps: int = 100_000
    batch: int = 8
    crop: int = 128
    lr: float = 3e-4
    lr_final: float = 3e-5  # cosine decay over `steps`
    warmup: int = 200  # steps of linear warm-up
    checkpoint_every: int = 250
    log_every: int = 25
    eval_every: int = 1000
    eval_dir: str = ""  # optional folder of images for the family's periodic evaluation
    eval_images: int = 3
    threads: int = 0  # torch threads on CPU (0: all cores)
    seed: int = 0
    device: str = "auto"


def is_main() -> bool:
    """True on the rank that writes logs and checkpoints (always, outside torchrun)."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def atomic_save(obj, path: Path) -> None:
    """torch.save to a temporary file, then rename: a crash never leaves half a checkpoint."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def cosine_lr(step: int, lr: float, lr_final: float, steps: int, warmup: int = 200) -> float:
    """Linear warm-up over `warmup` steps, then cosine decay from lr to lr_final at `steps`."""
    warm = min(1.0, (step + 1) / max(1, warmup))
    t = min(1.0, step / max(1, steps))
    return warm * (lr_final + 0.5 * (lr - lr_final) * (1 + math.cos(math.pi * t)))


#: Set to a folder, every rank writes its final state there (`rank<N>.pt`): how a test (or a
#: suspicious user) checks that the ranks of a torchrun job really hold the same model.
RANK_DUMP_ENV = "GIC_TRAIN_RANK_DUMP"


class TrainerBase(ABC):
    #: Keys of train_step()'s result averaged into each log line (the family's loss terms).
    log_keys: tuple[str, ...] = ("loss",)
    #: Keys shown beside the progress bar.
    progress_keys: tuple[str, ...] = ("loss",)

    def __init__(self, cfg: BaseTrainConfig, log: Callable[[str], None] | None = None):
        self.cfg = cfg
        self.distributed = "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1
        if self.distributed:
            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        self.rank = dist.get_rank() if self.distributed else 0
        if cfg.device == "auto":
            dev = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu"
        else:
            dev = cfg.device
        self.device = torch.device(dev)
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        if cfg.threads and self.device.type == "cpu":
            torch.set_num_threads(cfg.threads)
        self.out = Path(cfg.out)
        if is_main():
            self.out.mkdir(parents=True, exist_ok=True)
        self._log_fn = log
        torch.manual_seed(cfg.seed + self.rank)
        self.rng = np.random.default_rng(cfg.seed + 1000 * self.rank + int(time.time()))
        self.gen = torch.Generator().manual_seed(cfg.seed + self.rank)
        self.step = 0
        self.history: list[dict] = []
        self._stop = False
        self.model: nn.Module
        self.opt: torch.optim.Optimizer
        self.setup()
        self._resume()
        self.ddp = None
        if self.distributed:
            self.ddp = nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                broadcast_buffers=False)

    # -- the family supplies -----------------------------------------------------------------------
    @abstractmethod
    def setup(self) -> None:
        """Build self.model and self.opt (and losses, data...) before a checkpoint is resumed."""

    @abstractmethod
    def train_step(self) -> dict:
        """One optimisation step (advance self.step); returns floats for the log."""

    def evaluate(self) -> dict:
        """Periodic evaluation on cfg.eval_dir (default: none)."""
        return {}

    def extra_state(self) -> dict:
        """More to keep in a checkpoint (e.g. a discriminator)."""
        return {}

    def load_extra_state(self, ck: dict) -> None:
        """Restore what extra_state() saved."""

    def status(self, result: dict) -> str:
        """Extra text at the end of a log line (e.g. codebook usage)."""
        return ""

    # -- shared ---------------------------------------------------------------------------------
    def log(self, msg: str) -> None:
        if not is_main():
            return
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}"
        with open(self.out / "train.log", "a") as f:
            f.write(line + "\n")
        if self._log_fn:
            self._log_fn(line)

    def lr_at(self, step: int) -> float:
        c = self.cfg
        return cosine_lr(step, c.lr, c.lr_final, c.steps, c.warmup)

    def set_lr(self) -> None:
        """Each optimiser group at the schedule's rate times its own `scale` (default 1)."""
        for g in self.opt.param_groups:
            g["lr"] = self.lr_at(self.step) * g.get("scale", 1.0)

    def checkpoint_path(self) -> Path:
        return self.out / "last.pt"

    def _resume(self) -> None:
        path = self.checkpoint_path()
        if not path.exists():
            return
        ck = torch.load(path, map_location=self.device, weights_only=False)
        self.model.load_state_dict(ck["model"])
        self.opt.load_state_dict(ck["opt"])
        for g in self.opt.param_groups:  # a resumed run may be given a new learning rate
            g["initial_lr"] = self.cfg.lr
        self.load_extra_state(ck)
        self.step = ck["step"]
        self.history = ck.get("history", [])
        self.log(f"resumed from {path} at step {self.step}")

    def save(self) -> None:
        if not is_main():
            return
        ck = {"model": self.model.state_dict(), "opt": self.opt.state_dict(), "step": self.step,
              "model_config": self.model_config(), "train_config": asdict(self.cfg),
              "history": self.history, **self.extra_state()}
        atomic_save(ck, self.checkpoint_path())

    def model_config(self) -> dict:
        """The architecture stored with checkpoints (models with a `cfg.to_dict()` by default)."""
        return self.model.cfg.to_dict()

    def dump_rank_state(self, folder: Path) -> None:
        """This rank's model state (parameters and buffers: EMA codebooks too), step and learning
        rate, to folder/rank<N>.pt; every rank writes, unlike checkpoints."""
        folder.mkdir(parents=True, exist_ok=True)
        atomic_save({"model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
                     "step": self.step, "lr": [g["lr"] for g in self.opt.param_groups],
                     "world_size": dist.get_world_size() if self.distributed else 1},
                    folder / f"rank{self.rank}.pt")

    def run(self, progress: bool = True) -> None:
        c = self.cfg
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "_stop", True))
        bar = None
        if progress and is_main():
            try:
                from tqdm import tqdm
                bar = tqdm(total=c.steps, initial=self.step, desc="train", dynamic_ncols=True)
            except ImportError:
                bar = None
        acc: list[dict] = []
        t0 = time.time()
        finished = False
        try:
            while self.step < c.steps and not self._stop:
                acc.append(self.train_step())
                if bar:
                    bar.update(1)
                    bar.set_postfix({k: f"{acc[-1][k]:.3f}" for k in self.progress_keys if k in acc[-1]})
                if self.step % c.log_every == 0:
                    avg = {k: float(np.mean([a[k] for a in acc])) for k in self.log_keys}
                    dt = (time.time() - t0) / len(acc)
                    self.log(f"step {self.step} " + " ".join(f"{k} {v:.4f}" for k, v in avg.items())
                             + f" lr {self.lr_at(self.step):.2e} s/step {dt:.3f}" + self.status(acc))
                    self.history.append({"step": self.step, **avg, "s_per_step": dt})
                    acc, t0 = [], time.time()
                if self.step % c.checkpoint_every == 0:
                    self.save()
                if c.eval_dir and self.step % c.eval_every == 0 and is_main():
                    ev = self.evaluate()
                    self.history.append({"step": self.step, "eval": ev})
                    self.log("eval " + json.dumps(ev))
            finished = True
        finally:
            self.save()
            if bar:
                bar.close()
            self.log(f"stopped at step {self.step}")
            if finished and os.environ.get(RANK_DUMP_ENV):
                self.dump_rank_state(Path(os.environ[RANK_DUMP_ENV]))
            if self.distributed:
                dist.destroy_process_group()


def add_run_arguments(p, d: BaseTrainConfig, eval_help: str = "images for periodic evaluation") -> None:
    """The `gic train` options every family's run has the same way (evaluation cadence, checkpoints,
    logging, threads, device, progress, export identity), on an argparse parser."""
    p.add_argument("--eval-dir", default="", help=eval_help)
    p.add_argument("--eval-every", type=int, default=d.eval_every)
    p.add_argument("--eval-images", type=int, default=d.eval_images)
    p.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every)
    p.add_argument("--log-every", type=int, default=d.log_every)
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: all)")
    p.add_argument("--device", default="auto")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--export", metavar="WEIGHTS", help="write shippable fp16 weights from the run's "
                   "last checkpoint to WEIGHTS and exit")
    p.add_argument("--model-id", default=None, metavar="NAME", help="identity written by --export")
