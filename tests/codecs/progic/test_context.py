"""ProGIC's context model: each stage's indices coded under neighbours in the row above."""
import numpy as np

from gic.codecs.learned.entropy import frequency_table


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
