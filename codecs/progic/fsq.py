"""Finite scalar quantisation (FSQ) stages: the late layers of a two-latent model without codebooks.

Why: a second latent coded by EMA codebooks collapsed in every CPU run here (a jump in the latent's
scale strands every vector on a few codes faster than EMA counts notice). FSQ bounds each channel
with tanh and rounds it to a fixed grid of levels, so there is nothing to collapse and nothing to
restart. Each stage carries its own group of channels; with 4 channels of 4 levels a stage's index
is one of 4**4 = 256 values, the same 8-bit layer the RVQ stages write, so the container, entropy
tables, ROI depths and progressive decode need no change. Undecoded groups read as zero (the
middle of the grid), and the decoder's stage modulation says how many groups it has.
"""
from __future__ import annotations

import torch
from torch import nn


class ScalarStages(nn.Module):
    """`groups` stages of `channels` channels, each rounded to `levels` values in (-bound, bound)."""

    def __init__(self, groups: int, channels: int = 4, levels: int = 4):
        super().__init__()
        self.groups, self.channels, self.levels = groups, channels, levels
        self.register_buffer("radix", levels ** torch.arange(channels), persistent=False)

    @property
    def dim(self) -> int:
        return self.groups * self.channels

    @property
    def codes(self) -> int:
        return self.levels ** self.channels

    def _bounded(self, z: torch.Tensor) -> torch.Tensor:
        # even level counts sit at half-integers: (-L/2, L/2) holds levels -L/2+1/2 .. L/2-1/2
        return torch.tanh(z) * (self.levels / 2)

    def _level(self, zb: torch.Tensor) -> torch.Tensor:
        """Integer level 0..L-1 of bounded values (floor of the shifted value, clamped)."""
        return torch.floor(zb + self.levels / 2).clamp_(0, self.levels - 1)

    def values(self, level: torch.Tensor) -> torch.Tensor:
        return level - (self.levels - 1) / 2

    def quantise(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Straight-through quantised values (N x dim, gradient of the bounded z) and indices
        (groups x N) for an unbounded latent z (N x dim)."""
        zb = self._bounded(z)
        level = self._level(zb.detach())
        q = zb + (self.values(level) - zb).detach()
        return q, self._indices(level)

    def _indices(self, level: torch.Tensor) -> torch.Tensor:
        n = level.shape[0]
        lv = level.long().view(n, self.groups, self.channels)
        return (lv * self.radix).sum(-1).t().contiguous()

    def encode(self, z: torch.Tensor) -> torch.Tensor:
        """Indices (groups x N) of latents z (N x dim)."""
        return self._indices(self._level(self._bounded(z)))

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Quantised values per stage (G' x N x channels) from indices (G' x N), G' <= groups."""
        level = (indices.unsqueeze(-1) // self.radix) % self.levels
        return self.values(level.to(torch.get_default_dtype()))
