import torch

from gic.codecs.progic.rvq import ResidualVQ


def test_each_stage_reduces_the_residual_and_encode_matches_training_indices():
    torch.manual_seed(0)
    rvq = ResidualVQ(stages=4, codes=32, dim=8)
    z = torch.randn(2000, 8)
    rvq.train()
    for _ in range(30):
        idx, quants, stats = rvq(z)
    rvq.eval()
    idx_eval, quants, _ = rvq(z)
    assert torch.equal(rvq.encode(z), idx_eval)
    errs = [float(((z - quants[: s + 1].sum(0)) ** 2).mean()) for s in range(4)]
    assert all(a > b for a, b in zip(errs, errs[1:])), errs
    assert errs[-1] < 0.5 * float((z ** 2).mean())


def test_dead_codes_are_restarted():
    torch.manual_seed(0)
    rvq = ResidualVQ(stages=1, codes=64, dim=4, collapse_fraction=0)  # one code at a time
    rvq.train()
    rvq(torch.randn(500, 4))
    # data moves far away: every old code dies and must be replaced by current residuals
    shifted = torch.randn(500, 4) + 20
    for _ in range(400):
        _, _, stats = rvq(shifted)
    assert stats["used"][0] > 32
    assert float(rvq.codebooks[0].mean()) > 15


def test_a_collapsed_stage_is_reseeded_whole_at_once():
    torch.manual_seed(0)
    rvq = ResidualVQ(stages=2, codes=64, dim=4)
    rvq.train()
    rvq(torch.randn(500, 4))
    moved = torch.randn(500, 4) + 30  # the input jumps away: stage 1 would put it all on one code
    assert int(torch.unique(rvq.encode(moved, 0, 1)).numel()) < 4
    _, quants, stats = rvq(moved)  # re-seeded and quantised with the new codes in the same step
    assert rvq.reseeds == [1, 0] and stats["used"][0] > 32
    assert float(((moved - quants[0]) ** 2).mean()) < 1.0
    _, _, stats = rvq(torch.randn(500, 4) + 30)
    assert stats["used"][0] > 32 and rvq.reseeds == [1, 0]
    assert 0.9 * 64 * 0.99 < float(rvq.ema_count[0].sum()) < 500  # usage statistics stay consistent
