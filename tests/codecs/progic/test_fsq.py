import pytest
import torch

from gic.codecs.progic.fsq import ScalarStages


def test_indices_and_lookup_agree_with_the_training_quantiser():
    torch.manual_seed(0)
    fsq = ScalarStages(groups=3, channels=4, levels=4)
    z = torch.randn(500, fsq.dim)
    q, idx = fsq.quantise(z)
    assert idx.shape == (3, 500) and int(idx.min()) >= 0 and int(idx.max()) < fsq.codes == 256
    assert torch.equal(idx, fsq.encode(z))
    assert torch.equal(fsq.lookup(idx).permute(1, 0, 2).reshape(500, -1), q)
    assert sorted(q.unique().tolist()) == [-1.5, -0.5, 0.5, 1.5]
    assert len(idx[0].unique()) > 150  # varied input reaches most of the 256 indices


def test_quantisation_error_is_bounded_and_gradients_pass_straight_through():
    fsq = ScalarStages(groups=1, channels=2, levels=4)
    z = torch.linspace(-4, 4, 200).view(100, 2).requires_grad_()
    q, _ = fsq.quantise(z)
    bounded = torch.tanh(z) * 2
    assert float((q - bounded).detach().abs().max()) <= 0.5 + 1e-6
    q.sum().backward()
    torch.testing.assert_close(z.grad, 2 * (1 - torch.tanh(z.detach()) ** 2))


@pytest.mark.parametrize("levels,channels", [(4, 2), (3, 3)])
def test_every_index_decodes_to_a_distinct_vector(levels, channels):
    fsq = ScalarStages(groups=1, channels=channels, levels=levels)
    idx = torch.arange(fsq.codes).view(1, -1)
    v = fsq.lookup(idx)[0]
    assert len({tuple(r.tolist()) for r in v}) == fsq.codes
    assert torch.equal(fsq.encode(torch.atanh(v.clamp(-0.99 * levels / 2, 0.99 * levels / 2) / (levels / 2))), idx)
