"""MCDH's entropy-parameter path in exact integer arithmetic (`learned.fixedpoint`): hyper-decoders,
checkerboard local context and global context -> each latent's integer mean and scale-table index.

Encoder and decoder both run this (never the float twin in `model.EntropyParameters`), so the coding
tables are the same on every machine, thread count and device. Means are integers with ACT
fractional bits; a latent is coded as the integer residual s = round(y - mean), and decoded as
y = s + mean exactly. Log-scales are compared with integer thresholds (the table scales' logs,
stored in the weight file) to pick a table: no exp() on the decoding path.
"""
from __future__ import annotations

import numpy as np

from ..learned.fixedpoint import IntNet, quantise, relu, upsample2
from .config import MCDHConfig

ACT = 10  # fractional bits of activations (means are multiples of 1/1024)
WGT = 12  # fractional bits of weights
#: Latent positions per row band of the codec's passes (`bands`): their working memory is ~10 KB
#: a position (hyper features, context columns, the 1x1 layers), whatever the image's size.
BAND = 8192


def anchor_mask(h: int, w: int) -> np.ndarray:
    """h x w bool: anchors ((row + col) even), decoded in the first pass."""
    i = np.arange(h)[:, None] + np.arange(w)[None]
    return (i % 2) == 0


def _context_taps(k: int = 5) -> np.ndarray:
    d = np.arange(k) - k // 2
    return ((d[:, None] + d[None]) % 2) == 1


def scale_thresholds(table_scales: np.ndarray) -> np.ndarray:
    """Integer log-scale of each table (ACT bits): computed once, at export."""
    return quantise(np.log(np.asarray(table_scales, np.float64)), ACT)


class FixedEntropy:
    """Integer inference of `EntropyParameters` from a state dict of float arrays."""

    def __init__(self, cfg: MCDHConfig, state: dict[str, np.ndarray], thresholds: np.ndarray):
        self.cfg = cfg
        self.net = net = IntNet(ACT, WGT)
        s = {k[len("entropy."):]: np.asarray(v, np.float64) for k, v in state.items() if k.startswith("entropy.")}

        def layer(name: str, mask: np.ndarray | None = None):
            w = s[name + ".weight"]
            if mask is not None:
                w = w * mask
            return net.weights(w, s.get(name + ".bias"))
        self.hs = [layer(f"hyper_s.c{i}") for i in (1, 2, 3)]
        self.hc1, self.hc2 = layer("hyper_c1"), layer("hyper_c2")
        self.ctx = layer("ctx", _context_taps(5))
        self.glob = layer("glob")
        self.pass_bias = quantise(s["pass_bias"], ACT)
        self.e1, self.e2 = layer("e1"), layer("e2")
        self.thresholds = np.asarray(thresholds, np.int64)

    def channel(self, zc: np.ndarray) -> np.ndarray:
        """hid channel-hyper features (one vector per image) from the integer hyper-latent zc."""
        n = self.net
        return n.linear(relu(n.linear(zc.astype(np.int64) << ACT, *self.hc1)), *self.hc2)

    def hyper(self, zs: np.ndarray, zc: np.ndarray, h: int, w: int) -> np.ndarray:
        """hid x h x w hyper features from the integer hyper-latents (zs: C x h/4 x w/4, zc: C)."""
        return self.hyper_rows(zs, self.channel(zc), 0, h, w)

    def hyper_rows(self, zs: np.ndarray, ch: np.ndarray, a: int, b: int, w: int) -> np.ndarray:
        """Rows [a, b) of `hyper` (hid x (b - a) x w), `ch` from `channel`.

        Why rows: the whole map is hid int64s a latent position (with the decoder's upsampled
        inputs, ~0.6 GB for an 8000x6000 photo). Each of the three 3x3 convs needs one row of
        context either side at its resolution (1/64, 1/32, 1/16), traced down from the band:
        the same zero-padded integers as the whole map."""
        n = self.net
        zh = zs.shape[1]

        def around(lo: int, hi: int, size: int) -> tuple[int, int]:
            return max(0, lo - 1), min(size, hi + 1)

        def halves(lo: int, hi: int) -> tuple[int, int]:  # the rows a nearest x2 repeats
            return lo // 2, -(-hi // 2)
        r3 = around(a, b, 4 * zh)
        o2 = halves(*r3)
        r2 = around(*o2, 2 * zh)
        o1 = halves(*r2)
        r1 = around(*o1, zh)
        x = relu(n.conv(zs[:, r1[0]:r1[1]].astype(np.int64) << ACT, *self.hs[0]))[:, o1[0] - r1[0]: o1[1] - r1[0]]
        x = upsample2(x)[:, r2[0] - 2 * o1[0]: r2[1] - 2 * o1[0]]
        x = relu(n.conv(x, *self.hs[1]))[:, o2[0] - r2[0]: o2[1] - r2[0]]
        x = upsample2(x)[:, r3[0] - 2 * o2[0]: r3[1] - 2 * o2[0]]
        return n.conv(x, *self.hs[2])[:, a - r3[0]: b - r3[0], :w] + ch[:, None, None]

    def context(self, y_anchor: np.ndarray, anchors: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
        """Local + global context (hid x h x w) from the decoded anchors (m x h x w, ACT bits,
        zero at non-anchors); with the h x w bool mask `at`, only there (hid x N, as `[:, at]`)."""
        n = self.net
        local = n.conv(y_anchor, *self.ctx) if at is None else n.conv_at(y_anchor, *self.ctx, at)
        glob = self.global_context(y_anchor, anchors)
        return local + (glob[:, None] if at is not None else glob[:, None, None])

    def global_context(self, y_anchor: np.ndarray, anchors: np.ndarray) -> np.ndarray:
        """hid global context from the anchors' mean and mean magnitude (exact integer sums)."""
        count = max(1, int(anchors.sum()))
        stats = np.concatenate([np.floor_divide(y_anchor.sum((1, 2)), count),
                                np.floor_divide(np.abs(y_anchor).sum((1, 2)), count)])
        return self.net.linear(stats, *self.glob)

    def local_rows(self, y_anchor: np.ndarray, a: int, b: int, at: np.ndarray) -> np.ndarray:
        """The local context conv of `context` at the positions `at` (a (b - a) x w bool mask of
        rows [a, b)): hid x N, the same integers, from rows [a - 2, b + 2) only (5x5 kernel)."""
        h = y_anchor.shape[1]
        lo, hi = max(0, a - 2), min(h, b + 2)
        mask = np.zeros((hi - lo,) + at.shape[1:], bool)
        mask[a - lo: b - lo] = at
        return self.net.conv_at(y_anchor[:, lo:hi], *self.ctx, mask)

    def bands(self, h: int, w: int) -> list[tuple[int, int]]:
        """Row bands [a, b) of about BAND positions each (at least one row)."""
        rows = max(1, BAND // max(1, w))
        return [(a, min(h, a + rows)) for a in range(0, h, rows)]

    def params(self, feat: np.ndarray, which: int) -> tuple[np.ndarray, np.ndarray]:
        """(mean, scale-table index), each m x ..., for pass `which` (0 anchors, 1 the rest) from
        features hid x ... (a whole map, or only the positions a pass codes: the layers are 1x1)."""
        n = self.net
        e = relu(feat + self.pass_bias[which].reshape((-1,) + (1,) * (feat.ndim - 1)))
        out = n.pointwise(relu(n.pointwise(e, *self.e1)), *self.e2)
        m = self.cfg.m
        mean, log_scale = out[:m], out[m:]
        idx = np.minimum(np.searchsorted(self.thresholds, log_scale, side="left"), len(self.thresholds) - 1)
        return mean, idx
