"""Training the UIGC token prior on cached token grids (CPU, CUDA or torchrun, resumable).

Each sample is a random crop of a token grid and a random schedule step s: tokens of earlier steps
are given, the rest are MASK, and the loss is the cross-entropy (bits) of step s's tokens, scaled so
that its expectation is the file's bits per token. A share of samples trains FILL instead: steps
0..5 and a random part of step 6 given, the other step-6 tokens to regenerate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..learned.train import BaseTrainConfig, TrainerBase
from .prior import PriorConfig, TokenPrior
from .schedule import FILL, NUM_STEPS, step_map
from .tokens import TokenGrids

LN2 = math.log(2.0)


@dataclass
class PriorTrainConfig(BaseTrainConfig):
    out: str = "runs/uigc-prior"
    batch: int = 16
    crop: int = 16  # token grid crop (a 256x256-pixel patch)
    lr: float = 1e-3
    lr_final: float = 1e-5
    weight_decay: float = 0.01
    fill_fraction: float = 0.15
    preview_weight: float = 0.1  # weight of guessing later steps' tokens (progressive previews)
    init: str = ""  # a shipped prior weight file to start from
    model: dict = field(default_factory=dict)


def masked_input(grid: torch.Tensor, steps: torch.Tensor, step: int, mask_token: int,
                 known_fill: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(input tokens, target mask) for predicting `step` (or FILL with `known_fill` step-6 tokens)."""
    if step == FILL:
        known = (steps < NUM_STEPS - 1) | ((steps == NUM_STEPS - 1) & known_fill)
        target = (steps == NUM_STEPS - 1) & ~known
    else:
        known, target = steps < step, steps == step
    return torch.where(known, grid, torch.full_like(grid, mask_token)), target


def grid_bits(model: TokenPrior, grid: np.ndarray) -> np.ndarray:
    """Float cross-entropy in bits of each schedule step's tokens of one grid (no dropping)."""
    g = torch.from_numpy(grid)[None]
    steps = torch.from_numpy(step_map(*grid.shape))[None]
    out = np.zeros(NUM_STEPS)
    with torch.no_grad():
        for s in range(NUM_STEPS):
            tokens, target = masked_input(g, steps, s, model.mask_token)
            logits = model(tokens, torch.tensor([s]))
            ce = F.cross_entropy(logits[target], g[target], reduction="sum")
            out[s] = float(ce) / LN2
    return out


class PriorTrainer(TrainerBase):
    log_keys = ("loss", "fill", "later")
    progress_keys = ("loss",)
    cfg: PriorTrainConfig

    def setup(self) -> None:
        c = self.cfg
        self.grids = load_or_extract(c.data, self.out / "tokens.npz")
        pcfg = PriorConfig(**c.model)
        self.model = TokenPrior(pcfg).to(self.device)
        if c.init and not self.checkpoint_path().exists():
            from .weights import load_prior
            self.model.load_state_dict(load_prior(c.init, "torch").torch_state())
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        # eval_dir: a .npz of evaluation token grids (e.g. Kodak's), or a folder of images to tokenize
        self.eval_grids = load_or_extract(c.eval_dir, self.out / "eval_tokens.npz") if c.eval_dir else None

    def model_config(self) -> dict:
        return self.model.cfg.as_dict()

    def train_step(self) -> dict:
        c, model = self.cfg, self.ddp or self.model
        self.set_lr()
        grid = torch.from_numpy(self.grids.crops(self.rng, c.batch, c.crop)).to(self.device)
        steps = torch.from_numpy(step_map(c.crop, c.crop)).to(self.device).expand_as(grid)
        fill = self.rng.random(c.batch) < c.fill_fraction
        step = np.where(fill, FILL, self.rng.integers(0, NUM_STEPS, c.batch))
        rate = torch.from_numpy(self.rng.random((c.batch, 1, 1))).to(self.device)
        known_fill = torch.rand(grid.shape, generator=self.gen).to(self.device) < rate
        inputs, targets = [], []
        for b in range(c.batch):
            t, m = masked_input(grid[b:b + 1], steps[b:b + 1], int(step[b]), self.model.mask_token,
                                known_fill[b:b + 1])
            inputs.append(t)
            targets.append(m)
        tokens, target = torch.cat(inputs), torch.cat(targets)
        logits = model(tokens, torch.from_numpy(step).to(self.device))
        ce = F.cross_entropy(logits.permute(0, 3, 1, 2), grid, reduction="none") / LN2
        per = (ce * target).flatten(1).sum(1) / (c.crop * c.crop)
        code = torch.from_numpy(~fill).to(self.device)
        # coding samples: E[loss] = bits per token; fill samples: bits per regenerated token
        n_fill = target[~code].sum().clamp(min=1)
        loss_code = per[code].sum() * NUM_STEPS / max(1, int(code.sum()))
        loss_fill = (ce * target)[~code].sum() / n_fill if fill.any() else ce.new_zeros(())
        # the same pass also guesses every later token (the progressive preview): a light aux term
        later = (steps > torch.from_numpy(step).to(self.device)[:, None, None]) & code[:, None, None]
        loss_later = (ce * later).sum() / later.sum().clamp(min=1)
        loss = loss_code + 0.25 * loss_fill + c.preview_weight * loss_later
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        self.step += 1
        return {"loss": float(loss_code.detach()), "fill": float(loss_fill.detach()),
                "later": float(loss_later.detach())}

    def evaluate(self) -> dict:
        if self.eval_grids is None:
            return {}
        self.model.eval()
        n = min(len(self.eval_grids), self.cfg.eval_images)
        bits, tokens = np.zeros(NUM_STEPS), np.zeros(NUM_STEPS)
        for i in range(n):
            g = self.eval_grids.grid(i)
            bits += grid_bits(self.model, g)
            tokens += np.bincount(step_map(*g.shape).ravel(), minlength=NUM_STEPS)
        self.model.train()
        return {"bits_per_token": round(float(bits.sum() / tokens.sum()), 4),
                "per_step": [round(float(b / t), 3) for b, t in zip(bits, tokens)]}


def load_or_extract(source: str, cache: Path, tokenizer: str = "progic") -> TokenGrids:
    """Token grids from a .npz cache, or from a folder of images (tokenized once into `cache`)."""
    if source.endswith(".npz"):
        return TokenGrids.load(source)
    if cache.exists():
        return TokenGrids.load(cache)
    from PIL import Image

    from .. import registry
    from ..imageio import list_images
    codec = registry.create(tokenizer)

    def images():
        for f in list_images(source):
            with Image.open(f) as im:
                yield f.name, np.asarray(im.convert("RGB"))
    grids = TokenGrids.extract(images(), codec.tokenize)
    cache.parent.mkdir(parents=True, exist_ok=True)
    grids.save(cache)
    return grids


def train(cfg: PriorTrainConfig, log=None, progress: bool = True) -> Path:
    trainer = PriorTrainer(cfg, log=log)
    trainer.run(progress=progress)
    return trainer.checkpoint_path()
