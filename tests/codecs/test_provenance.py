"""Provenance metadata stamped into .gic files; other formats pass through untouched."""
from __future__ import annotations

import numpy as np

from gic.codecs import container, provenance


def _gic(metadata: dict | None = None) -> bytes:
    header = container.Header(width=8, height=4, codec="x", model_id="m", model_hash=bytes(16), num_layers=2)
    roi = np.zeros((4, 8), bool)
    roi[1:3, 2:6] = True
    return container.pack(header, [b"one", b"two"], params={"depth": 2}, roi=roi, metadata=metadata)


def test_stamp_adds_metadata_and_keeps_everything_else():
    data = _gic()
    meta = provenance.encode_metadata(source="/some/folder/photo.png", target_bpp=0.05)
    assert meta["source"] == "photo.png" and meta["target_bpp"] == 0.05 and meta["encoder"].startswith("gic")
    before, after = container.unpack(data), container.unpack(provenance.stamp(data, meta))
    assert after.metadata == meta
    assert after.layers == before.layers and after.params == before.params and after.header == before.header
    assert np.array_equal(after.roi, before.roi)


def test_stamp_merges_with_existing_metadata():
    out = container.unpack(provenance.stamp(_gic({"note": "kept", "source": "old.png"}), {"source": "new.png"}))
    assert out.metadata == {"note": "kept", "source": "new.png"}


def test_stamp_leaves_other_formats_and_cut_files_alone():
    jpeg = b"\xff\xd8\xff\xe0 not a gic file"
    assert provenance.stamp(jpeg, {"source": "a.png"}) == jpeg
    data = _gic()
    cut = data[: container.unpack(data).layer_offsets[0] + 2]
    assert provenance.stamp(cut, {"source": "a.png"}) == cut


def test_unset_settings_are_left_out():
    assert set(provenance.encode_metadata()) == {"encoder"}
