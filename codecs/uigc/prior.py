"""The UIGC token prior: a small windowed transformer over the token grid (float, for training).

One network does both of UIGC's jobs: for the tokens of schedule step s it predicts a categorical
distribution from the tokens of steps < s (unknown ones are the MASK token), which entropy-codes
them; for the FILL step it predicts dropped tokens from everything sent, which regenerates them.

Every operation is chosen so that `fixed.FixedPrior` can mirror it in exact integer arithmetic:
embeddings, a depthwise 3x3 convolution for position, pre-norm blocks of 8x8 window attention
(alternate blocks offset by 4, padding masked) and a ReLU MLP, a final LayerNorm and a linear head.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import PriorConfig, pad_amounts, window_offset  # noqa: F401 (re-exported)

#: Score given to padded keys (finite, so a window of padding only stays finite; it is discarded).
PAD_SCORE = -1.0e4


class WindowAttention(nn.Module):
    def __init__(self, dim: int, heads: int, window: int, offset: int):
        super().__init__()
        self.heads, self.window, self.offset = heads, window, offset
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # B x h x w x d
        b, h, w, d = x.shape
        win, nh = self.window, self.heads
        (t, bt), (l, r) = pad_amounts(h, self.offset, win), pad_amounts(w, self.offset, win)
        qkv = F.pad(self.qkv(x), (0, 0, l, r, t, bt))
        valid = F.pad(x.new_ones(b, h, w), (l, r, t, bt))
        H, W = qkv.shape[1] // win, qkv.shape[2] // win
        qkv = qkv.view(b, H, win, W, win, 3, nh, d // nh).permute(5, 0, 1, 3, 6, 2, 4, 7)
        q, k, v = (z.reshape(b * H * W, nh, win * win, d // nh) for z in qkv)
        keep = valid.view(b, H, win, W, win).permute(0, 1, 3, 2, 4).reshape(b * H * W, 1, 1, win * win)
        scores = (q @ k.transpose(-1, -2)) * (d // nh) ** -0.5
        scores = torch.where(keep > 0, scores, torch.full_like(scores, PAD_SCORE))
        out = scores.softmax(-1) @ v  # (bHW) x nh x win² x hd
        out = out.view(b, H, W, nh, win, win, d // nh).permute(0, 1, 4, 2, 5, 3, 6)
        out = out.reshape(b, H * win, W * win, d)[:, t:t + h, l:l + w]
        return self.proj(out)


class Block(nn.Module):
    def __init__(self, cfg: PriorConfig, index: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.dim)
        self.attn = WindowAttention(cfg.dim, cfg.heads, cfg.window, window_offset(index, cfg.window))
        self.norm2 = nn.LayerNorm(cfg.dim)
        self.fc1 = nn.Linear(cfg.dim, cfg.mlp * cfg.dim)
        self.fc2 = nn.Linear(cfg.mlp * cfg.dim, cfg.dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.relu(self.fc1(self.norm2(x))))


class TokenPrior(nn.Module):
    """tokens (B x h x w, MASK where unknown) and the step being predicted -> logits B x h x w x K."""

    def __init__(self, cfg: PriorConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab + 1, cfg.dim)
        self.step_embed = nn.Embedding(cfg.steps, cfg.dim)
        self.pos = nn.Conv2d(cfg.dim, cfg.dim, 3, padding=1, groups=cfg.dim)
        self.blocks = nn.ModuleList(Block(cfg, i) for i in range(cfg.depth))
        self.norm = nn.LayerNorm(cfg.dim)
        self.head = nn.Linear(cfg.dim, cfg.vocab)

    @property
    def mask_token(self) -> int:
        return self.cfg.vocab

    def forward(self, tokens: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens) + self.step_embed(step)[:, None, None]
        x = x + self.pos(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))


def num_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
