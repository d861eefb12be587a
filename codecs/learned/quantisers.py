"""Vector quantisers for learned codecs: residual VQ (S stages) and plain VQ (one codebook), with
EMA codebooks and dead-code restarts.

Why EMA and restarts: codebooks updated only by gradients collapse to a handful of codes and
later stages stop helping (measured in GUIDE.md: 6–11 of 256 codes used). EMA k-means updates
plus replacing codes whose usage decays with current residuals keep every stage alive. A stage
that collapses within a step (a sudden jump in its input's scale strands every vector on a few
codes, faster than the EMA counts can notice) is re-seeded whole from the current residuals.
"""
from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn


def _all_reduce(t: torch.Tensor) -> torch.Tensor:
    """Sum a statistic over DDP ranks so every rank updates its codebooks identically."""
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(t)
    return t


class ResidualVQ(nn.Module):
    """S stages of K codes of dimension D; stage s quantises what stages < s left."""

    def __init__(self, stages: int, codes: int, dim: int, decay: float = 0.99,
                 dead_fraction: float = 0.25, collapse_fraction: float = 1 / 16):
        super().__init__()
        self.stages, self.codes, self.dim = stages, codes, dim
        self.decay, self.dead_fraction = decay, dead_fraction
        self.collapse_fraction = collapse_fraction  # batch usage below this share of K: re-seed
        self.reseeds = [0] * stages  # whole-stage re-seeds so far (training diagnostics)
        self.register_buffer("codebooks", torch.randn(stages, codes, dim) * 0.1)
        self.register_buffer("ema_count", torch.ones(stages, codes))
        self.register_buffer("ema_sum", self.codebooks.clone())
        self.register_buffer("initialised", torch.zeros((), dtype=torch.bool))

    @staticmethod
    def nearest(residual: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
        """Index of the nearest code for each row of residual (N x D)."""
        d = (codebook * codebook).sum(1)[None, :] - 2 * residual @ codebook.t()
        return d.argmin(1)

    def encode(self, z: torch.Tensor, start: int = 0, stop: int | None = None) -> torch.Tensor:
        """Indices ((stop - start) x N) of stages start..stop-1 (default: all) for latents z (N x D)."""
        residual = z
        out = []
        for s in range(start, self.stages if stop is None else stop):
            idx = self.nearest(residual, self.codebooks[s])
            residual = residual - self.codebooks[s][idx]
            out.append(idx)
        return torch.stack(out)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Quantised vectors per stage (S x N x D) from indices (S x N)."""
        return torch.stack([self.codebooks[s][indices[s]] for s in range(indices.shape[0])])

    def forward(self, z: torch.Tensor, start: int = 0, stop: int | None = None,
                update: bool = True) -> tuple[torch.Tensor, torch.Tensor, dict]:
        """Quantise z (N x D) with stages start..stop-1 (default: all).

        Returns indices (S' x N), per-stage quantised vectors (S' x N x D) without gradient,
        and statistics (codes used per stage). In training mode with `update`, updates the
        codebooks (a model with two latents quantises each with its own range of stages).
        """
        z = z.detach()
        stop = self.stages if stop is None else stop
        if self.training and not bool(self.initialised):
            residual = z
            for s in range(start, stop):
                # initialise stage s from data, then quantise to get the next residual
                pick = residual[torch.randint(0, residual.shape[0], (self.codes,), device=z.device)]
                self.codebooks[s] = pick + 1e-3 * torch.randn_like(pick)
                self.ema_sum[s] = self.codebooks[s].clone()
                residual = residual - self.codebooks[s][self.nearest(residual, self.codebooks[s])]
            if dist.is_available() and dist.is_initialized():
                dist.broadcast(self.codebooks, 0)
                self.ema_sum.copy_(self.codebooks)
            if stop == self.stages:  # a two-latent model initialises its second range next
                self.initialised.fill_(True)
        residual = z
        indices, quants, used = [], [], []
        for s in range(start, stop):
            cb = self.codebooks[s]
            idx = self.nearest(residual, cb)
            if self.training and update:
                if self._ema_update(s, residual, idx):  # re-seeded: quantise with the new codes
                    idx = self.nearest(residual, self.codebooks[s])
                cb = self.codebooks[s]
            q = cb[idx]
            used.append(int(torch.unique(idx).numel()))
            indices.append(idx)
            quants.append(q)
            residual = residual - q
        return torch.stack(indices), torch.stack(quants), {"used": used}

    @torch.no_grad()
    def _ema_update(self, s: int, residual: torch.Tensor, idx: torch.Tensor) -> bool:
        """One EMA k-means step for stage s; True when the stage had collapsed and was re-seeded."""
        onehot = torch.zeros(residual.shape[0], self.codes, device=residual.device)
        onehot.scatter_(1, idx[:, None], 1.0)
        count = _all_reduce(onehot.sum(0))
        if float(count.sum()) >= self.codes and int((count > 0).sum()) < self.collapse_fraction * self.codes:
            self._reseed(s, residual)
            return True
        total = _all_reduce(onehot.t() @ residual)
        self.ema_count[s].mul_(self.decay).add_(count, alpha=1 - self.decay)
        self.ema_sum[s].mul_(self.decay).add_(total, alpha=1 - self.decay)
        n = self.ema_count[s].sum()
        smoothed = (self.ema_count[s] + 1e-5) / (n + self.codes * 1e-5) * n
        self.codebooks[s] = self.ema_sum[s] / smoothed[:, None]
        # restart codes whose usage decayed far below average with random current residuals
        dead = self.ema_count[s] < self.dead_fraction * n / self.codes
        nd = int(dead.sum())
        if nd:
            pick = residual[torch.randint(0, residual.shape[0], (nd,), device=residual.device)]
            if dist.is_available() and dist.is_initialized():
                dist.broadcast(pick, 0)
            self.codebooks[s][dead] = pick
            # a restarted code starts with average usage; its EMA sum must match (sum = code * count)
            self.ema_count[s][dead] = n / self.codes
            self.ema_sum[s][dead] = pick * (n / self.codes)
        return False

    @torch.no_grad()
    def _reseed(self, s: int, residual: torch.Tensor) -> None:
        """Replace every code of stage s by a distinct current residual (the data initialisation,
        redone), with uniform usage, so the next batches spread over the whole codebook again."""
        n = residual.shape[0]
        rows = torch.randperm(n, device=residual.device)[: self.codes] if n >= self.codes else \
            torch.randint(0, n, (self.codes,), device=residual.device)
        pick = residual[rows] + 1e-3 * residual.std() * torch.randn_like(residual[rows])
        if dist.is_available() and dist.is_initialized():
            dist.broadcast(pick, 0)
        total = float(self.ema_count[s].sum())
        self.codebooks[s] = pick
        self.ema_count[s].fill_(total / self.codes)
        self.ema_sum[s] = pick * (total / self.codes)
        self.reseeds[s] += 1


class VectorQuantiser(nn.Module):
    """Plain VQ: one codebook of K codes of dimension D (a token codec's quantiser).

    The same EMA updates, restarts and re-seeding as a one-stage ResidualVQ (it is one inside), with
    single-stage shapes: indices N, vectors N x D.
    """

    def __init__(self, codes: int, dim: int, **options):
        super().__init__()
        self.rvq = ResidualVQ(1, codes, dim, **options)

    @property
    def codebook(self) -> torch.Tensor:
        return self.rvq.codebooks[0]

    def encode(self, z: torch.Tensor) -> torch.Tensor:
        """Index of the nearest code for each row of z (N x D)."""
        return self.rvq.encode(z)[0]

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Code vectors (N x D) of indices (N)."""
        return self.codebook[indices]

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict]:
        """Indices (N), quantised vectors without gradient (N x D) and statistics; in training
        mode the codebook follows the data (EMA)."""
        idx, q, stats = self.rvq(z)
        return idx[0], q[0], stats
