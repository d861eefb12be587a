"""The MCDH network (after arXiv 2309.10799, sized for a 2-core CPU).

- Transform: strided convolutions to 1/16, then a transformer block mixing local window attention
  with aggregated-window (global) attention: every window also attends to the mean token of every
  window, so each position sees the whole image at the cost of one extra token per window.
- Gain units (Cui et al.): one learned gain / inverse gain vector per rate level scales the latent
  before rounding, so one model covers the whole λ range (`--quality` picks the level).
- Entropy model: a spatial-aware hyperprior (a 1/64 hyper-latent) and a channel-aware hyperprior
  (a per-image vector from globally pooled features), each coded with a learned factorised prior;
  a checkerboard two-pass local context (anchors first, then non-anchors from a masked 5x5
  convolution over decoded anchors) and a global context (per-channel mean and mean magnitude of all
  decoded anchors). They output a Gaussian's mean and log-scale per latent.

The entropy-parameter modules use only convolutions, linear layers, ReLU, nearest upsampling and
means, so `fixed.py` can run them in exact integer arithmetic; training uses this float twin.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import SCALE_MIN, MCDHConfig

LOG2 = math.log(2.0)


def checkerboard(h: int, w: int, device=None) -> torch.Tensor:
    """1 x 1 x h x w, 1.0 on anchors ((row + col) even): decoded in the first pass."""
    i = torch.arange(h, device=device)[:, None] + torch.arange(w, device=device)[None]
    return ((i % 2) == 0).float()[None, None]


def context_mask(k: int = 5) -> torch.Tensor:
    """Taps of the local context: anchor neighbours of a non-anchor ((dy + dx) odd)."""
    d = torch.arange(k) - k // 2
    return (((d[:, None] + d[None]) % 2) == 1).float()


class WindowBlock(nn.Module):
    """Pre-norm transformer block: window attention whose keys are the window's tokens plus the mean
    token of every window (aggregated-window global attention), then an MLP."""

    def __init__(self, dim: int, window: int, heads: int):
        super().__init__()
        self.window, self.heads = window, heads
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        s = self.window
        ph, pw = -h % s, -w % s
        t = F.pad(x, (0, pw, 0, ph)).permute(0, 2, 3, 1)
        nh, nw = (h + ph) // s, (w + pw) // s
        t = t.reshape(b, nh, s, nw, s, c).permute(0, 1, 3, 2, 4, 5).reshape(b, nh * nw, s * s, c)
        q, k, v = self.qkv(self.norm1(t)).chunk(3, -1)
        nwin = nh * nw
        k = torch.cat([k, k.mean(2)[:, None].expand(-1, nwin, -1, -1)], 2)
        v = torch.cat([v, v.mean(2)[:, None].expand(-1, nwin, -1, -1)], 2)

        def heads(a: torch.Tensor) -> torch.Tensor:
            return a.reshape(b, nwin, a.shape[2], self.heads, c // self.heads).transpose(2, 3)
        o = F.scaled_dot_product_attention(heads(q), heads(k), heads(v))
        t = t + self.proj(o.transpose(2, 3).reshape(b, nwin, s * s, c))
        t = t + self.mlp(self.norm2(t))
        t = t.reshape(b, nh, nw, s, s, c).permute(0, 5, 1, 3, 2, 4).reshape(b, c, h + ph, w + pw)
        return t[:, :, :h, :w]


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, 4 * cout, 3, padding=1), nn.PixelShuffle(2))


class HyperSpatialDecoder(nn.Module):
    """z_s (1/64) -> features at 1/16: conv, ReLU, nearest x2, conv, ReLU, nearest x2, conv."""

    def __init__(self, zs: int, hid: int):
        super().__init__()
        self.c1 = nn.Conv2d(zs, zs, 3, padding=1)
        self.c2 = nn.Conv2d(zs, zs, 3, padding=1)
        self.c3 = nn.Conv2d(zs, hid, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(F.relu(self.c1(z)), scale_factor=2, mode="nearest")
        x = F.interpolate(F.relu(self.c2(x)), scale_factor=2, mode="nearest")
        return self.c3(x)


class EntropyParameters(nn.Module):
    """Everything between the decoded hyper-latents / anchors and each latent's (mean, log-scale)."""

    def __init__(self, cfg: MCDHConfig):
        super().__init__()
        m, hid = cfg.m, cfg.hid
        self.hyper_s = HyperSpatialDecoder(cfg.zs, hid)
        self.hyper_c1 = nn.Linear(cfg.zc, hid)
        self.hyper_c2 = nn.Linear(hid, hid)
        self.ctx = nn.Conv2d(m, hid, 5, padding=2)
        self.register_buffer("ctx_mask", context_mask(5), persistent=False)
        self.glob = nn.Linear(2 * m, hid)
        self.pass_bias = nn.Parameter(torch.zeros(2, hid))
        self.e1 = nn.Conv2d(hid, hid, 1)
        self.e2 = nn.Conv2d(hid, 2 * m, 1)

    def hyper(self, zs: torch.Tensor, zc: torch.Tensor, h: int, w: int) -> torch.Tensor:
        """Hyper features (B x hid x h x w): spatial + channel-aware."""
        hs = self.hyper_s(zs)[:, :, :h, :w]
        ch = self.hyper_c2(F.relu(self.hyper_c1(zc)))
        return hs + ch[:, :, None, None]

    def context(self, anchors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Local (masked 5x5 conv) + global (mean and mean magnitude over anchors) context."""
        local = F.conv2d(anchors, self.ctx.weight * self.ctx_mask, self.ctx.bias, padding=2)
        n = mask.sum((2, 3)).clamp_min(1)
        stats = torch.cat([anchors.sum((2, 3)) / n, anchors.abs().sum((2, 3)) / n], 1)
        return local + self.glob(stats)[:, :, None, None]

    def params(self, feat: torch.Tensor, which: int) -> tuple[torch.Tensor, torch.Tensor]:
        e = F.relu(feat + self.pass_bias[which][None, :, None, None])
        mu, log_scale = self.e2(F.relu(self.e1(e))).chunk(2, 1)
        return mu, log_scale


class FactorizedPrior(nn.Module):
    """A learned categorical per channel over the integers [-R, R]; rates of noisy values by
    linear interpolation of the neighbouring integers' code lengths (so the rate has a gradient)."""

    def __init__(self, channels: int, support: int):
        super().__init__()
        self.support = support
        r = torch.arange(-support, support + 1).float()
        self.logits = nn.Parameter((-0.5 * r ** 2 / 4.0)[None].repeat(channels, 1))

    def bits(self, z: torch.Tensor) -> torch.Tensor:
        """Bits of z (B x C x ...) per sample (B)."""
        R = self.support
        nll = -F.log_softmax(self.logits, -1) / LOG2  # C x (2R+1)
        zt = z.clamp(-R, R) + R
        i0 = zt.floor().clamp(0, 2 * R - 1)
        frac = zt - i0
        shape = (1, -1) + (1,) * (z.dim() - 2)
        c = z.shape[1]
        flat_i = i0.long()
        tab = nll.reshape(shape[:2] + (2 * R + 1,)).expand(z.shape[0], c, 2 * R + 1)
        tab = tab.reshape(z.shape[0], c, *([1] * (z.dim() - 2)), 2 * R + 1).expand(*z.shape, 2 * R + 1)
        a = tab.gather(-1, flat_i[..., None])[..., 0]
        b = tab.gather(-1, (flat_i + 1)[..., None])[..., 0]
        return (a + frac * (b - a)).reshape(z.shape[0], -1).sum(1)


def _ste_round(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.round(x) - x).detach()


def gaussian_bits(v: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Bits per sample of noisy residuals v under N(0, scale) integrated over unit bins."""
    d = torch.distributions.Normal(0.0, 1.0)
    p = d.cdf((0.5 - v.abs()) / scale) - d.cdf((-0.5 - v.abs()) / scale)
    return (-torch.log2(p.clamp_min(1e-9))).reshape(v.shape[0], -1).sum(1)


class MCDH(nn.Module):
    def __init__(self, cfg: MCDHConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or MCDHConfig()
        n, m = cfg.n, cfg.m
        act = nn.LeakyReLU(0.1)
        self.g_a = nn.Sequential(nn.Conv2d(3, n, 5, 2, 2), act, nn.Conv2d(n, n, 5, 2, 2), act,
                                 nn.Conv2d(n, n, 5, 2, 2), act, nn.Conv2d(n, m, 5, 2, 2),
                                 WindowBlock(m, cfg.window, cfg.heads))
        self.g_s = nn.Sequential(WindowBlock(m, cfg.window, cfg.heads), _up(m, n), act, _up(n, n), act,
                                 _up(n, n), act, _up(n, 3))
        self.h_as = nn.Sequential(nn.Conv2d(m, cfg.zs, 3, 1, 1), act, nn.Conv2d(cfg.zs, cfg.zs, 5, 2, 2),
                                  act, nn.Conv2d(cfg.zs, cfg.zs, 5, 2, 2))
        self.h_ac1 = nn.Conv2d(m, m, 1)
        self.h_ac2 = nn.Linear(m, cfg.zc)
        self.entropy = EntropyParameters(cfg)
        self.prior_s = FactorizedPrior(cfg.zs, cfg.z_support)
        self.prior_c = FactorizedPrior(cfg.zc, cfg.z_support)
        lg = torch.linspace(-1.2, 0.6, cfg.levels)
        self.log_gain = nn.Parameter(lg[:, None].repeat(1, m))
        self.log_inv_gain = nn.Parameter(-lg[:, None].repeat(1, m))

    # -- pieces the codec calls ----------------------------------------------------------------
    def analyse(self, x: torch.Tensor) -> torch.Tensor:
        """Image (B x 3 x H x W, multiples of 16) -> latent before gain."""
        return self.g_a(x)

    def synthesise(self, y: torch.Tensor) -> torch.Tensor:
        """Latent after inverse gain -> image."""
        return self.g_s(y)

    def hyper_analyse(self, yg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Gain-scaled latent -> (spatial hyper-latent at 1/64, channel hyper-latent vector)."""
        h, w = yg.shape[-2:]
        zs = self.h_as(F.pad(yg, (0, -w % 4, 0, -h % 4)))
        zc = self.h_ac2(F.leaky_relu(self.h_ac1(yg), 0.1).mean((2, 3)))
        return zs, zc

    def gain(self, level: torch.Tensor) -> torch.Tensor:
        return self.log_gain[level].exp()[:, :, None, None]

    def inv_gain(self, level: torch.Tensor) -> torch.Tensor:
        return self.log_inv_gain[level].exp()[:, :, None, None]

    # -- training ------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, level: torch.Tensor) -> dict:
        """Reconstruction and per-sample bits (noisy rate proxy, straight-through reconstruction)."""
        y = self.analyse(x)
        yg = y * self.gain(level)
        zs, zc = self.hyper_analyse(yg)
        bits_z = self.prior_s.bits(zs + torch.rand_like(zs) - 0.5) + \
            self.prior_c.bits(zc + torch.rand_like(zc) - 0.5)
        h, w = yg.shape[-2:]
        ent = self.entropy
        feat = ent.hyper(_ste_round(zs), _ste_round(zc), h, w)
        a = checkerboard(h, w, x.device)
        mu0, ls0 = ent.params(feat, 0)
        y_a = (_ste_round(yg - mu0) + mu0) * a
        mu1, ls1 = ent.params(feat + ent.context(y_a, a), 1)
        mu = torch.where(a > 0, mu0, mu1)
        scale = torch.where(a > 0, ls0, ls1).exp().clamp(SCALE_MIN, 64.0)
        y_hat = _ste_round(yg - mu) + mu
        bits_y = gaussian_bits(yg + torch.rand_like(yg) - 0.5 - mu, scale)
        x_hat = self.synthesise(y_hat * self.inv_gain(level))
        return {"x_hat": x_hat, "bits": bits_y + bits_z, "bits_z": bits_z}
