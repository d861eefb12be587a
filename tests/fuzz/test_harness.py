"""The fuzzing harness (fuzz/): a short seeded run of both targets in the suite, and checks that
the harness itself would notice a finding (issue 24)."""
from __future__ import annotations

import sys
import zlib
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"
sys.path.insert(0, str(FUZZ))

import engine  # noqa: E402
import targets  # noqa: E402

from gic.codecs import container, limits, registry  # noqa: E402


@pytest.fixture(autouse=True)
def _fuzz_pixel_limit():
    from PIL import Image

    pillow = Image.MAX_IMAGE_PIXELS  # gic.codecs.imageio syncs Pillow's guard to our limit: restore it
    limits.set_max_pixels(2 ** 18)  # the run's default (fuzz/run.py --max-pixels)
    yield
    limits.set_max_pixels(None)
    Image.MAX_IMAGE_PIXELS = pillow


def shipped_specs() -> list:
    """The codecs gic ships (other tests register test doubles of their own while they run)."""
    from gic.codecs.builtin import FAMILIES
    return [s for s in registry.specs() if s.family in FAMILIES]


def corpus() -> list[bytes]:
    return [p.read_bytes() for p in sorted((FUZZ / "corpus").iterdir())]


def short_run(target: str, runs: int, tmp_path: Path) -> engine.Stats:
    stats = engine.Stats(target, "random", 7, 30.0, 2 ** 18, tmp_path / "findings")
    engine.run_random(targets.TARGETS[target], stats, corpus(), engine.load_dictionary(FUZZ / "gic.dict"),
                      seed=7, runs=runs, seconds=None, results=tmp_path / f"{target}.json")
    return stats


@pytest.mark.parametrize("target, runs", [("reader", 3000), ("decoder", 150)])
@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow on damaged TIFF tags
def test_a_short_seeded_run_lets_out_only_the_projects_errors(target, runs, tmp_path):
    stats = short_run(target, runs, tmp_path)
    result = stats.as_json()
    assert result["execs"] == runs
    assert result["other_exceptions"] == {}, result["first_tracebacks"]
    assert result["hangs"] == 0
    assert sum(result["project_errors"].values()) > runs // 10  # the mutants did reach the checks
    assert result["passed"] > 0  # and the seeds themselves decode
    if target == "decoder":  # every registered codec decoded at least its own seed files
        assert set(result["decoded_by"]) >= {s.name for s in shipped_specs()}, result["decoded_by"]
    assert (tmp_path / f"{target}.json").exists()


def test_every_registered_codec_has_seed_files():
    names = {p.name for p in (FUZZ / "corpus").iterdir()}
    for spec in shipped_specs():
        assert any(n.startswith(f"{spec.name}-") for n in names), spec.name
    assert sum(len(d) for d in corpus()) < 200_000


def test_the_dictionary_holds_the_magic_and_chunk_tags():
    tokens = engine.load_dictionary(FUZZ / "gic.dict")
    for token in (container.MAGIC, container.PARM, container.LAYR, container.IEND, b"DS"):
        assert token in tokens


def test_a_finding_is_counted_and_saved(tmp_path):
    def buggy(data: bytes) -> None:
        if len(data) % 2:
            raise ValueError("not the project's error")

    stats = engine.Stats("buggy", "random", 1, 30.0, 0, tmp_path)
    for data in (b"a", b"ab", b"abc"):
        engine.execute(buggy, data, stats)
    assert stats.other_exceptions == {"ValueError": 2} and stats.passed == 1
    assert len(list(tmp_path.glob("buggy-crash-ValueError-*"))) == 2


def test_reseal_reaches_past_the_crc():
    data = (FUZZ / "corpus" / "progic-q6").read_bytes()
    f = container.unpack(data)
    i = f.layer_offsets[0] - 10  # a byte inside the first layer's payload
    damaged = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
    with pytest.raises(container.GicFormatError, match="CRC"):
        container.unpack(damaged)
    resealed = targets.reseal(damaged)
    assert container.unpack(resealed).layers[0] != f.layers[0]
    assert targets.reseal(b"not gic") == b"not gic"
    assert zlib.crc32(resealed) != zlib.crc32(damaged)


def test_array_comparisons_bypass_atheris_hook_and_keep_their_results():
    """atheris' native comparison hook keeps non-bool results alive (an array comparison leaks
    its whole result): arrays must be compared plainly, everything else still reaches the hook."""
    import dis
    import types

    import numpy as np

    try:  # the opcode argument's layout of this Python, as atheris passes it
        from atheris.version_dependent import CMP_OP_SHIFT_AMOUNT as shift
    except ImportError:
        shift = 0
    seen = []

    def native(a, b, op, counter, is_const):
        seen.append((type(a).__name__, type(b).__name__))
        return {"<": a < b, "<=": a <= b, "==": a == b, "!=": a != b, ">": a > b, ">=": a >= b}[dis.cmp_op[op >> shift]]

    fake = types.SimpleNamespace(_trace_cmp=native)
    engine.plain_array_comparisons(fake)
    engine.plain_array_comparisons(fake)  # idempotent: not wrapped twice
    arr = np.array([0, 1, 2])
    for i, name in enumerate(dis.cmp_op):
        op = i << shift
        want = {"<": arr < 1, "<=": arr <= 1, "==": arr == 1, "!=": arr != 1, ">": arr > 1, ">=": arr >= 1}[name]
        assert np.array_equal(fake._trace_cmp(arr, 1, op, 0, False), want)
        assert fake._trace_cmp(3, 1, op, 0, False) == {"<": False, "<=": False, "==": False, "!=": True,
                                                       ">": True, ">=": True}[name]
    assert seen == [("int", "int")] * len(dis.cmp_op)  # only the int comparisons reached the hook
