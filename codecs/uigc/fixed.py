"""The token prior in exact integer arithmetic: identical coding tables on every machine.

Why: the encoder and the decoder must compute bit-identical probabilities, or the range decoder
goes astray. Float inference differs across thread counts, CPUs and GPUs (summation order, FMA,
vector width). Following Ballé et al. 2019 ("Integer networks for data compression"), the decoder's
prior runs on integers only:

- activations are integers with ACT fractional bits, weights with WGT fractional bits (rounded
  once from the shipped fp16 weights: an exact IEEE operation, the same everywhere);
- matrix products run in float64 BLAS on integer-valued operands: every product and partial sum is
  an integer below 2**53, hence exact whatever the summation order, thread count or vector unit;
  activations stay integer-valued float64 between layers for the same reason (only the attention
  scores, whose scaled products can pass 2**53, are int64), which spares the int64 round trips;
- rescaling is floor division by powers of two; LayerNorm uses integer mean/variance and IEEE
  sqrt (correctly rounded by the standard, so identical everywhere); a floor division of integers
  below 2**53 is done as floor(a / b) in float64, which IEEE division makes exact (a correctly
  rounded quotient of such integers never crosses the next integer);
- softmax uses exp look-up tables computed at export and stored in the weight file;
- the output is an integer frequency table per token summing to 2**16 (>= 1 per symbol).

`FixedPrior.run(tokens, step)` (a `PriorPass`: tables and argmax of chosen positions) is what the
coder uses.
"""
from __future__ import annotations

import os
from typing import Iterator

import numpy as np

from ..learned.blas import one_blas_thread
from .config import PriorConfig, pad_amounts, window_offset

ACT = 12  # fractional bits of activations
WGT = 14  # fractional bits of weights
ATT_EXP_BITS = 8  # exp LUT resolution of attention: 1/256
ATT_EXP_RANGE = 16  # exp(-16): below that a weight is 0
ATT_P = 16  # fractional bits of attention weights
OUT_EXP_BITS = 8
OUT_EXP_RANGE = 32
OUT_EXP_SCALE = 24
TOTAL = 1 << 16
CLAMP = 1 << 22  # |activation| < 1024 keeps every float64 sum exact (< 2**53)
LN_EPS = 1e-5
#: Positions per band of the prior's blocks (`FixedPrior.features`) and per chunk of its head
#: (`PriorPass`): working memory of ~20 KB and ~10 KB a position, whatever the grid's size.
BAND_TOKENS = 4096
HEAD_CHUNK = 4096


def exp_lut(bits: int, rng: int, scale: int) -> np.ndarray:
    """round(exp(-i / 2**bits) * 2**scale) for i in [0, rng * 2**bits]: made once, at export."""
    i = np.arange(rng * (1 << bits) + 1, dtype=np.float64)
    return np.round(np.exp(-i / (1 << bits)) * (1 << scale)).astype(np.int64)


def luts() -> dict[str, np.ndarray]:
    """The look-up tables a weight file stores (so no machine's exp() is ever consulted)."""
    return {"att_exp": exp_lut(ATT_EXP_BITS, ATT_EXP_RANGE, ATT_P),
            "out_exp": exp_lut(OUT_EXP_BITS, OUT_EXP_RANGE, OUT_EXP_SCALE)}


def _q(a: np.ndarray, bits: int) -> np.ndarray:
    """Round a float array (fp16-exact values) to integers with `bits` fractional bits."""
    return np.round(np.asarray(a, dtype=np.float64) * (1 << bits)).astype(np.int64)


def _shift(acc: np.ndarray, bits: int) -> np.ndarray:
    """Round-half-up division by 2**bits of an integer-valued float64 array (exact: adding a
    power-of-two half and scaling by 2**-bits are exact below 2**53), still float64."""
    out = acc + float(1 << (bits - 1))
    out *= 2.0 ** -bits
    return np.floor(out, out=out)


def _clamp(x: np.ndarray) -> np.ndarray:
    return np.clip(x, -CLAMP, CLAMP, out=x)


def _fdiv(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """floor(a / b) of integer-valued float64 arrays with |a| < 2**53 and b > 0: exact."""
    out = a / b
    return np.floor(out, out=out)


class _Linear:
    def __init__(self, w: np.ndarray, b: np.ndarray):
        self.w = _q(w, WGT).T.astype(np.float64)  # in x out, integer-valued
        self.b = _q(b, ACT + WGT).astype(np.float64)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        acc = x @ self.w
        acc += self.b
        return _clamp(_shift(acc, WGT))


class _LayerNorm:
    def __init__(self, g: np.ndarray, b: np.ndarray):
        self.g, self.b = _q(g, WGT).astype(np.float64), _q(b, ACT).astype(np.float64)
        self.eps = float(int(round(LN_EPS * (1 << (2 * ACT)))))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        d = float(x.shape[-1])
        xc = x - _fdiv(x.sum(-1, keepdims=True), d)  # |xc| < 2**23: every square sum below 2**53
        var = _fdiv((xc * xc).sum(-1, keepdims=True), d) + self.eps
        std = np.maximum(np.floor(np.sqrt(var)), 1.0)  # ACT bits
        xc *= float(1 << ACT)
        y = _fdiv(xc, std)
        y *= self.g
        out = _shift(y, WGT)
        out += self.b
        return _clamp(out)


def prior_workers() -> int:
    """Threads for the prior's bands: $OMP_NUM_THREADS when set (a batch worker's share, as for
    the networks), else the CPUs this process may run on, at most 4 (more bands than that are
    rarely there for a photo's token grid)."""
    try:
        limit = int(os.environ.get("OMP_NUM_THREADS", "0"))
    except ValueError:
        limit = 0
    if limit <= 0:
        limit = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(4, limit))


class _Bands:
    """Runs a block's bands one after the other, or on a small thread pool, waiting for all."""

    def __init__(self, workers: int):
        self.workers = workers
        self.pool = None

    def __enter__(self) -> "_Bands":
        if self.workers > 1:
            from concurrent.futures import ThreadPoolExecutor

            self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="gic-prior")
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)

    def run(self, fn, args: list[tuple]) -> None:
        if self.pool is None or len(args) < 2:
            for a in args:
                fn(*a)
            return
        for f in [self.pool.submit(fn, *a) for a in args]:
            f.result()  # a band's error surfaces here


class FixedPrior:
    """Integer inference of a TokenPrior's weights (a state_dict of float arrays)."""

    def __init__(self, cfg: PriorConfig, state: dict[str, np.ndarray], tables: dict[str, np.ndarray]):
        self.cfg = cfg
        s = {k: np.asarray(v, dtype=np.float64) for k, v in state.items()}
        self.embed = _q(s["embed.weight"], ACT).astype(np.float64)
        self.step_embed = _q(s["step_embed.weight"], ACT).astype(np.float64)
        self.pos_w = _q(s["pos.weight"][:, 0], WGT).astype(np.float64)  # d x 3 x 3
        self.pos_b = _q(s["pos.bias"], ACT).astype(np.float64)
        self.blocks = []
        for i in range(cfg.depth):
            p = f"blocks.{i}."
            self.blocks.append({
                "norm1": _LayerNorm(s[p + "norm1.weight"], s[p + "norm1.bias"]),
                "qkv": _Linear(s[p + "attn.qkv.weight"], s[p + "attn.qkv.bias"]),
                "proj": _Linear(s[p + "attn.proj.weight"], s[p + "attn.proj.bias"]),
                "norm2": _LayerNorm(s[p + "norm2.weight"], s[p + "norm2.bias"]),
                "fc1": _Linear(s[p + "fc1.weight"], s[p + "fc1.bias"]),
                "fc2": _Linear(s[p + "fc2.weight"], s[p + "fc2.bias"]),
                "offset": window_offset(i, cfg.window)})
        self.norm = _LayerNorm(s["norm.weight"], s["norm.bias"])
        self.head = _Linear(s["head.weight"], s["head.bias"])
        hd = cfg.dim // cfg.heads
        self.att_scale = int(round(hd ** -0.5 * (1 << WGT)))
        self.att_exp = np.asarray(tables["att_exp"], dtype=np.int64)
        self._att_lut = np.append(self.att_exp, 0).astype(np.float64)  # index len(att_exp): weight 0
        self.out_exp = np.asarray(tables["out_exp"], dtype=np.int64)

    # -- layers --------------------------------------------------------------------------------
    def _pos(self, x: np.ndarray) -> np.ndarray:  # h x w x d
        h, w, _ = x.shape
        p = np.pad(x, ((1, 1), (1, 1), (0, 0)))
        acc = np.zeros_like(x)
        for dy in range(3):
            for dx in range(3):
                acc += p[dy:dy + h, dx:dx + w] * self.pos_w[:, dy, dx]
        return _clamp(x + _shift(acc, WGT) + self.pos_b)

    def _score_gaps(self, raw: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """max(scores) - scores per query, scores = floor(raw * att_scale / 2**(ACT + WGT)), as
        integer-valued float64; padded keys get a gap beyond the exp table (weight 0).
        The scaled product passes 2**53 only for |raw| >= 2**53 / att_scale (never seen: raw is
        about 2**30): then in int64, where an arithmetic shift is the floor division. Both
        branches give the same integers."""
        big = float(np.abs(raw).max(initial=0.0)) * self.att_scale >= 2.0 ** 53
        if big:
            scores = ((raw.astype(np.int64) * self.att_scale) >> (ACT + WGT)).astype(np.float64)
        else:
            scores = raw * float(self.att_scale)
            scores *= 2.0 ** -(ACT + WGT)
            np.floor(scores, out=scores)
        if not keep.all():  # border windows: padded keys get no weight
            scores = np.where(keep, scores, -np.inf)
        gaps = scores.max(-1, keepdims=True) - scores
        if not keep.all():
            gaps[~np.broadcast_to(keep, gaps.shape)] = float(len(self.att_exp) << (ACT - ATT_EXP_BITS))
        return gaps

    def _attention(self, blk: dict, x: np.ndarray, top: int) -> np.ndarray:
        """Windowed attention of a band of rows whose first row sits `top` rows into its window
        (the whole grid: the block's offset); the band ends on a window or at the grid's end."""
        cfg = self.cfg
        h, w, d = x.shape
        win, nh, hd = cfg.window, cfg.heads, cfg.dim // cfg.heads
        (t, bt), (l, r) = pad_amounts(h, top, win), pad_amounts(w, blk["offset"], win)
        qkv = np.pad(blk["qkv"](x), ((t, bt), (l, r), (0, 0)))
        valid = np.pad(np.ones((h, w), dtype=bool), ((t, bt), (l, r)))
        H, W = qkv.shape[0] // win, qkv.shape[1] // win
        qkv = qkv.reshape(H, win, W, win, 3, nh, hd).transpose(4, 0, 2, 5, 1, 3, 6)
        q, k, v = (z.reshape(H * W, nh, win * win, hd) for z in qkv)
        keep = valid.reshape(H, win, W, win).transpose(0, 2, 1, 3).reshape(H * W, 1, 1, win * win)
        raw = np.matmul(q, k.transpose(0, 1, 3, 2))  # exact: < 2**49
        z = self._score_gaps(raw, keep)  # >= 0, ACT bits
        step = float(1 << (ACT - ATT_EXP_BITS))
        idx = _fdiv(z + step / 2, step)  # (z + half) >> (ACT - ATT_EXP_BITS)
        np.minimum(idx, float(len(self.att_exp)), out=idx)
        e = self._att_lut[idx.astype(np.int64)]  # beyond the table: 0
        total = np.maximum(e.sum(-1, keepdims=True), 1.0)
        e *= float(1 << ATT_P)
        p = _fdiv(e, total)  # (e << ATT_P) // total, exactly
        out = _shift(np.matmul(p, v), ATT_P)
        out = out.reshape(H, W, nh, win, win, hd).transpose(0, 3, 1, 4, 2, 5).reshape(H * win, W * win, d)
        return blk["proj"](np.ascontiguousarray(out[t:t + h, l:l + w]))

    def band_rows(self, width: int, height: int | None = None, workers: int = 1) -> int:
        """Rows per band: whole windows, about BAND_TOKENS positions (at least one window row),
        and with `workers` threads at most a 2 x workers-th of the grid, so every thread has work."""
        win = self.cfg.window
        rows = max(1, BAND_TOKENS // max(1, width) // win) * win
        if workers > 1 and height is not None:
            rows = min(rows, win * max(1, -(-height // (win * 2 * workers))))
        return rows

    def features(self, tokens: np.ndarray, step: int, rows: int | None = None,
                 workers: int | None = None) -> np.ndarray:
        """h x w x d integer features (int32: every activation is clamped to |x| <= CLAMP; a band
        is computed in integer-valued float64).

        Why in bands: evaluated over the whole grid at once, a block's activations and
        attention scores take ~20 KB a position (5.9 GB for an 8000x6000 photo). Every layer is
        per position except the 3x3 positional conv (one row of context either side) and the
        windowed attention (bands cut on the block's window rows), so a block is run band by band
        in place on one int32 grid: the same integers, with working memory of one band.
        Bands of a block are independent, so they run on `workers` threads (default
        `prior_workers()`; numpy and BLAS release the GIL): exact integers, so the same features
        for any thread count, band size or order (measured on kodim23's 48 x 32 grid, quiet
        2-core machine: 0.161 s a pass on one thread, 0.070 s on two, in bands of 8 rows).
        `rows` (a multiple of the window; default `band_rows`) is for tests."""
        h, w = tokens.shape
        win = self.cfg.window
        workers = prior_workers() if workers is None else max(1, workers)
        rows = rows or self.band_rows(w, h, workers)
        if rows % win:
            raise ValueError(f"band rows must be a multiple of the window ({win}), got {rows}")
        x = np.empty((h, w, self.cfg.dim), np.int32)

        def embed(a: int) -> None:
            b = min(h, a + rows)
            lo, hi = max(0, a - 1), min(h, b + 1)
            x[a:b] = self._pos(self.embed[tokens[lo:hi]] + self.step_embed[step])[a - lo: b - lo]

        def block(blk: dict, a: int, b: int) -> None:
            xb = x[a:b].astype(np.float64)
            xb = _clamp(xb + self._attention(blk, blk["norm1"](xb), (a + blk["offset"]) % win))
            x[a:b] = _clamp(xb + blk["fc2"](np.maximum(blk["fc1"](blk["norm2"](xb)), 0)))

        def norm(a: int) -> None:
            x[a:a + rows] = self.norm(x[a:a + rows].astype(np.float64))

        with _Bands(workers) as bands:
            bands.run(embed, [(a,) for a in range(0, h, rows)])
            for blk in self.blocks:
                cuts = [0] + list(range(rows - blk["offset"], h, rows)) + [h]
                bands.run(block, [(blk, a, b) for a, b in zip(cuts[:-1], cuts[1:]) if a < b])
            bands.run(norm, [(a,) for a in range(0, h, rows)])
        return x

    def run(self, tokens: np.ndarray, step: int) -> "PriorPass":
        """One pass of the prior over a token grid, for the coder to read position by position; on
        one BLAS thread: its products are small and its integers exact in any order, so splitting
        them over cores only costs time (`learned.blas`; measured on kodim23's 48 x 32 grid with
        one core busy: 0.20 s a pass on 1 thread, 0.52 s on 2)."""
        with one_blas_thread():
            return PriorPass(self, self.features(tokens, step))

    def logits(self, tokens: np.ndarray, step: int, where: np.ndarray | None = None) -> np.ndarray:
        """Integer logits (ACT bits) of the positions `where` (all: h x w x K)."""
        f = self.features(tokens, step)
        return self.head((f if where is None else f[where]).astype(np.float64))

    def tables(self, tokens: np.ndarray, step: int, where: np.ndarray) -> np.ndarray:
        """N x K integer frequency tables (sum 2**16) for the positions `where` (raster order)."""
        return np.concatenate(list(self.run(tokens, step).tables(where)))

    def argmax(self, tokens: np.ndarray, step: int, where: np.ndarray) -> np.ndarray:
        """The most probable token of each position `where` (regeneration; ties: lowest index)."""
        return self.run(tokens, step).argmax(where)


class PriorPass:
    """A prior pass's features, read as logits a chunk of positions at a time.

    Why: the logits of every position (K int64 each) of a large grid are as big as the
    activations; the coder needs the tables of one step's positions, the argmax of others, and
    takes them HEAD_CHUNK positions at a time, in raster order."""

    def __init__(self, prior: FixedPrior, features: np.ndarray):
        self.prior, self.features = prior, features

    def logits(self, where: np.ndarray) -> Iterator[np.ndarray]:
        """Integer logits of the positions `where` (h x w bool), HEAD_CHUNK at a time, in order."""
        ys, xs = np.nonzero(where)
        for n in range(0, len(ys), HEAD_CHUNK):
            f = self.features[ys[n:n + HEAD_CHUNK], xs[n:n + HEAD_CHUNK]].astype(np.float64)
            with one_blas_thread():
                lg = self.prior.head(f)
            yield lg

    def tables(self, where: np.ndarray) -> Iterator[np.ndarray]:
        """N x K frequency tables of the positions `where`, chunk by chunk (at least one chunk)."""
        empty = True
        for lg in self.logits(where):
            empty = False
            yield frequencies(lg, self.prior.out_exp)
        if empty:
            yield np.zeros((0, self.prior.cfg.vocab), np.int64)

    def argmax(self, where: np.ndarray) -> np.ndarray:
        """The most probable token of each position `where` (ties: lowest index)."""
        return np.concatenate([np.zeros(0, np.int64)] + [lg.argmax(-1) for lg in self.logits(where)])


def frequencies(logits: np.ndarray, out_exp: np.ndarray) -> np.ndarray:
    """Integer softmax: frequencies >= 1 summing to 2**16, the remainder on the first maximum.
    `logits` are integer-valued (ACT bits; float64 from the prior, or int64)."""
    logits = np.asarray(logits, dtype=np.float64)
    k = logits.shape[-1]
    z = logits.max(-1, keepdims=True) - logits
    step = float(1 << (ACT - OUT_EXP_BITS))
    idx = _fdiv(z + step / 2, step).astype(np.int64)  # (z + half) >> (ACT - OUT_EXP_BITS)
    lut = np.append(np.asarray(out_exp, dtype=np.float64), 0.0)  # beyond the table: 0
    e = lut[np.minimum(idx, len(out_exp))]
    total = e.sum(-1, keepdims=True)
    e *= float(TOTAL - k)
    freq = _fdiv(e, total).astype(np.int64) + 1  # (e * (TOTAL - k)) // total: exact below 2**53
    first = logits.argmax(-1)
    freq[np.arange(len(freq)), first] += TOTAL - freq.sum(-1)
    return freq
