import torch

from gic.codecs.learned.quantisers import ResidualVQ, VectorQuantiser


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


def test_plain_vq_learns_clusters_and_encodes_like_its_codebook():
    torch.manual_seed(0)
    centres = torch.randn(8, 4) * 5
    z = centres[torch.randint(0, 8, (4000,))] + 0.05 * torch.randn(4000, 4)
    vq = VectorQuantiser(codes=16, dim=4)
    vq.train()
    for _ in range(40):
        idx, q, stats = vq(z)
    vq.eval()
    idx, q, _ = vq(z)
    assert idx.shape == (4000,) and q.shape == (4000, 4)
    assert torch.equal(vq.encode(z), idx) and torch.equal(vq.lookup(idx), q)
    assert float(((z - q) ** 2).mean()) < 0.05
