"""Building blocks of the ProGIC-style transforms: depthwise-separable blocks and window attention.

No normalisation layers on purpose: per-image statistics would make tiled coding of large
images differ from whole-image coding. Residual branches start small (layer scale) instead.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class DSBlock(nn.Module):
    """Depthwise conv → (optional stage modulation) → pointwise feed-forward, with a residual.

    When `num_depths` is given, a per-position scale/bias looked up from the number of RVQ stages
    decoded at that position modulates the block (ProGIC's stage-specific modulation): the decoder
    knows how refined its input is, position by position, which is what makes ROI depth maps work.
    """

    def __init__(self, channels: int, kernel: int = 3, expansion: int = 2, num_depths: int = 0):
        super().__init__()
        self.dw = nn.Conv2d(channels, channels, kernel, padding=kernel // 2, groups=channels)
        self.pw1 = nn.Conv2d(channels, channels * expansion, 1)
        self.pw2 = nn.Conv2d(channels * expansion, channels, 1)
        self.gamma = nn.Parameter(torch.full((1, channels, 1, 1), 0.1))
        self.film = nn.Embedding(num_depths, 2 * channels) if num_depths else None
        if self.film is not None:
            nn.init.zeros_(self.film.weight)

    def forward(self, x: torch.Tensor, depth: torch.Tensor | None = None) -> torch.Tensor:
        if not self.training and not torch.onnx.is_in_onnx_export():  # an export takes every depth map
            fast = self._folded(x, depth)
            if fast is not None:
                return fast
        h = self.dw(x)
        if self.film is not None and depth is not None:
            h = h * (1 + self._film(depth, x, 0)) + self._film(depth, x, 1)
        h = self.pw2(F.gelu(self.pw1(h)))
        return x + self.gamma * h

    def _folded(self, x: torch.Tensor, depth: torch.Tensor | None) -> torch.Tensor | None:
        """Inference shortcut, the same function: with one depth everywhere (no ROI) the scale/bias
        are per-channel constants, so they fold into the depthwise conv, and the layer scale into
        the last pointwise conv. Saves the per-position lookups, upsampling and multiplies (about
        a third of the decode time). None when the depth map varies (ROI): take the general path."""
        dw_w, dw_b = self.dw.weight, self.dw.bias
        if self.film is not None and depth is not None:
            d = int(depth.reshape(-1)[0])
            if not bool((depth == d).all()):
                return None
            scale, bias = self.film.weight[d].view(2, -1)
            dw_w = dw_w * (1 + scale).view(-1, 1, 1, 1)
            dw_b = dw_b * (1 + scale) + bias
        g = self.gamma.view(-1)
        h = F.conv2d(x, dw_w, dw_b, padding=self.dw.padding, groups=self.dw.groups)
        h = F.conv2d(F.gelu(self.pw1(h)), self.pw2.weight * g.view(-1, 1, 1, 1), self.pw2.bias * g)
        return h.add_(x)

    def _film(self, depth: torch.Tensor, x: torch.Tensor, which: int) -> torch.Tensor:
        """Scale (which=0) or bias (1) map at x's resolution from an integer BxHxW depth map."""
        c = x.shape[1]
        emb = self.film(depth)[..., which * c:(which + 1) * c]  # B h w C
        emb = emb.permute(0, 3, 1, 2)
        if emb.shape[-2:] != x.shape[-2:]:
            emb = F.interpolate(emb, size=x.shape[-2:], mode="nearest")
        return emb


class WindowAttention(nn.Module):
    """Multi-head self-attention inside non-overlapping windows (pads and masks ragged edges).

    Windows keep the cost linear in image size, so any resolution works, and training crops
    (one window) see the same operator as full images.
    """

    def __init__(self, channels: int, heads: int = 4, window: int = 8):
        super().__init__()
        self.heads, self.window = heads, window
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.full((1, channels, 1, 1), 0.1))
        self.pos = nn.Parameter(torch.zeros(1, channels, window, window))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        ws = self.window
        nh, nw = (h + ws - 1) // ws, (w + ws - 1) // ws  # windows per axis (the last one padded)
        hp, wp = nh * ws, nw * ws  # written so, an export can prove them multiples of the window
        ph, pw = hp - h, wp - w
        xp = F.pad(x, (0, pw, 0, ph))
        xp = xp + self.pos.repeat(1, 1, nh, nw)
        qkv = self.qkv(xp)  # B 3C H W
        # → (B*nWin, heads, ws*ws, c/heads) for each of q, k, v
        qkv = qkv.view(b, 3, self.heads, c // self.heads, nh, ws, nw, ws)
        qkv = qkv.permute(1, 0, 4, 6, 2, 5, 7, 3).reshape(3, b * nh * nw, self.heads, ws * ws, c // self.heads)
        mask = None
        if torch.onnx.is_in_onnx_export() or ph or pw:  # an exported graph masks every size
            valid = ((torch.arange(hp, device=x.device) < h)[:, None]
                     & (torch.arange(wp, device=x.device) < w)[None, :])
            valid = valid.view(nh, ws, nw, ws).permute(0, 2, 1, 3).reshape(nh * nw, 1, 1, ws * ws)
            mask = valid.repeat(b, 1, 1, 1)
        out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=mask)
        out = out.view(b, nh, nw, self.heads, ws, ws, c // self.heads)
        out = out.permute(0, 3, 6, 1, 4, 2, 5).reshape(b, c, hp, wp)[:, :, :h, :w]
        return x + self.gamma * self.proj(out)


class Down(nn.Module):
    """2x downsampling by a strided 2x2 convolution."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Up(nn.Module):
    """2x upsampling by a pointwise convolution and pixel shuffle (cheap, no checkerboard)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, 4 * cout, 1)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.conv(x))
