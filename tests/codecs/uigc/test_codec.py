"""The UIGC codec end to end: real bytes that decode, dropping, ROI, progressive layers, errors."""
import os
import subprocess
import sys

import numpy as np
import pytest

from gic.codecs import container, registry
from gic.codecs.errors import GicFormatError
from gic.codecs.uigc.codec import KEEP_FRACTION, choose_drops, roi_to_grid
from gic.codecs.uigc.coding import LAST
from gic.codecs.uigc.schedule import NUM_STEPS, step_map


@pytest.fixture(scope="module")
def files(codec, image):
    return {q: codec.encode(image, q) for q in (1, 3, 5)}


def test_spec_is_registered_and_learned():
    spec = registry.spec("uigc")
    assert spec.learned and spec.progressive and spec.roi and spec.extension == ".gic"


def test_round_trip_is_deterministic_and_rate_grows_with_quality(codec, image, files):
    sizes = [len(files[q]) for q in (1, 3, 5)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    for q, data in files.items():
        out = codec.decode(data)
        assert out.shape == image.shape and out.dtype == np.uint8
        assert codec.encode(image, q) == data  # encoding is deterministic too
        assert np.array_equal(codec.decode(data), out)


def test_decoder_reproduces_the_dropping_mask(codec, image, files):
    grid = codec.tokenizer.tokenize(image)[0]
    for q, data in files.items():
        *_, (f, last) = codec.decoded_grids(data)
        h, w = grid.shape
        droppable = step_map(h, w) == LAST
        dropped = droppable & ~last.sent
        n = int(droppable.sum())
        assert int(dropped.sum()) == n - int(round(KEEP_FRACTION[q] * n))
        assert np.array_equal(last.tokens[last.sent], grid[last.sent])  # sent tokens are exact


def test_progressive_layers_are_the_schedule_steps(codec, files):
    previews = list(codec.decode_progressive(files[5]))
    assert [p.layer for p in previews] == list(range(1, NUM_STEPS + 1))
    bits = [p.bits for p in previews]
    assert bits == sorted(bits)
    assert np.array_equal(previews[-1].image, codec.decode(files[5]))


def test_truncated_file_decodes_its_complete_layers(codec, files):
    data = files[5]
    f = container.unpack(data)
    for k in (1, 3, 6):
        cut = data[:f.layer_offsets[k - 1] + 1]  # one byte into the next layer
        previews = list(codec.decode_progressive(cut))
        assert len(previews) == k and previews[-1].partial
        full = list(codec.decode_progressive(data))[k - 1]
        assert np.array_equal(previews[-1].image, full.image)


def test_roi_never_drops_a_token_inside(codec, image):
    roi = np.zeros(image.shape[:2], bool)
    roi[40:120, 60:200] = True
    data = codec.encode(image, 1, roi=roi)
    *_, (f, last) = codec.decoded_grids(data)
    inside = roi_to_grid(roi, 16, *last.sent.shape)
    assert last.sent[inside].all() and not last.sent[~inside].all()
    bits_in, bits_out = codec.roi_bits(data)
    assert bits_in > 0 and bits_out > 0
    assert abs(bits_in + bits_out - 8 * sum(len(x) for x in f.layers)) <= 2


def test_edge_ranking_keeps_the_strongest_edges():
    droppable = np.zeros((4, 4), bool)
    droppable[0] = True
    strength = np.array([[1.0, 5.0, 3.0, 0.5]] + [[0.0] * 4] * 3)
    drop = choose_drops(droppable, 0.5, strength)
    assert list(drop[0]) == [True, False, False, True]
    assert choose_drops(droppable, 0.0, strength)[0].all() and not choose_drops(droppable, 1.0, None).any()


def test_corrupt_or_foreign_files_give_the_projects_error(codec, files):
    data = bytearray(files[3])
    data[-20] ^= 0xFF  # inside the last layer chunk: its CRC fails
    with pytest.raises(GicFormatError, match="corrupt"):
        codec.decode(bytes(data))
    with pytest.raises(GicFormatError):
        codec.decode(b"\x89GIC\r\n\x1a\n" + b"\0" * 10)
    other = registry.create("progic").encode(np.zeros((32, 32, 3), np.uint8), 1)
    with pytest.raises(GicFormatError):
        codec.decode(other)


DECODE_SCRIPT = r"""
import hashlib, sys
from gic.codecs import registry
data = open(sys.argv[1], "rb").read()
*_, (f, grid) = registry.create("uigc").decoded_grids(data)
print(hashlib.sha256(grid.tokens.tobytes() + grid.sent.tobytes()).hexdigest())
"""


def test_same_tokens_with_one_or_two_threads(files, tmp_path):
    # the token grid (sent and regenerated) is this family's; the pixels are the tokenizer's
    # synthesis, whose thread-count independence its own tests check
    p = tmp_path / "x.gic"
    p.write_bytes(files[3])

    def run(n):
        env = {**os.environ, "OMP_NUM_THREADS": str(n), "OPENBLAS_NUM_THREADS": str(n)}
        return subprocess.run([sys.executable, "-c", DECODE_SCRIPT, str(p)], env=env, check=True,
                              capture_output=True, text=True).stdout
    assert run(1) == run(2)


def test_previews_carry_the_token_states(codec, files):
    from gic.codecs.base import TOKEN_DROPPED, TOKEN_GUESSED, TOKEN_SENT
    previews = list(codec.decode_progressive(files[1]))
    first, last = previews[0].tokens, previews[-1].tokens
    assert set(np.unique(first)) == {TOKEN_SENT, TOKEN_GUESSED}
    assert set(np.unique(last)) == {TOKEN_SENT, TOKEN_DROPPED}  # quality 1 drops every droppable token
