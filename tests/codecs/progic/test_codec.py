import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from gic.codecs import container
from gic.codecs.errors import CodecError, GicFormatError, ModelMismatchError
from gic.codecs.progic.codec import ProGICCodec, roi_to_latent
from gic.codecs.progic.model import ModelConfig, ProGIC
from gic.codecs.learned.tiling import analyse_tiled, synthesise_tiled


@pytest.fixture()
def codec(tiny_weights):
    return ProGICCodec(weights=str(tiny_weights))


def test_round_trip_any_size(codec, image):
    data = codec.encode(image, quality=3)
    out = codec.decode(data)
    assert out.shape == image.shape and out.dtype == np.uint8
    f = container.unpack(data)
    assert f.header.codec == "progic" and f.header.num_layers == 3 and not f.partial
    assert f.header.model_hash == codec.loaded.model_hash


def test_quality_sets_layers_and_rate_grows(codec, image):
    sizes = [len(codec.encode(image, quality=q)) for q in (1, 2, 3)]
    assert sizes[0] < sizes[1] < sizes[2]
    with pytest.raises(CodecError):
        codec.encode(image, quality=4)


def test_progressive_prefixes_match_partial_decodes(codec, image):
    data = codec.encode(image, quality=3)
    previews = list(codec.decode_progressive(data))
    assert [p.layer for p in previews] == [1, 2, 3]
    assert all(p.num_layers == 3 and not p.partial for p in previews)
    assert previews[0].bits < previews[1].bits < previews[2].bits <= 8 * len(data)
    assert np.array_equal(previews[-1].image, codec.decode(data))
    f = container.unpack(data)
    cut = data[: f.layer_offsets[0] + 3]  # first layer complete, second cut short
    partial = list(codec.decode_progressive(cut))
    assert len(partial) == 1 and partial[0].partial
    assert np.array_equal(partial[0].image, previews[0].image)


def test_layers_differ_and_refine(codec, image):
    previews = list(codec.decode_progressive(codec.encode(image, quality=3)))
    assert not np.array_equal(previews[0].image, previews[-1].image)


def test_file_from_other_weights_is_refused(codec, image, tiny_weights, tmp_path):
    data = codec.encode(image, quality=2)
    f = container.unpack(data)
    forged = container.Header(width=f.header.width, height=f.header.height, codec="progic",
                              model_id=f.header.model_id, model_hash=b"\x01" * 16,
                              num_layers=f.header.num_layers)
    other = container.pack(forged, f.layers, params=f.params, roi=f.roi, metadata=f.metadata)
    with pytest.raises(ModelMismatchError):
        codec.decode(other)


def test_corrupt_layer_is_reported(codec, image):
    data = bytearray(codec.encode(image, quality=2))
    f = container.unpack(bytes(data))
    data[f.layer_offsets[1] - 6] ^= 0x55  # inside layer 2's payload
    with pytest.raises(GicFormatError):
        codec.decode(bytes(data))


def test_roi_gets_all_stages_and_background_fewer(codec, image):
    roi = np.zeros(image.shape[:2], bool)
    roi[:32, :48] = True
    data = codec.encode(image, quality=3, roi=roi, background_quality=1)
    f = container.unpack(data)
    assert f.roi is not None and np.array_equal(f.roi, roi)
    assert f.params["bg"] == 1 and f.params["depth"] == 3
    lat = roi_to_latent(roi, -(-image.shape[0] // 16), -(-image.shape[1] // 16))
    plain = container.unpack(codec.encode(image, quality=3))
    # layers 2 and 3 carry only the ROI positions: smaller than the same layers without ROI
    assert len(f.layers[0]) == len(plain.layers[0])
    assert len(f.layers[2]) < len(plain.layers[2])
    bits_in, bits_out = codec.roi_bits(data)
    area_in, area_out = lat.sum(), (~lat).sum()
    assert bits_in / area_in > 2 * bits_out / area_out
    out = codec.decode(data)
    assert out.shape == image.shape


def test_roi_to_latent_marks_blocks_touched():
    roi = np.zeros((40, 40), bool)
    roi[17, 33] = True
    lat = roi_to_latent(roi, 3, 3)
    assert lat.sum() == 1 and lat[1, 2]


def test_bpp_target_picks_closest_stage_count(codec, image):
    rates = {q: len(codec.encode(image, quality=q)) * 8 / (image.shape[0] * image.shape[1]) for q in (1, 2, 3)}
    data = codec.encode(image, bpp=rates[2] * 1.05)
    assert container.unpack(data).header.num_layers == 2


def test_tiled_coding_matches_whole_image():
    torch.manual_seed(0)
    cfg = ModelConfig(stages=2, codes=16, latent_dim=8, enc_channels=(8, 8, 16, 16),
                      dec_channels=(16, 16, 8, 8), enc_blocks=(1, 1, 1, 1), dec_blocks=(1, 1, 1, 1),
                      heads=2, window=4)
    m = ProGIC(cfg).eval()
    m.rvq.codebooks.normal_()
    x = torch.rand(1, 3, 16 * 20, 16 * 14)
    with torch.inference_mode():
        whole = m.analyse(x)
        tiled = analyse_tiled(m.analyse, m.pad(x), 16, tile=8, halo=8)
        assert (whole == tiled).float().mean() > 0.98
        depth = torch.full((1, 20, 14), 2)
        a = m.synthesise(whole, depth)
        b = synthesise_tiled(m.synthesise, (whole, depth), 16, tile=8, halo=8)
        assert (a - b).abs().max() < 1e-3


def test_determinism_encode_two_threads_decode_one_thread(tiny_weights, image, tmp_path):
    """The bitstream written with 2 threads decodes bit-exactly (indices checked) with 1 thread."""
    np.save(tmp_path / "img.npy", image)
    script = textwrap.dedent(f"""
        import sys, numpy as np, torch
        from gic.codecs.progic.codec import ProGICCodec
        torch.set_num_threads(int(sys.argv[1]))
        c = ProGICCodec(weights={str(tiny_weights)!r})
        if sys.argv[2] == "enc":
            open({str(tmp_path / 'f.gic')!r}, "wb").write(c.encode(np.load({str(tmp_path / 'img.npy')!r}), quality=3))
        else:
            np.save({str(tmp_path / 'out.npy')!r}, c.decode(open({str(tmp_path / 'f.gic')!r}, "rb").read()))
    """)
    for args in (["2", "enc"], ["1", "dec"]):
        subprocess.run([sys.executable, "-c", script, *args], check=True, timeout=120)
    out = np.load(tmp_path / "out.npy")
    ref = ProGICCodec(weights=str(tiny_weights)).decode((tmp_path / "f.gic").read_bytes())
    assert np.abs(out.astype(int) - ref.astype(int)).max() <= 1


@pytest.mark.parametrize("params, key", [({"depth": 1.5, "bg": 1}, "depth"), ({"depth": 3, "bg": "1"}, "bg"),
                                         ({"depth": True, "bg": 1}, "depth"), ({"bg": 1}, "depth"),
                                         ({"depth": 3, "bg": [1]}, "bg"), ({"depth": 3, "bg": 1e300}, "bg")])
def test_malformed_parameters_name_the_parameter(codec, image, params, key):
    """Issue 24: a PARM value of 1e400 made int(inf) raise OverflowError; every bad value is a
    GicFormatError that names the parameter."""
    f = container.unpack(codec.encode(image, quality=3))
    bad = container.pack(f.header, f.layers, params=params)
    with pytest.raises(GicFormatError, match=repr(key)):
        codec.decode(bad)
    with pytest.raises(GicFormatError, match=repr(key)):
        list(codec.decode_progressive(bad))
