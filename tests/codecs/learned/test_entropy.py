"""The shared categorical coder: one table, a table per symbol, scale tables for Gaussian/Laplace."""
import numpy as np
import pytest

from gic.codecs.errors import GicFormatError
from gic.codecs.learned.entropy import (TABLE_TOTAL, TableDecoder, TableEncoder, decode_symbols,
                                       encode_symbols, frequency_table, ideal_bits, scale_index,
                                       scale_tables)


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


def test_per_symbol_tables_round_trip_in_chunks_and_catch_a_wrong_table():
    rng = np.random.default_rng(2)
    k = 32
    chunks = []
    for n in (50, 0, 17, 200):
        freq = np.array([frequency_table(rng.dirichlet(np.full(k, 0.3))) for _ in range(n)], np.int64).reshape(n, k)
        symbols = np.array([rng.choice(k, p=f / f.sum()) for f in freq], dtype=np.int64)
        chunks.append((symbols, freq))
    enc = TableEncoder()
    for symbols, freq in chunks:
        enc.encode(symbols, freq)
    payload = enc.finish()
    dec = TableDecoder(payload)
    for symbols, freq in chunks:
        assert np.array_equal(dec.decode(freq), symbols)
    dec.finish()
    bad = TableDecoder(payload, what="layer 3")  # the decoder's tables differ from the encoder's
    for symbols, freq in chunks:
        bad.decode(np.roll(freq, 1, axis=1) if len(freq) else freq)
    with pytest.raises(GicFormatError, match="layer 3"):
        bad.finish()


@pytest.mark.parametrize("kind", ["gaussian", "laplace"])
def test_scale_tables_code_integer_latents_near_their_entropy(kind):
    rng = np.random.default_rng(4)
    table_scales = np.exp(np.linspace(np.log(0.2), np.log(20), 24))
    tables = scale_tables(table_scales, support=40, kind=kind)
    assert tables.shape == (24, 81) and (tables.sum(1) == TABLE_TOTAL).all()
    scales = rng.uniform(0.3, 10, 3000)
    draw = rng.normal if kind == "gaussian" else rng.laplace
    y = np.clip(np.round(draw(0, scales if kind == "gaussian" else scales / np.sqrt(2))), -40, 40).astype(int)
    freq = tables[scale_index(scales, table_scales)]
    enc = TableEncoder()
    enc.encode(y + 40, freq)
    payload = enc.finish()
    dec = TableDecoder(payload)
    assert np.array_equal(dec.decode(freq) - 40, y)
    dec.finish()
    ideal = float(-np.log2(np.take_along_axis(freq, (y + 40)[:, None], 1)[:, 0] / TABLE_TOTAL).sum())
    assert (len(payload) - 4) * 8 < 1.02 * ideal + 64


@pytest.mark.parametrize("checksum", [False, True])
def test_byte_aligned_payloads_round_trip_and_end_near_the_cross_entropy(checksum):
    rng = np.random.default_rng(3)
    over_words = over_bytes = 0.0
    for trial in range(12):
        n = int(rng.integers(20, 300))
        freq = np.stack([frequency_table(rng.dirichlet(np.full(64, 0.2))) for _ in range(n)])
        sym = np.array([rng.choice(64, p=f / f.sum()) for f in freq])
        half = n // 2
        ideal = sum(ideal_bits(sym[i:i + 1], freq[i]) for i in range(n)) + 32 * checksum
        payloads = {}
        for aligned in (False, True):
            enc = TableEncoder(checksum=checksum, byte_aligned=aligned)
            enc.encode(sym[:half], freq[:half])
            enc.encode(sym[half:], freq[half:])
            payloads[aligned] = data = enc.finish()
            dec = TableDecoder(data, checksum=checksum, byte_aligned=aligned)
            got = np.concatenate([dec.decode(freq[:half]), dec.decode(freq[half:])])
            dec.finish()
            assert np.array_equal(got, sym)
        assert len(payloads[True]) <= len(payloads[False])
        over_words += 8 * len(payloads[False]) - ideal
        over_bytes += 8 * len(payloads[True]) - ideal
    assert over_bytes < 0.5 * over_words  # the flush costs a few bits, not ~18


def test_byte_aligned_empty_payload_round_trips():
    enc = TableEncoder(checksum=False, byte_aligned=True)
    assert enc.finish() == b""
    TableDecoder(b"", checksum=False, byte_aligned=True).finish()


def test_table_groups_are_ascending_tables_then_positions():
    from gic.codecs.learned.entropy import table_groups

    idx = np.array([3, 1, 3, 0, 1, 3])
    got = [(k, list(p)) for k, p in table_groups(idx)]
    assert got == [(0, [3]), (1, [1, 4]), (3, [0, 2, 5])]
    assert table_groups(np.zeros(0, np.int64)) == []
