"""MCDH's integer entropy-parameter path: close to its float twin, and a golden hash that fails if
the decoder's arithmetic drifts (any change of rounding, order or layer breaks old files)."""
import hashlib

import numpy as np
import torch

from gic.codecs.mcdh.fixed import ACT, FixedEntropy, anchor_mask, scale_thresholds
from gic.codecs.mcdh.model import MCDH, MCDHConfig, checkerboard
from gic.codecs.mcdh.weights import table_scales

CFG = MCDHConfig(n=8, m=8, zs=4, zc=4, hid=16, heads=2, levels=2)
#: sha256 of the means and table indices of both passes for the seeded model and inputs below.
GOLDEN = "7e6f45a1ab42d26e08979fddf776935515927b4ff64f94018d3cecfaa218696b"


def _setup():
    # numpy-seeded fp16 weights (torch's generator may change between versions; numpy's is fixed)
    rng = np.random.default_rng(0)
    model = MCDH(CFG)
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    for k in sorted(state):
        if k.startswith("entropy."):
            state[k] = (rng.normal(0, 0.3, state[k].shape)).astype(np.float16).astype(np.float32)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    fx = FixedEntropy(CFG, state, scale_thresholds(table_scales()))
    h, w = 9, 13
    zs = rng.integers(-3, 4, (CFG.zs, 3, 4))
    zc = rng.integers(-3, 4, CFG.zc)
    y = rng.normal(0, 3, (CFG.m, h, w))
    return model, fx, zs, zc, y, h, w


def _integer_tables(fx, zs, zc, y, h, w):
    a = anchor_mask(h, w)
    feat = fx.hyper(zs, zc, h, w)
    mean0, idx0 = fx.params(feat, 0)
    y_fixed = np.where(a, np.round(y * (1 << ACT)).astype(np.int64), 0)
    mean1, idx1 = fx.params(feat + fx.context(y_fixed, a), 1)
    return mean0, idx0, mean1, idx1, y_fixed


def test_integer_path_matches_the_float_twin():
    model, fx, zs, zc, y, h, w = _setup()
    mean0, idx0, mean1, idx1, y_fixed = _integer_tables(fx, zs, zc, y, h, w)
    ent = model.entropy
    with torch.no_grad():
        feat = ent.hyper(torch.from_numpy(zs).float()[None], torch.from_numpy(zc).float()[None], h, w)
        m0, _ = ent.params(feat, 0)
        a = checkerboard(h, w)
        ya = torch.from_numpy(y_fixed / (1 << ACT)).float()[None]
        m1, _ = ent.params(feat + ent.context(ya, a), 1)
    assert np.abs(mean0 / (1 << ACT) - m0[0].numpy()).max() < 0.02
    assert np.abs(mean1 / (1 << ACT) - m1[0].numpy()).max() < 0.02
    assert idx0.min() >= 0 and idx1.max() < len(table_scales())


def test_coding_tables_are_golden():
    _, fx, zs, zc, y, h, w = _setup()
    mean0, idx0, mean1, idx1, _ = _integer_tables(fx, zs, zc, y, h, w)
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(a, "<i8").tobytes()
                                     for a in (mean0, idx0, mean1, idx1))).hexdigest()
    assert digest == GOLDEN


def test_partial_passes_give_the_whole_maps_integers_at_their_positions():
    # the codec computes each pass only where it codes (conv_at, 1x1 layers on N positions)
    _, fx, zs, zc, y, h, w = _setup()
    a = anchor_mask(h, w)
    feat = fx.hyper(zs, zc, h, w)
    y_fixed = np.where(a, np.round(y * (1 << ACT)).astype(np.int64), 0)
    full = feat + fx.context(y_fixed, a)
    part = feat[:, ~a] + fx.context(y_fixed, a, at=~a)
    assert np.array_equal(part, full[:, ~a])
    for which, sel, f in ((0, a, feat), (1, ~a, full)):
        for whole, some in zip(fx.params(f, which), fx.params(f[:, sel], which)):
            assert np.array_equal(some, whole[:, sel])


def test_row_bands_give_the_whole_maps_integers():
    # the codec runs both passes in row bands: each of the hyper-decoder's 3x3 convs (1/64, 1/32,
    # 1/16) needs its row of context either side, the 5x5 context conv two rows; bands of 1-3
    # rows cut everywhere, and grid sizes not a multiple of 4 leave the hyper map's padded rows
    _, fx, zs, zc, y, h, w = _setup()
    a = anchor_mask(h, w)
    whole = fx.hyper(zs, zc, h, w)
    y_fixed = np.where(a, np.round(y * (1 << ACT)).astype(np.int64), 0)
    ctx = fx.context(y_fixed, a, at=~a)
    ch = fx.channel(zc)
    for rows in (1, 2, 3):
        cuts = [(r, min(h, r + rows)) for r in range(0, h, rows)]
        assert np.array_equal(np.concatenate([fx.hyper_rows(zs, ch, r0, r1, w) for r0, r1 in cuts], 1), whole)
        local = np.concatenate([fx.local_rows(y_fixed, r0, r1, (~a)[r0:r1]) for r0, r1 in cuts], 1)
        assert np.array_equal(local + fx.global_context(y_fixed, a)[:, None], ctx)
