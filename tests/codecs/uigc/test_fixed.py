"""The fixed-point prior: close to the float network, exact integer tables, and never drifting."""
import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from gic.codecs.uigc import fixed as fixed_module
from gic.codecs.uigc.fixed import ACT, TOTAL, FixedPrior, frequencies, luts
from gic.codecs.uigc.prior import PriorConfig, TokenPrior
from gic.codecs.uigc.schedule import step_map
from gic.codecs.uigc.weights import load_prior
from gic.resources import path


def _input(h=12, w=20, step=4, seed=0):
    g = np.random.default_rng(seed).integers(0, 256, (h, w))
    return np.where(step_map(h, w) < step, g, 256), step


def test_integer_logits_follow_the_float_network():
    loaded = load_prior(path("models", "uigc-prior.pt"))
    model = TokenPrior(loaded.config).eval()
    model.load_state_dict(loaded.torch_state())
    for step in (0, 3, 6, 7):
        tokens, _ = _input(step=min(step, 6))
        with torch.no_grad():
            ref = model(torch.from_numpy(tokens)[None], torch.tensor([step]))[0].numpy()
        got = loaded.fixed.logits(tokens, step) / 2 ** ACT
        assert np.abs(got - ref).max() < 0.02


def test_tables_are_integer_distributions():
    fixed = load_prior(path("models", "uigc-prior.pt")).fixed
    tokens, step = _input()
    t = fixed.tables(tokens, step, step_map(*tokens.shape) == step)
    assert t.dtype == np.int64 and (t >= 1).all() and (t.sum(1) == TOTAL).all()


def test_frequencies_give_the_remainder_to_the_first_maximum():
    out = frequencies(np.array([[0, 4096, 4096, -99999]], dtype=np.int64), luts()["out_exp"])
    assert out.sum() == TOTAL and out[0, 1] > out[0, 2] and out[0, 3] == 1


def test_banded_features_equal_the_whole_grid(monkeypatch):
    # Bands of one window row (8) cut every block's windows, shifted or not, at every band edge;
    # a wrong halo or window alignment changes the integers near the cuts.
    fixed = load_prior(path("models", "uigc-prior.pt")).fixed
    for (h, w), step in (((37, 21), 0), ((41, 13), 6), ((9, 30), 7)):
        tokens, _ = _input(h, w, step=min(step, 6), seed=h)
        whole = fixed.features(tokens, step, rows=8 * (h // 8 + 1), workers=1)
        for rows in (8, 16):
            for workers in (1, 3):  # bands on threads: the same integers in any order
                got = fixed.features(tokens, step, rows=rows, workers=workers)
                assert np.array_equal(got, whole), (h, w, rows, workers)
        where = step_map(h, w) >= 5
        ref = frequencies(fixed.head(whole[where]), fixed.out_exp)
        monkeypatch.setattr(fixed_module, "HEAD_CHUNK", 7)  # tables a few positions at a time
        run = fixed.run(tokens, step)
        assert len(list(run.tables(where))) > 1
        assert np.array_equal(np.concatenate(list(run.tables(where))), ref)
        assert np.array_equal(run.argmax(where), ref.argmax(-1))
        monkeypatch.undo()


def test_band_rows_cover_whole_windows():
    fixed = load_prior(path("models", "uigc-prior.pt")).fixed
    assert [fixed.band_rows(w) for w in (1, 500, 10 ** 6)] == [4096, 8, 8]
    # with threads, a small grid is cut so that every thread gets bands (kodim23: 48 x 32 tokens)
    assert fixed.band_rows(48, 32, workers=2) == 8 and fixed.band_rows(48, 32, workers=1) == 80
    tokens, _ = _input(12, 20)
    with pytest.raises(ValueError):
        fixed.features(tokens, 0, rows=12)


GOLDEN_SCRIPT = r"""
import hashlib, numpy as np
from gic.codecs.uigc.schedule import step_map
from gic.codecs.uigc.weights import load_prior
from gic.resources import path
fixed = load_prior(path("models", "uigc-prior.pt")).fixed
g = np.random.default_rng(0).integers(0, 256, (24, 40))
h = hashlib.sha256()
for step in range(8):
    tokens = np.where(step_map(24, 40) < min(step, 6), g, 256)
    h.update(fixed.tables(tokens, step, np.ones((24, 40), bool)).astype("<i8").tobytes())
print(h.hexdigest())
"""


def _tables_hash(threads: int, **extra: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), **extra}
    out = subprocess.run([sys.executable, "-c", GOLDEN_SCRIPT], env=env, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def test_same_tables_with_any_thread_count_and_process():
    assert _tables_hash(1) == _tables_hash(2)


def test_same_tables_with_another_cpus_blas_kernels():
    # numpy's OpenBLAS picks kernels by CPU; forcing SSE-era (Nehalem) kernels instead of this
    # machine's AVX2 ones stands in for another CPU: integer-valued float64 products stay exact.
    assert _tables_hash(1, OPENBLAS_CORETYPE="Nehalem") == _tables_hash(1)


def test_tables_match_the_recorded_golden_hash():
    # Fails if the decoder's arithmetic drifts (numpy, BLAS, CPU) or the shipped prior changes:
    # then every .gic file written so far would decode to garbage. Update only with new weights.
    loaded = load_prior(path("models", "uigc-prior.pt"))
    golden = GOLDEN.get(loaded.model_hash.hex())
    assert golden is not None, f"no golden hash recorded for prior {loaded.model_hash.hex()}"
    assert _tables_hash(2) == golden


#: prior model hash -> SHA-256 of GOLDEN_SCRIPT's tables (recorded on x86-64, numpy OpenBLAS).
GOLDEN = {
    "b90e8d6add1a14502f90ef38d0edcb2f": "ee4528033ba5823d31b65a0fa170c5b32de4e279da2cf6fe3b52511e083b580f",
    # uigc-prior-v2: v1's tensors re-stamped for the byte-aligned layers (the same tables)
    "35395fcbee2f2dc009aa5c3417f2f6a7": "ee4528033ba5823d31b65a0fa170c5b32de4e279da2cf6fe3b52511e083b580f",
}


def _old_score_gaps(raw, keep, att_scale, table_len):
    """The int64 formula the prior shipped with (uigc-prior-v1): the reference for the fast path."""
    from gic.codecs.uigc.fixed import WGT
    scores = np.floor_divide(raw.astype(np.int64) * att_scale, 1 << (ACT + WGT))
    scores = np.where(keep, scores, np.iinfo(np.int64).min // 4)
    return scores.max(-1, keepdims=True) - scores


def test_attention_score_gaps_equal_the_int64_formula_in_both_branches():
    fixed = load_prior(path("models", "uigc-prior.pt")).fixed
    rng = np.random.default_rng(3)
    keep = np.ones((2, 1, 1, 64), bool)
    keep[1, ..., 40:] = False  # a border window
    n = len(fixed.att_exp) << 4
    for magnitude in (2 ** 30, 2 ** 49):  # the float64 branch, then the int64 one (scaled > 2**53)
        raw = rng.integers(-magnitude, magnitude, (2, 4, 64, 64)).astype(np.float64)
        got = fixed._score_gaps(raw, keep)
        want = _old_score_gaps(raw, keep, fixed.att_scale, len(fixed.att_exp))
        k = np.broadcast_to(keep, got.shape)
        assert np.array_equal(got[k], want[k].astype(np.float64))
        assert (got[~k] >= n).all()  # padded keys land beyond the exp table: weight 0
