"""The ProGIC-style network: a lightweight analysis/synthesis pair around a residual VQ.

Images are in [0, 1], NCHW. The latent grid is 16x smaller than the image. The decoder takes a
per-position depth map (how many RVQ stages were decoded there), so one set of weights serves
every progressive prefix and every ROI depth pattern.

(A second latent for the late stages, with RVQ or FSQ quantisation, was tried and not shipped; it
is in git history up to commit 45f000c, see the model card.)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import CodecError
from ..learned.quantisers import ResidualVQ
from . import FACTOR  # noqa: F401  (re-exported: image pixels per latent position, per axis)
from .blocks import Down, DSBlock, Up, WindowAttention



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

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        d = dict(d)
        if d.get("split"):
            raise CodecError("this model codes a second latent (split), which gic no longer "
                             "supports; it is in git history up to commit 45f000c")
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


class Decoder(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        ch, nb = cfg.dec_channels, cfg.dec_blocks
        nd = cfg.stages + 1
        self.inp = nn.Conv2d(cfg.latent_dim, ch[0], 3, padding=1)
        self.attn = WindowAttention(ch[0], cfg.heads, cfg.window)
        self.levels = nn.ModuleList()
        self.ups = nn.ModuleList()
        for i, (c, n) in enumerate(zip(ch, nb)):
            self.levels.append(nn.ModuleList(
                [DSBlock(c, kernel=5 if c >= 128 else 3, num_depths=nd) for _ in range(n)]))
            cout = ch[i + 1] if i + 1 < len(ch) else 3
            self.ups.append(Up(c, cout))

    def forward(self, zq: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        x = self.attn(self.inp(zq))
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
        self.encoder = Encoder(self.cfg)
        self.rvq = ResidualVQ(self.cfg.stages, self.cfg.codes, self.cfg.latent_dim)
        self.decoder = Decoder(self.cfg)

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
        z = self.encoder(self.pad(x))
        b, _, h, w = z.shape
        return self.rvq.encode(self._flat(z)).view(self.cfg.stages, b, h, w)

    def synthesise(self, indices: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        """Image batch (B x 3 x 16h x 16w, unclamped) from indices (S' x B x h x w, S' >= max depth)
        and a per-position depth map (B x h x w, values 1..S)."""
        s, b, h, w = indices.shape
        keep = (torch.arange(s, device=depth.device).view(s, 1, 1, 1) < depth.unsqueeze(0))
        keep = keep.unsqueeze(-1)
        q = self.rvq.lookup(indices.reshape(s, -1)).view(s, b, h, w, -1)
        q = q * keep.to(q.dtype)
        return self.decoder(q.sum(0).permute(0, 3, 1, 2), depth)

    # -- training ------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, depth: torch.Tensor) -> ForwardOutput:
        """Reconstruction of x (B x 3 x H x W, multiples of 16) through `depth` stages per position."""
        z = self.encoder(x)
        b, d, h, w = z.shape
        flat = self._flat(z)
        idx, quants, stats = self.rvq(flat)
        zq = self._depth_sum(quants, depth)
        zq = flat + (zq - flat).detach()  # straight-through
        commit = F.mse_loss(flat, quants.sum(0))
        return ForwardOutput(self.decoder(self._grid(zq, b, h, w), depth), commit, stats)

    @staticmethod
    def _depth_sum(quants: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        """Sum of the per-stage vectors each position's depth includes."""
        s = quants.shape[0]
        keep = (torch.arange(s, device=quants.device).view(s, 1) < depth.reshape(1, -1))
        return (quants * keep.unsqueeze(-1).to(quants.dtype)).sum(0)
