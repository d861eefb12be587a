"""The ProGIC-style network: a lightweight analysis/synthesis pair around a residual VQ.

Images are in [0, 1], NCHW. The latent grid is 16x smaller than the image. The decoder takes a
per-position depth map (how many RVQ stages were decoded there), so one set of weights serves
every progressive prefix and every ROI depth pattern.

With `split` > 0 the late stages code a second latent instead of the first one's residual: a second
encoder sees the image and what the first `split` stages transmitted, so late stages can carry
detail the first latent never held (the first latent's information caps quality, not its RVQ).
The second latent's stages are either more RVQ codebooks (`late="rvq"`) or finite scalar
quantisation groups (`late="fsq"`: bounded, no codebooks to collapse; see fsq.py).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import CodecError
from .blocks import Down, DSBlock, Up, WindowAttention
from .fsq import ScalarStages
from .rvq import ResidualVQ

FACTOR = 16  # image pixels per latent position, per axis
FSQ_LEVELS = 4  # per channel of an fsq model's late stages; a stage has log4(codes) channels
FSQ_LIVE = 2.0  # pre-tanh magnitude past which an fsq latent is penalised (tanh(2) = 0.96)


@dataclass
class ModelConfig:
    """Architecture hyper-parameters (stored in checkpoints and shipped weight files)."""

    stages: int = 12
    codes: int = 256
    latent_dim: int = 64
    enc_channels: tuple[int, ...] = (32, 64, 128, 192)  # at 1/2, 1/4, 1/8, 1/16
    dec_channels: tuple[int, ...] = (192, 128, 64, 32)  # at 1/16, 1/8, 1/4, 1/2
    enc_blocks: tuple[int, ...] = (1, 1, 2, 2)
    dec_blocks: tuple[int, ...] = (2, 2, 2, 1)
    heads: int = 4
    window: int = 8
    split: int = 0  # stages on the first latent; the rest code a second latent (0: one latent)
    late: str = "rvq"  # how a split model's late stages quantise the second latent: "rvq" or "fsq"

    @property
    def late_dim(self) -> int:
        """Channels of the second latent (split models)."""
        return self.fsq_channels * (self.stages - self.split) if self.late == "fsq" else self.latent_dim

    @property
    def fsq_channels(self) -> int:
        """Channels per late stage of an fsq model: FSQ_LEVELS ** channels == codes (0: no fit)."""
        c = round(math.log(self.codes, FSQ_LEVELS))
        return c if FSQ_LEVELS ** c == self.codes else 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        d = dict(d)
        for k in ("enc_channels", "dec_channels", "enc_blocks", "dec_blocks"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def _analysis_layers(cfg: ModelConfig) -> list[nn.Module]:
    """Strided downsampling with depthwise-separable blocks to 1/16, then window attention."""
    layers: list[nn.Module] = []
    cin = 3
    for c, n in zip(cfg.enc_channels, cfg.enc_blocks):
        layers.append(Down(cin, c))
        layers += [DSBlock(c, kernel=3 if c < 128 else 5) for _ in range(n)]
        cin = c
    layers.append(WindowAttention(cin, cfg.heads, cfg.window))
    return layers


class Encoder(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        layers = _analysis_layers(cfg)
        layers.append(nn.Conv2d(cfg.enc_channels[-1], cfg.latent_dim, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2 - 1)


class EnhancementEncoder(nn.Module):
    """The second latent (split models): image features plus the first latent and what its first
    `split` stages transmitted. Seeing both, it can start as their difference (the residual the
    single-latent model's late stages coded) and learn to add what the first latent lacks."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.features = nn.Sequential(*_analysis_layers(cfg))
        self.proj = nn.Conv2d(cfg.enc_channels[-1] + 2 * cfg.latent_dim, cfg.late_dim, 1)

    def forward(self, x: torch.Tensor, z1: torch.Tensor, z1q: torch.Tensor) -> torch.Tensor:
        return self.proj(torch.cat([self.features(x * 2 - 1), z1, z1q], 1))

    @torch.no_grad()
    def start_as_residual(self) -> None:
        """Output z1 - z1q whatever the image: with the single-latent model's late codebooks and
        decoder input this reproduces that model exactly, so training starts from it."""
        c, d = self.proj.in_channels - 2 * self.proj.out_channels, self.proj.out_channels
        self.proj.weight.zero_()
        self.proj.bias.zero_()
        eye = torch.eye(d).view(d, d, 1, 1)
        self.proj.weight[:, c:c + d] = eye
        self.proj.weight[:, c + d:] = -eye


class Decoder(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        ch, nb = cfg.dec_channels, cfg.dec_blocks
        nd = cfg.stages + 1
        self.inp = nn.Conv2d(cfg.latent_dim, ch[0], 3, padding=1)
        # no bias: a position without second-latent stages gets exactly nothing from it
        self.inp2 = nn.Conv2d(cfg.late_dim, ch[0], 3, padding=1, bias=False) if cfg.split else None
        self.attn = WindowAttention(ch[0], cfg.heads, cfg.window)
        self.levels = nn.ModuleList()
        self.ups = nn.ModuleList()
        for i, (c, n) in enumerate(zip(ch, nb)):
            self.levels.append(nn.ModuleList(
                [DSBlock(c, kernel=5 if c >= 128 else 3, num_depths=nd) for _ in range(n)]))
            cout = ch[i + 1] if i + 1 < len(ch) else 3
            self.ups.append(Up(c, cout))

    def forward(self, zq: torch.Tensor, depth: torch.Tensor, zq2: torch.Tensor | None = None) -> torch.Tensor:
        x = self.inp(zq)
        if self.inp2 is not None and zq2 is not None:
            x = x + self.inp2(zq2)
        x = self.attn(x)
        for blocks, up in zip(self.levels, self.ups):
            for blk in blocks:
                x = blk(x, depth)
            x = up(x)
        return x + 0.5


@dataclass
class ForwardOutput:
    recon: torch.Tensor
    commit_loss: torch.Tensor
    stats: dict = field(default_factory=dict)


class ProGIC(nn.Module):
    """Encoder + residual VQ + depth-modulated decoder."""

    def __init__(self, cfg: ModelConfig | None = None):
        super().__init__()
        self.cfg = cfg or ModelConfig()
        if not 0 <= self.cfg.split < self.cfg.stages:
            raise CodecError(f"split must be in 0..{self.cfg.stages - 1}, not {self.cfg.split}")
        if self.cfg.late not in ("rvq", "fsq") or (self.cfg.late == "fsq" and (
                not self.cfg.split or not self.cfg.fsq_channels)):
            raise CodecError(f"late={self.cfg.late!r}: must be 'rvq', or 'fsq' with a split and a "
                             f"power of {FSQ_LEVELS} codes")
        self.encoder = Encoder(self.cfg)
        self.encoder2 = EnhancementEncoder(self.cfg) if self.cfg.split else None
        self.rvq = ResidualVQ(self.cfg.stages, self.cfg.codes, self.cfg.latent_dim)
        self.decoder = Decoder(self.cfg)
        self.fsq = (ScalarStages(self.cfg.stages - self.cfg.split, self.cfg.fsq_channels, FSQ_LEVELS)
                    if self.cfg.late == "fsq" else None)
        self.update_base_codebooks = True  # False: training leaves the first `split` codebooks as they are

    # -- tensors <-> indices (used by the codec) ----------------------------------------------
    @staticmethod
    def pad(x: torch.Tensor) -> torch.Tensor:
        """Replicate-pad an image batch to a multiple of the latent factor."""
        h, w = x.shape[-2:]
        return F.pad(x, (0, (-w) % FACTOR, 0, (-h) % FACTOR), mode="replicate")

    @staticmethod
    def _flat(z: torch.Tensor) -> torch.Tensor:
        return z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])

    @staticmethod
    def _grid(flat: torch.Tensor, b: int, h: int, w: int) -> torch.Tensor:
        return flat.view(b, h, w, -1).permute(0, 3, 1, 2)

    def analyse(self, x: torch.Tensor) -> torch.Tensor:
        """Indices S x B x h x w for an image batch (any size; padded internally)."""
        xp = self.pad(x)
        z = self.encoder(xp)
        b, _, h, w = z.shape
        sp = self.cfg.split
        if not sp:
            return self.rvq.encode(self._flat(z)).view(self.cfg.stages, b, h, w)
        idx1 = self.rvq.encode(self._flat(z), 0, sp)
        z1q = self._grid(self.rvq.lookup(idx1).sum(0), b, h, w)
        z2 = self.encoder2(xp, z, z1q)
        idx2 = self.fsq.encode(self._flat(z2)) if self.fsq is not None else self.rvq.encode(self._flat(z2), sp)
        return torch.cat([idx1, idx2]).view(self.cfg.stages, b, h, w)

    def synthesise(self, indices: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        """Image batch (B x 3 x 16h x 16w, unclamped) from indices (S' x B x h x w, S' >= max depth)
        and a per-position depth map (B x h x w, values 1..S)."""
        s, b, h, w = indices.shape
        keep = (torch.arange(s, device=depth.device).view(s, 1, 1, 1) < depth.unsqueeze(0))
        keep = keep.unsqueeze(-1)
        sp = self.cfg.split
        if self.fsq is not None:  # first latent from codebooks, the second from FSQ groups
            n1 = min(s, sp)
            q = self.rvq.lookup(indices[:n1].reshape(n1, -1)).view(n1, b, h, w, -1)
            zq1 = (q * keep[:n1].to(q.dtype)).sum(0).permute(0, 3, 1, 2)
            zq2 = torch.zeros(b, self.cfg.late_dim, h, w, dtype=zq1.dtype, device=zq1.device)
            if s > sp:
                v = self.fsq.lookup(indices[sp:].reshape(s - sp, -1)).view(s - sp, b, h, w, -1)
                v = (v * keep[sp:].to(v.dtype)).permute(1, 0, 4, 2, 3).reshape(b, -1, h, w)
                zq2[:, : v.shape[1]] = v
            return self.decoder(zq1, depth, zq2)
        q = self.rvq.lookup(indices.reshape(s, -1)).view(s, b, h, w, -1)
        q = q * keep.to(q.dtype)
        if not sp:
            return self.decoder(q.sum(0).permute(0, 3, 1, 2), depth)
        zq2 = q[sp:].sum(0).permute(0, 3, 1, 2) if s > sp else None
        return self.decoder(q[:sp].sum(0).permute(0, 3, 1, 2), depth, zq2)

    # -- training ------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, depth: torch.Tensor) -> ForwardOutput:
        """Reconstruction of x (B x 3 x H x W, multiples of 16) through `depth` stages per position."""
        z = self.encoder(x)
        b, d, h, w = z.shape
        flat = self._flat(z)
        sp = self.cfg.split
        if not sp:
            idx, quants, stats = self.rvq(flat)
            zq = self._depth_sum(quants, depth, 0)
            zq = flat + (zq - flat).detach()  # straight-through
            commit = F.mse_loss(flat, quants.sum(0))
            return ForwardOutput(self.decoder(self._grid(zq, b, h, w), depth), commit, stats)
        _, q1, st1 = self.rvq(flat, 0, sp, update=self.update_base_codebooks)
        z2 = self.encoder2(x, z, self._grid(q1.sum(0), b, h, w))
        flat2 = self._flat(z2)
        if self.fsq is not None:
            return self._forward_fsq(flat, q1, st1, flat2, depth, (b, h, w))
        _, q2, st2 = self.rvq(flat2, sp)
        zq1 = flat + (self._depth_sum(q1, depth, 0) - flat).detach()
        zq2 = flat2 + (self._depth_sum(q2, depth, sp) - flat2).detach()
        zq2 = zq2 * (depth.reshape(-1, 1) > sp).to(zq2.dtype)  # no second latent at these positions
        commit = F.mse_loss(flat2, q2.sum(0))
        if flat.requires_grad:  # a frozen first encoder has nothing to commit
            commit = commit + F.mse_loss(flat, q1.sum(0))
        recon = self.decoder(self._grid(zq1, b, h, w), depth, self._grid(zq2, b, h, w))
        return ForwardOutput(recon, commit, {"used": st1["used"] + st2["used"]})

    def _forward_fsq(self, flat: torch.Tensor, q1: torch.Tensor, st1: dict,
                     flat2: torch.Tensor, depth: torch.Tensor, bhw: tuple[int, int, int]) -> ForwardOutput:
        """Training pass of an fsq model: each late stage's channel group counts only where the
        position's depth includes that stage (quantiser dropout on the second latent)."""
        b, h, w = bhw
        sp, g, c = self.cfg.split, self.fsq.groups, self.fsq.channels
        q2, idx2 = self.fsq.quantise(flat2)
        keep = (torch.arange(sp, sp + g, device=depth.device).view(1, g) < depth.reshape(-1, 1))
        q2 = (q2.view(-1, g, c) * keep.unsqueeze(-1).to(q2.dtype)).view(-1, g * c)
        zq1 = flat + (self._depth_sum(q1, depth, 0) - flat).detach()
        commit = F.mse_loss(flat, q1.sum(0)) if flat.requires_grad else flat.new_zeros(())
        # keep the second latent where tanh still has a gradient: a channel pushed deep into
        # saturation stops learning (measured: 90 % of values past |tanh| 0.95 by step 2,000)
        commit = commit + F.relu(flat2.abs() - FSQ_LIVE).pow(2).mean()
        used = [int(torch.unique(i).numel()) for i in idx2]
        recon = self.decoder(self._grid(zq1, b, h, w), depth, self._grid(q2, b, h, w))
        return ForwardOutput(recon, commit, {"used": st1["used"] + used})

    @staticmethod
    def _depth_sum(quants: torch.Tensor, depth: torch.Tensor, first: int) -> torch.Tensor:
        """Sum of the per-stage vectors (stages first.. of quants) each position's depth includes."""
        s = quants.shape[0]
        keep = (torch.arange(first, first + s, device=quants.device).view(s, 1) < depth.reshape(1, -1))
        return (quants * keep.unsqueeze(-1).to(quants.dtype)).sum(0)
