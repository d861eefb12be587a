"""The shared weight-file format: family-neutral files, the older ProGIC format, bad files."""
import pytest
import torch

from gic.codecs.errors import CodecError
from gic.codecs.learned.weights import FORMAT, read_weights, write_weights
from gic.resources import path


def test_a_written_file_reads_back_with_its_family_identity_and_fp16_rounding(tmp_path):
    state = {"w": torch.tensor([1.0, 1 / 3]), "n": torch.tensor([3], dtype=torch.long)}
    info = write_weights(tmp_path / "m.pt", "tokens", "tok-test", {"codes": 8}, state, {"step": 5},
                         prior=torch.arange(4))
    wf = read_weights(tmp_path / "m.pt", "tokens")
    assert (wf.family, wf.model_id, wf.config, wf.info["step"]) == ("tokens", "tok-test", {"codes": 8}, 5)
    assert wf.model_hash.hex() == info["hash"] and len(wf.model_hash) == 16
    assert wf.state_dict["w"].dtype == torch.float32 and float(wf.state_dict["w"][1]) == float(torch.tensor(1 / 3).half())
    assert torch.equal(wf.tensors["prior"], torch.arange(4)) and torch.load(tmp_path / "m.pt")["format"] == FORMAT
    with pytest.raises(CodecError, match="'tokens' weights, not 'progic'"):
        read_weights(tmp_path / "m.pt", "progic")


def test_the_shipped_progic_file_in_the_older_format_still_reads():
    weights = path("models", "progic-small.pt")
    if not weights.is_file():
        pytest.skip("no bundled ProGIC model")
    wf = read_weights(weights, "progic")
    assert wf.model_id.startswith("progic-small") and "tables" in wf.tensors
    assert wf.model_hash.hex() == "f5766056f44342165d73d6acc4e19882"


def test_a_file_that_is_not_a_weight_file_is_one_clear_error(tmp_path):
    (tmp_path / "x.pt").write_bytes(b"not torch")
    with pytest.raises(CodecError, match="not a gic model weight file"):
        read_weights(tmp_path / "x.pt")
    torch.save({"format": "something/1"}, tmp_path / "y.pt")
    with pytest.raises(CodecError, match="not a gic model weight file"):
        read_weights(tmp_path / "y.pt")
    with pytest.raises(CodecError, match="cannot read"):
        read_weights(tmp_path / "missing.pt")
