"""The weight-conversion script's offline parts: layout transpose and the safe unpickler."""
import io
import pickle

import numpy as np
import pytest
import torch


@pytest.fixture(scope="module")
def conv():
    from gic.codecs.metrics import convert

    return convert


def test_hwio_to_oihw_matches_conv(conv):
    rng = np.random.default_rng(0)
    k = rng.normal(size=(3, 5, 4, 6)).astype(np.float32)  # H, W, in, out
    x = rng.normal(size=(1, 4, 9, 9)).astype(np.float32)
    w = conv.hwio_to_oihw(k)
    assert w.shape == (6, 4, 3, 5)
    out = torch.nn.functional.conv2d(torch.from_numpy(x), w)
    # out[o, i, j] = sum over h, w, c of k[h, w, c, o] * x[c, i + h, j + w]
    manual = np.einsum("hwco,chw->o", k, x[0, :, 2:5, 3:8])
    np.testing.assert_allclose(out[0, :, 2, 3].numpy(), manual, rtol=1e-5)


def test_flax_pickle_flattened(conv):
    tree = {"Net_0": {"Conv_0": {"kernel": np.ones((1, 1, 2, 3)), "bias": np.zeros(3)}}}
    flat = conv.read_flax_pickle(pickle.dumps(tree))
    assert set(flat) == {"Net_0/Conv_0/kernel", "Net_0/Conv_0/bias"}
    assert flat["Net_0/Conv_0/kernel"].dtype == np.float32


def test_unpickler_refuses_code(conv):
    evil = pickle.dumps({"x": io.BytesIO(b"")})  # any non-NumPy class
    with pytest.raises(conv.ConversionError, match="unexpected object"):
        conv.read_flax_pickle(evil)
