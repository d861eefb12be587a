"""The comparison's state without the Compare tab: sides, staleness, size matching, RD points."""
from types import SimpleNamespace

import numpy as np

from gic.app.model import Comparison


def result(codec: str, bpp: float, value: int = 1, **metrics) -> SimpleNamespace:
    """A stand-in for jobs.SideResult with the fields the model reads."""
    encode = SimpleNamespace(request=SimpleNamespace(codec=codec), bpp=bpp)
    return SimpleNamespace(encode=encode, image=np.full((2, 2, 3), value, np.uint8), metrics=metrics)


def test_a_new_original_forgets_both_sides_and_the_same_one_changes_nothing():
    c = Comparison()
    assert c.shown() is None and not c.needs_encode(0)
    o = np.zeros((2, 2, 3), np.uint8)
    assert c.set_original(o, "o.png") and c.needs_encode(0) and c.needs_encode(1)
    c.set_result(0, result("jpeg", 0.5))
    assert not c.set_original(o, "o.png") and c.results[0] is not None  # same array: kept
    assert c.set_original(o.copy(), "o.png") and c.results == [None, None] and c.stale == [False, False]


def test_a_side_shows_the_original_until_it_has_a_result():
    c = Comparison()
    o = np.zeros((2, 2, 3), np.uint8)
    c.set_original(o, "o.png")
    a, b = c.shown()
    assert a is o and b is o
    c.set_result(1, result("webp", 0.3, value=9))
    a, b = c.shown()
    assert a is o and int(b[0, 0, 0]) == 9 and c.images()[0] is None


def test_stale_sides_are_labelled_and_left_out_of_the_rd_points():
    c = Comparison()
    c.set_original(np.zeros((2, 2, 3), np.uint8), "o.png")
    assert not c.mark_stale(0)  # nothing to mark yet
    c.set_result(0, result("progic", 0.25, lpips=0.1, psnr=30.0))
    c.set_result(1, result("jpeg", 0.5, psnr=28.0))
    assert c.points() == [("A: progic", 0.25, 0.1, 30.0), ("B: jpeg", 0.5, None, 28.0)]
    assert c.mark_stale(1) and c.points() == [("A: progic", 0.25, 0.1, 30.0)]
    assert c.labels() == ("A: progic · 0.250 bpp", "B: jpeg · 0.500 bpp · STALE")
    c.set_result(1, result("jpeg", 0.4))
    assert c.stale == [False, False] and c.labels()[1] == "B: jpeg · 0.400 bpp"


def test_a_failure_leaves_no_old_picture():
    c = Comparison()
    c.set_original(np.zeros((2, 2, 3), np.uint8), "o.png")
    c.set_result(0, result("jpeg", 0.5))
    c.mark_stale(0)
    c.fail(0)
    assert c.results[0] is None and c.stale[0] is False and c.labels() == ("", "")


def test_matching_the_other_side_waits_for_its_result():
    c = Comparison()
    c.set_original(np.zeros((2, 2, 3), np.uint8), "o.png")
    assert c.match_target(0) is None and c.pending_match == 0  # B has nothing yet: A waits
    assert c.set_result(0, result("jpeg", 0.9)) is None  # A's own result does not release it
    assert c.set_result(1, result("webp", 0.12345)) == 0 and c.pending_match is None
    assert c.match_target(0) == 0.123
