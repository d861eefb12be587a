"""research/uigc/group_order.py: the ablation's schedules, the schedule patch, and an end-to-end run."""
import json

import numpy as np
import pytest

from gic.codecs.uigc import schedule
from gic.codecs.uigc import train as uigc_train
from gic.codecs.uigc.tokens import TokenGrids


@pytest.fixture(scope="module")
def go(load_script):
    return load_script("research/uigc/group_order.py")


def test_each_variant_codes_every_token_once_in_its_groups(go):
    for name, (_, fn, n) in go.VARIANTS.items():
        m = fn(12, 10)
        assert m.shape == (12, 10) and set(np.unique(m)) == set(range(n)), name
    b = go.parity4_map(4, 4)
    assert [b[0, 0], b[1, 1], b[0, 1], b[1, 0]] == [0, 1, 2, 3]
    assert np.bincount(b.ravel()).tolist() == [4, 4, 4, 4]
    c = go.checker2_map(3, 3)
    assert c.tolist() == [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    assert (go.VARIANTS["A"][1](16, 16) == schedule.step_map(16, 16)).all()


def test_use_schedule_patches_the_trainer_and_restores_it(go):
    with go.use_schedule("C"):
        assert uigc_train.NUM_STEPS == 2
        assert (uigc_train.step_map(8, 8) == go.checker2_map(8, 8)).all()
    assert uigc_train.NUM_STEPS == schedule.NUM_STEPS and uigc_train.step_map is schedule.step_map
    with pytest.raises(RuntimeError):
        with go.use_schedule("B"):
            raise RuntimeError
    assert uigc_train.NUM_STEPS == schedule.NUM_STEPS


def test_trains_evaluates_and_times_variants(go, tmp_path):
    rng = np.random.default_rng(0)
    grids = [rng.integers(0, 256, (16, 20)) for _ in range(3)]
    TokenGrids(np.concatenate([g.ravel() for g in grids]).astype(np.uint8),
               np.array([g.shape for g in grids])).save(tmp_path / "t.npz")
    out = tmp_path / "r.json"
    args = ["--data", str(tmp_path / "t.npz"), "--eval", str(tmp_path / "t.npz"), "--runs",
            str(tmp_path / "runs"), "--out", str(out), "--steps", "2", "--batch", "2", "--eval-images", "2",
            "--time-runs", "1", "--log-every", "1", "--model", "tiny"]
    assert go.main(args + ["--variants", "C,B"]) == 0
    rows = {r["variant"]: r for r in json.loads(out.read_text())["rows"]}
    assert set(rows) == {"B", "C"}
    assert rows["C"]["passes"] == 2 and len(rows["C"]["per_step"]) == 2
    assert rows["B"]["passes"] == 4 and len(rows["B"]["per_step"]) == 4
    for r in rows.values():
        assert r["train_steps"] == 2 and r["eval_grids"] == 2
        assert 0 < r["bits_per_token"] < 16 and r["decode_prior_s"] > 0
    # a later call adds a variant and keeps the others
    assert go.main(args + ["--variants", "A"]) == 0
    assert [r["variant"] for r in json.loads(out.read_text())["rows"]] == ["A", "B", "C"]
    # another seed adds rows beside the first seed's, and the summary averages them
    assert go.main(args + ["--variants", "C", "--seed", "1"]) == 0
    res = json.loads(out.read_text())
    assert [(r["variant"], r["seed"]) for r in res["rows"]] == [("A", 0), ("B", 0), ("C", 0), ("C", 1)]
    c_bits = [r["bits_per_token"] for r in res["rows"] if r["variant"] == "C"]
    assert res["summary"]["C"]["seeds"] == [0, 1]
    assert res["summary"]["C"]["bits_per_token_mean"] == pytest.approx(np.mean(c_bits), abs=1e-4)
    assert len(res["commands"]) == 3
    # --retime times every row again from its checkpoint, training nothing
    assert go.main(args + ["--retime", "--steps", "99"]) == 0
    again = json.loads(out.read_text())
    assert [r["train_steps"] for r in again["rows"]] == [2, 2, 2, 2] and again["budget"] == res["budget"]
    assert all(r["timed_together"] and r["decode_prior_s"] > 0 for r in again["rows"])
    assert [r["passes"] for r in again["rows"]] == [7, 4, 2, 2]


def test_unigram_entropy_is_the_histograms_entropy(go):
    two = TokenGrids(np.array([0, 1, 0, 1], dtype=np.uint8), np.array([[2, 2]]))
    assert go.unigram_entropy(two) == pytest.approx(1.0)
    skew = TokenGrids(np.array([5, 5, 5, 9], dtype=np.uint8), np.array([[1, 4]]))
    assert go.unigram_entropy(skew) == pytest.approx(-(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25)))


def test_an_unknown_variant_is_refused(go, tmp_path):
    with pytest.raises(SystemExit):
        go.main(["--data", "x", "--eval", "x", "--runs", str(tmp_path), "--out", str(tmp_path / "r.json"),
                 "--variants", "Z"])
