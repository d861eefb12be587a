import numpy as np
import pytest

from gic.codecs.errors import GicFormatError
from gic.codecs.progic.entropy import (TABLE_TOTAL, decode_symbols, encode_symbols, frequency_table,
                                       ideal_bits)


def test_frequency_table_is_positive_and_sums_to_total():
    counts = np.array([0, 0, 5, 1000, 3] + [0] * 251, dtype=float)
    f = frequency_table(counts)
    assert f.sum() == TABLE_TOTAL and f.min() >= 1
    assert f.argmax() == 3


def test_round_trip_and_rate_close_to_cross_entropy():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.full(256, 0.5))
    symbols = rng.choice(256, size=20000, p=p)
    f = frequency_table(p * 1e6)
    payload = encode_symbols(symbols, f)
    assert np.array_equal(decode_symbols(payload, symbols.size, f), symbols)
    overhead = (len(payload) - 4) * 8 / ideal_bits(symbols, f)
    assert overhead < 1.01  # the coder adds well under 1% to the model's cross-entropy


def test_empty_layer_round_trips():
    f = frequency_table(np.ones(16))
    assert decode_symbols(encode_symbols(np.zeros(0, int), f), 0, f).size == 0


def test_corrupt_payload_is_reported_not_returned():
    rng = np.random.default_rng(1)
    f = frequency_table(np.ones(256))
    symbols = rng.integers(0, 256, 500)
    payload = bytearray(encode_symbols(symbols, f))
    payload[10] ^= 0xFF
    with pytest.raises(GicFormatError, match="check value|could not be decoded"):
        decode_symbols(bytes(payload), symbols.size, f, what="layer 2")
    with pytest.raises(GicFormatError, match="malformed"):
        decode_symbols(b"\x00\x01", 5, f)


def _context_fixture(k=16, h=12, w=17, seed=0):
    """Index maps with strong vertical structure, so the row-above context should pay off."""
    rng = np.random.default_rng(seed)
    maps = []
    for _ in range(20):
        row = rng.integers(0, k, w)
        a = np.empty((h, w), dtype=np.int64)
        for y in range(h):
            flip = rng.random(w) < 0.2
            row = np.where(flip, rng.integers(0, k, w), row)
            a[y] = row
        maps.append(a)
    return maps


def test_context_coding_round_trips_on_any_subset_and_beats_marginal():
    from gic.codecs.progic.entropy import context_tables, decode_layer, encode_layer, symbol_costs

    maps = _context_fixture()
    k = 16
    p = np.bincount(np.concatenate([m.ravel() for m in maps]), minlength=k) / sum(m.size for m in maps)
    marginal = frequency_table(p)
    cond = context_tables(maps[:15], p)
    rng = np.random.default_rng(3)
    for a in maps[15:]:
        for present in (np.ones(a.shape, bool), rng.random(a.shape) < 0.6):
            payload = encode_layer(a, present, marginal, cond)
            out = np.full(a.shape, -1)
            decode_layer(payload, present, marginal, cond, out)
            assert np.array_equal(out[present], a[present]) and (out[~present] == -1).all()
            costs = symbol_costs(a, present, marginal, cond)
            assert abs((len(payload) - 4) * 8 - costs.sum()) < 0.02 * costs.sum() + 64
        iid = encode_layer(a, np.ones(a.shape, bool), marginal, None)
        ctx = encode_layer(a, np.ones(a.shape, bool), marginal, cond)
        assert len(ctx) < 0.8 * len(iid)
