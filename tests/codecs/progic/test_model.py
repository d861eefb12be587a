"""The network itself: what the codec relies on (analysis, synthesis, depth) and old configs."""
import pytest
import torch

from gic.codecs.errors import CodecError
from gic.codecs.progic.model import ModelConfig, ProGIC
from gic.codecs.progic.train_command import TINY_MODEL


def test_synthesis_of_analysed_indices_is_the_training_reconstruction_at_every_depth():
    torch.manual_seed(0)
    m = ProGIC(ModelConfig.from_dict(TINY_MODEL)).eval()
    m.rvq.codebooks.normal_()
    x = torch.rand(1, 3, 64, 80)
    with torch.no_grad():
        idx = m.analyse(x)
        assert idx.shape == (TINY_MODEL["stages"], 1, 4, 5)
        for d in range(1, TINY_MODEL["stages"] + 1):
            depth = torch.full((1, 4, 5), d)
            assert torch.allclose(m(x, depth).recon, m.synthesise(idx, depth), atol=1e-5)


def test_a_config_with_the_removed_second_latent_is_refused_by_name():
    with pytest.raises(CodecError, match="second latent.*45f000c"):
        ModelConfig.from_dict(dict(TINY_MODEL, split=1))
    assert ModelConfig.from_dict(dict(TINY_MODEL, split=0, late="rvq")).stages == TINY_MODEL["stages"]
