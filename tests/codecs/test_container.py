"""The .gic container: round trips, truncation, corruption, limits, and fuzzing of the reader."""
from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gic.codecs import container as c
from gic.codecs.errors import GicFormatError, ModelMismatchError

LEGACY = Path(__file__).resolve().parents[1] / "data" / "legacy"
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HASH = bytes(range(16))


def make_header(width=33, height=17, num_layers=3, codec="progic", model_id="progic-small-v1",
                model_hash=HASH) -> c.Header:
    return c.Header(width=width, height=height, codec=codec, model_id=model_id,
                    model_hash=model_hash, num_layers=num_layers)


def three_layer_file(roi: bool = True) -> tuple[bytes, list[bytes], np.ndarray | None]:
    layers = [b"first layer", b"\x00" * 40, bytes(range(7))]
    mask = (np.indices((17, 33)).sum(0) % 3 == 0) if roi else None
    data = c.pack(make_header(), layers, params={"depth": 3, "latent": [2, 3]}, roi=mask,
                  metadata={"encoder": "test", "source": "kodim23.png"})
    return data, layers, mask


def chunk(ctype: bytes, payload: bytes) -> bytes:
    return struct.pack("<4sI", ctype, len(payload)) + payload + \
        struct.pack("<I", zlib.crc32(payload, zlib.crc32(ctype)))


def header_bytes(version=1, width=4, height=3, num_layers=1, codec=b"x", model=b"", mhash=HASH) -> bytes:
    body = (c.MAGIC + struct.pack("<HIIB", version, width, height, num_layers)
            + bytes([len(codec)]) + codec + bytes([len(model)]) + model + mhash)
    return body + struct.pack("<I", zlib.crc32(body))


# -- round trips ---------------------------------------------------------------------------------
def test_round_trip_all_fields():
    data, layers, mask = three_layer_file()
    f = c.unpack(data)
    assert f.header == make_header()
    assert f.header.version == c.FORMAT_VERSION == 1
    assert f.layers == layers
    assert f.params == {"depth": 3, "latent": [2, 3]}
    assert f.metadata == {"encoder": "test", "source": "kodim23.png"}
    assert f.roi.dtype == bool and f.roi.shape == (17, 33)
    np.testing.assert_array_equal(f.roi, mask)
    assert not f.partial
    assert f.total_bytes == len(data)
    assert len(f.layer_offsets) == 3 and f.layer_offsets == sorted(f.layer_offsets)
    # Each offset is the end of its chunk: the payload sits just before the 4-byte CRC.
    for off, layer in zip(f.layer_offsets, layers):
        assert data[off - 4 - len(layer): off - 4] == layer
    assert c.read_header(data) == f.header
    assert c.is_gic(data)


def test_roi_none_and_no_metadata():
    data = c.pack(make_header(num_layers=1), [b"z"])
    f = c.unpack(data)
    assert f.roi is None and f.metadata == {} and f.params == {}
    assert b"ROIM" not in data and b"META" not in data


@pytest.mark.parametrize("h,w", [(17, 33), (1, 1), (5, 3), (8, 8), (1, 65535)])
def test_roi_odd_sizes(h, w):
    mask = np.random.default_rng(h * w).random((h, w)) > 0.5
    f = c.unpack(c.pack(make_header(width=w, height=h, num_layers=1), [b""], roi=mask))
    np.testing.assert_array_equal(f.roi, mask)


def test_roi_wrong_shape_rejected():
    with pytest.raises(GicFormatError, match="ROI mask"):
        c.pack(make_header(), [b"", b"", b""], roi=np.zeros((33, 17), bool))


def test_unicode_model_id_and_byte_like_inputs():
    h = make_header(model_id="modèle-ü", model_hash=bytearray(HASH), num_layers=2)
    assert h.model_hash == HASH and isinstance(h.model_hash, bytes)
    data = c.pack(h, [bytearray(b"ab"), memoryview(b"cd")])
    f = c.unpack(memoryview(data))
    assert f.header.model_id == "modèle-ü" and f.layers == [b"ab", b"cd"]


@pytest.mark.parametrize("kwargs,match", [
    ({"width": 0}, "image size"), ({"height": 65536}, "image size"),
    ({"width": 65535, "height": 65535}, "exceeds the limit"),
    ({"num_layers": 0}, "number of layers"), ({"num_layers": 256}, "number of layers"),
    ({"codec": ""}, "codec name"), ({"codec": "é"}, "codec name"), ({"codec": "x" * 65}, "codec name"),
    ({"model_id": "m" * 65}, "model id"), ({"model_hash": b"short"}, "16 bytes"),
])
def test_header_validation(kwargs, match):
    with pytest.raises(GicFormatError, match=match):
        make_header(**kwargs)


def test_pack_rejects_bad_inputs():
    with pytest.raises(GicFormatError, match="announces 3 layers, got 2"):
        c.pack(make_header(), [b"", b""])
    with pytest.raises(GicFormatError, match="JSON"):
        c.pack(make_header(), [b""] * 3, params={"x": object()})
    with pytest.raises(GicFormatError, match="JSON"):
        c.pack(make_header(), [b""] * 3, params={"x": float("nan")})
    with pytest.raises(GicFormatError, match="layer 2"):
        c.pack(make_header(), [b"", "text", b""])


# -- truncation ----------------------------------------------------------------------------------
def test_every_truncation_point_of_a_three_layer_file():
    data, layers, _ = three_layer_file()
    full = c.unpack(data)
    first_layr = data.index(b"LAYR")  # the layer section starts where this type field starts
    for n in range(len(data) + 1):
        if n < first_layr + 4:
            with pytest.raises(GicFormatError, match="truncated|not a .gic"):
                c.unpack(data[:n])
            continue
        f = c.unpack(data[:n])
        expected = sum(off <= n for off in full.layer_offsets)
        assert len(f.layers) == expected, n
        assert f.layers == layers[:expected]
        assert f.partial == (expected < 3)
        assert f.layer_offsets == full.layer_offsets[:expected]
        assert f.total_bytes <= n
        np.testing.assert_array_equal(f.roi, full.roi)
        assert f.params == full.params and f.metadata == full.metadata


def test_truncated_header_message():
    data, _, _ = three_layer_file()
    with pytest.raises(GicFormatError, match="truncated header"):
        c.unpack(data[:20])
    with pytest.raises(GicFormatError, match="truncated header"):
        c.read_header(data[:20])
    with pytest.raises(GicFormatError, match="metadata chunk \\(META\\) is cut short"):
        c.unpack(data[: data.index(b"META") + 10])


def test_missing_iend_with_all_layers_is_complete():
    data, layers, _ = three_layer_file()
    f = c.unpack(data[:-12])  # IEND is 12 bytes: type, length 0, CRC
    assert f.layers == layers and not f.partial


def test_forged_huge_chunk_length_is_truncation_not_allocation():
    data, _, _ = three_layer_file(roi=False)
    off = c.unpack(data).layer_offsets[0]  # start of layer 2
    forged = data[: off + 4] + struct.pack("<I", 0xFFFFFFFF) + data[off + 8:]
    f = c.unpack(forged)
    assert len(f.layers) == 1 and f.partial


# -- corruption and errors -----------------------------------------------------------------------
def test_corrupt_layer_is_named():
    data, _, _ = three_layer_file()
    f = c.unpack(data)
    pos = f.layer_offsets[2] - 5  # last payload byte of layer 3
    bad = data[:pos] + bytes([data[pos] ^ 0x40]) + data[pos + 1:]
    with pytest.raises(GicFormatError, match=r"^layer 3 is corrupt \(CRC mismatch\)$"):
        c.unpack(bad)


@pytest.mark.parametrize("tag,name", [(b"PARM", "parameter chunk"), (b"ROIM", "ROI mask chunk"),
                                      (b"META", "metadata chunk")])
def test_corrupt_chunk_is_named(tag, name):
    data, _, _ = three_layer_file()
    pos = data.index(tag) + 9  # a payload byte
    bad = data[:pos] + bytes([data[pos] ^ 1]) + data[pos + 1:]
    with pytest.raises(GicFormatError, match=f"{name}.*corrupt"):
        c.unpack(bad)


def test_corrupt_header_crc():
    data, _, _ = three_layer_file()
    bad = data[:20] + bytes([data[20] ^ 1]) + data[21:]  # inside the codec name
    with pytest.raises(GicFormatError, match="header is corrupt"):
        c.read_header(bad)


def test_newer_version_is_refused_clearly():
    data = header_bytes(version=7) + b"whatever layout version 7 has"
    with pytest.raises(GicFormatError, match=r"^file format version 7 is newer than this gic \(1\); upgrade gic$"):
        c.unpack(data)
    with pytest.raises(GicFormatError, match="version 7 is newer"):
        c.read_header(data[:12])  # recognised from the magic and version alone


def test_not_a_gic_file():
    assert not c.is_gic(b"\x89PNG\r\n\x1a\n....")
    assert not c.is_gic(b"")
    assert not c.is_gic(None)  # never raises
    for data in (b"", b"\x89PNG\r\n\x1a\nrest of a png"):
        with pytest.raises(GicFormatError, match="not a .gic"):
            c.unpack(data)
    with pytest.raises(GicFormatError):
        c.unpack("a string")


def test_chunk_rules():
    head = header_bytes()
    parm, layr, iend = chunk(b"PARM", b"{}"), chunk(b"LAYR", b"L"), chunk(b"IEND", b"")
    assert c.unpack(head + parm + layr + iend).layers == [b"L"]
    # Ancillary (lowercase) chunks are skipped wherever they are; unknown critical ones are errors.
    anc = chunk(b"tEXt", b"note")
    assert c.unpack(head + anc + parm + anc + layr + anc + iend).layers == [b"L"]
    cases = {
        head + parm + chunk(b"ZZZZ", b"") + layr + iend: "unknown critical chunk 'ZZZZ'",
        head + layr + iend: "before the parameter chunk",
        head + iend: "no parameter chunk",
        head + parm + parm + layr + iend: "two parameter chunks",
        head + parm + layr + chunk(b"META", b"{}") + iend: "after the layers",
        head + parm + layr + layr + iend: "more layers than the 1",
        head + chunk(b"PARM", b"[1]") + layr + iend: "not a JSON object",
        head + chunk(b"PARM", b"{") + layr + iend: "not valid JSON",
        head + chunk(b"PARM", b"[" * 100000) + layr + iend: "not valid JSON",
        head + parm + chunk(b"ROIM", b"junk") + layr + iend: "cannot be decompressed",
        head + parm + chunk(b"ROIM", zlib.compress(b"\0" * 3)) + layr + iend: "does not hold a 4x3",
        head + parm + layr + chunk(b"IEND", b"x"): "not empty",
        head + parm + chunk(b"LA1R", b"") + iend: "corrupt chunk type",
        header_bytes(num_layers=2) + parm + layr + iend: "after 1 of the 2 layers",
    }
    for data, match in cases.items():
        with pytest.raises(GicFormatError, match=match):
            c.unpack(data)


def test_roi_zip_bomb_is_bounded():
    bomb = zlib.compress(b"\0" * (64 * 1024 * 1024), 9)  # 64 MiB of zeros in ~64 KiB
    data = header_bytes(width=8, height=8) + chunk(b"PARM", b"{}") + chunk(b"ROIM", bomb) \
        + chunk(b"LAYR", b"") + chunk(b"IEND", b"")
    with pytest.raises(GicFormatError, match="does not hold"):
        c.unpack(data)


def test_forged_header_limits():
    for w, h in ((70000, 1), (65535, 65535), (0, 5)):
        with pytest.raises(GicFormatError, match="image size"):
            c.read_header(header_bytes(width=w, height=h))
    with pytest.raises(GicFormatError, match="number of layers"):
        c.read_header(header_bytes(num_layers=0))
    with pytest.raises(GicFormatError, match="unsupported file format version 0"):
        c.read_header(header_bytes(version=0))


# -- model identity ------------------------------------------------------------------------------
def test_check_model():
    h = make_header()
    c.check_model(h, "progic-small-v1", HASH)  # same model: fine
    with pytest.raises(ModelMismatchError, match="'progic-small-v1'.*'progic-large-v2'"):
        c.check_model(h, "progic-large-v2", HASH)
    with pytest.raises(ModelMismatchError, match="weights"):
        c.check_model(h, "progic-small-v1", b"\xff" * 16)
    assert issubclass(ModelMismatchError, GicFormatError)
    # a decoder upgrade that declares it reads this model's files
    c.check_model(h, "progic-small-v2", b"\xee" * 16, also=[("progic-small-v1", HASH)])
    with pytest.raises(ModelMismatchError):
        c.check_model(h, "progic-small-v2", b"\xee" * 16, also=[("progic-small-v1", b"\xff" * 16)])


def test_hash_weights():
    import hashlib
    assert c.hash_weights(b"w") == hashlib.sha256(b"w").digest()[:16]


# -- the reader never lets anything but GicFormatError escape ------------------------------------
def _unpack_or_format_error(data: bytes) -> None:
    try:
        f = c.unpack(data)
    except GicFormatError:
        pass
    else:
        assert len(f.layers) <= f.header.num_layers
        assert f.total_bytes <= len(data)
    try:
        c.read_header(data)
    except GicFormatError:
        pass


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_random_bytes(data):
    _unpack_or_format_error(data)
    _unpack_or_format_error(c.MAGIC + data)
    _unpack_or_format_error(header_bytes() + data)


@FUZZ
@given(st.data())
def test_fuzz_truncations(draw):
    data, _, _ = three_layer_file(roi=draw.draw(st.booleans()))
    n = draw.draw(st.integers(0, len(data)))
    _unpack_or_format_error(data[:n])


_MUTATION = st.tuples(st.sampled_from(["flip", "set", "insert", "delete"]), st.integers(0, 10 ** 6),
                      st.integers(0, 255))


@FUZZ
@given(st.booleans(), st.lists(_MUTATION, min_size=1, max_size=6))
def test_fuzz_mutations(with_roi, mutations):
    data = bytearray(three_layer_file(roi=with_roi)[0])
    for kind, pos, value in mutations:
        pos %= len(data) + 1
        if kind == "insert":
            data[pos:pos] = bytes([value])
        elif pos < len(data):
            if kind == "flip":
                data[pos] ^= 1 << (value % 8)
            elif kind == "set":
                data[pos] = value
            else:
                del data[pos]
    _unpack_or_format_error(bytes(data))


_JSONISH = st.one_of(st.binary(max_size=30),
                     st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                                  lambda kids: st.lists(kids, max_size=3)
                                  | st.dictionaries(st.text(max_size=3), kids, max_size=3),
                                  max_leaves=8).map(lambda v: json.dumps(v).encode()))
_CHUNK = st.tuples(st.sampled_from([b"PARM", b"ROIM", b"META", b"LAYR", b"IEND", b"abcd", b"ABCD",
                                    b"\0\0\0\0"]), _JSONISH)


_HEADER = st.one_of(
    st.builds(header_bytes, st.just(1), st.integers(1, 9), st.integers(1, 9), st.integers(1, 3)),
    st.builds(header_bytes, st.integers(0, 3), st.integers(0, 70000), st.integers(0, 70000),
              st.integers(0, 255), st.binary(max_size=70), st.binary(max_size=70)))
_ROI_PAYLOAD = st.one_of(st.binary(max_size=20).map(zlib.compress), st.binary(max_size=20))


@FUZZ
@given(_HEADER, st.one_of(_JSONISH, st.none()), st.one_of(_ROI_PAYLOAD, st.none()),
       st.lists(_CHUNK, max_size=6), st.integers(0, 400))
def test_fuzz_well_formed_chunks_with_random_content(head, parm, roim, chunks, cut):
    """Valid CRCs everywhere, so the fuzzing reaches the chunk contents and the ordering rules."""
    data = head
    if parm is not None:
        data += chunk(b"PARM", parm)
    if roim is not None:
        data += chunk(b"ROIM", roim)
    data += b"".join(chunk(t, p) for t, p in chunks)
    _unpack_or_format_error(data)
    _unpack_or_format_error(data[: len(data) - cut])


# -- old files keep opening ----------------------------------------------------------------------
def test_legacy_v1_file_still_opens():
    """tests/data/legacy/v1_sample.gic was written by make_legacy.py with format version 1."""
    import sys
    sys.path.insert(0, str(LEGACY))
    try:
        import make_legacy
    finally:
        sys.path.remove(str(LEGACY))
    data = (LEGACY / "v1_sample.gic").read_bytes()
    s = make_legacy.sample()
    f = c.unpack(data)
    assert f.header == c.Header(width=s["width"], height=s["height"], codec=s["codec"],
                                model_id=s["model_id"], model_hash=s["model_hash"],
                                num_layers=s["num_layers"], version=1)
    assert f.layers == s["layers"] and not f.partial
    assert f.params == s["params"] and f.metadata == s["metadata"]
    np.testing.assert_array_equal(f.roi, s["roi"])
    assert f.total_bytes == len(data)
    if c.FORMAT_VERSION == 1:  # the writer has not drifted either: same inputs, same bytes
        assert c.pack(f.header, s["layers"], params=s["params"], roi=s["roi"],
                      metadata=s["metadata"]) == data


# -- strict JSON (issue 24, defect 1) --------------------------------------------------------------
def _with_raw_parm(text: bytes) -> bytes:
    return header_bytes() + chunk(c.PARM, text) + chunk(c.LAYR, b"x") + chunk(c.IEND, b"")


@pytest.mark.parametrize("text", [b'{"depth": NaN}', b'{"depth": Infinity}', b'{"depth": -Infinity}',
                                  b'{"depth": 1e400}', b'{"a": [1, -1e999]}'])
def test_json_chunks_are_read_strictly(text):
    """The writer never writes NaN/Infinity (allow_nan=False), so the reader refuses them."""
    with pytest.raises(GicFormatError, match="parameter chunk .PARM. is not valid JSON"):
        c.unpack(_with_raw_parm(text))


def test_strict_json_still_reads_ordinary_numbers():
    f = c.unpack(_with_raw_parm(b'{"depth": 3, "x": -1.5e300, "big": 123456789012345678901234567890}'))
    assert f.params == {"depth": 3, "x": -1.5e300, "big": 123456789012345678901234567890}
