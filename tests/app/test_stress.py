"""The viewer under a hurried user (issue 24): rapid open/cancel and opening a file while the RD plot
computes. No job crash, and (the autouse leak guard in conftest) no job thread, thread-pool job or
timer left when each test ends. Closing the window during an encode is
tests/app/test_quit.py::test_quit_during_an_encode_asks_cancels_and_joins (and, in a real event loop,
test_gic_view_quit_during_work_exits_cleanly)."""
from __future__ import annotations

import pytest
from app_doubles import TEST_CODEC
from PIL import Image

from gic.app import workers


@pytest.fixture(autouse=True)
def no_job_crashed(caplog):
    """A job that fails with something other than the project's errors logs its traceback."""
    yield
    crashed = [r.getMessage() for r in caplog.records if r.name == "gic.app.workers" and r.levelname == "ERROR"]
    assert not crashed, crashed


def idle(window) -> bool:
    return not window.is_busy()


def test_fifty_rapid_open_cancel_cycles(qtbot, window, gic_file, image_png, image, tmp_path):
    other = tmp_path / "other.png"
    Image.fromarray(image[::-1].copy()).save(other)
    files = [gic_file, image_png, other]
    peak = 0
    for i in range(50):
        window.open_path(files[i % 3])
        if i % 5 == 4:
            qtbot.wait(5)  # now and then let a layer or a load land before the cancel
        window.cancel_jobs()
        peak = max(peak, workers.live_job_threads())
    qtbot.waitUntil(lambda: idle(window), timeout=30000)
    assert peak <= 12, f"{peak} job threads alive at once: cancelled jobs pile up"
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        window.open_path(gic_file)
    qtbot.waitUntil(lambda: idle(window), timeout=20000)
    assert window.doc.name == gic_file.name
    assert [p.layer for p in window.previews] == [1, 2, 3, 4]
    assert workers.live_job_threads() == 0


def test_opening_a_file_while_the_rd_plot_computes(qtbot, window, image_png, gic_file):
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        window.open_path(image_png)
    rd = window.rd_plot
    window.tabs.setCurrentWidget(rd)
    rd.set_checked_codecs(["jpeg", "webp", TEST_CODEC])
    rd.points_spin.setValue(12)
    rd.compute_button.click()
    assert rd.is_busy()
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        window.open_path(gic_file)  # a .gic has no original: the running plot is cancelled
    qtbot.waitUntil(lambda: not rd.is_busy(), timeout=30000)
    assert rd.original is None and rd.points == []
    assert window.doc.name == gic_file.name
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        window.open_path(image_png)  # and the plot works again on the next image
    rd.set_checked_codecs(["jpeg"])
    rd.points_spin.setValue(3)
    rd.max_bpp_spin.setValue(24)  # every quality of the ladder counts
    with qtbot.waitSignal(rd.computed, timeout=60000):
        rd.compute_button.click()
    assert len(rd.points) == 3
    qtbot.waitUntil(lambda: idle(window), timeout=20000)
