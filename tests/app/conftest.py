"""Qt fixtures for the viewer tests: offscreen Qt, private settings, a progressive test codec, and a
guard that fails any test leaving a job thread, thread-pool job or QTimer running (as napari does)."""
from __future__ import annotations

import os
import tempfile
import weakref

# Before Qt is imported anywhere: no display needed, and never touch the user's settings.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("GIC_SETTINGS_DIR", tempfile.mkdtemp(prefix="gic-test-settings-"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from app_doubles import TEST_CODEC, JpegLadderCodec, make_image  # noqa: E402
from PIL import Image  # noqa: E402

from gic.codecs import registry  # noqa: E402

@pytest.fixture(scope="session", autouse=True)
def test_codec():
    """Register the test double for the app tests only."""
    registry.register(registry.CodecSpec.of(JpegLadderCodec, "test"))
    yield JpegLadderCodec
    registry.unregister(TEST_CODEC)


@pytest.fixture
def image() -> np.ndarray:
    return make_image()


@pytest.fixture
def image_png(tmp_path, image):
    p = tmp_path / "orig.png"
    Image.fromarray(image).save(p)
    return p


@pytest.fixture
def gic_file(tmp_path, image):
    """A 4-layer .gic written by the test codec."""
    p = tmp_path / "sample.gic"
    p.write_bytes(JpegLadderCodec().encode(image, 4))
    return p


# -- the leak guard ----------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def no_leftover_work(monkeypatch):
    """Fail a test that leaves a job thread, a QThreadPool job or an active QTimer behind."""
    from PySide6.QtCore import QThreadPool, QTimer

    from gic.app import workers

    timers: "weakref.WeakSet[QTimer]" = weakref.WeakSet()
    original_start = QTimer.start

    def tracking_start(self, *args):
        timers.add(self)
        return original_start(self, *args)

    monkeypatch.setattr(QTimer, "start", tracking_start)
    JpegLadderCodec.hold = None
    yield
    problems = []
    leftover_threads = workers.live_job_threads()
    if leftover_threads:
        problems.append(f"{leftover_threads} job thread(s) still running")
        workers.cancel_and_join_all()  # so one leaking test does not fail the next ones too
    pool_jobs = QThreadPool.globalInstance().activeThreadCount()
    if pool_jobs:
        problems.append(f"{pool_jobs} QThreadPool job(s) still running")
        QThreadPool.globalInstance().waitForDone(5000)
    active_timers = [t for t in list(timers) if _alive(t) and t.isActive()]
    if active_timers:
        problems.append(f"{len(active_timers)} QTimer(s) still active")
        for t in active_timers:
            t.stop()
    assert not problems, "test left work behind: " + "; ".join(problems)


def _alive(obj) -> bool:
    try:
        from shiboken6 import isValid
    except ImportError:  # pragma: no cover
        return True
    return isValid(obj)


@pytest.fixture(autouse=True)
def message_boxes(monkeypatch):
    """A modal QMessageBox would wait forever offscreen: every one is answered `answer` (default
    Discard, i.e. "quit without saving") and its text recorded. Tests set `.answer` to choose."""
    from PySide6.QtWidgets import QMessageBox

    class Answers:
        answer = QMessageBox.StandardButton.Discard
        asked: list[str] = []

    answers = Answers()
    answers.asked = []

    def exec_(box):
        answers.asked.append(box.text())
        return answers.answer

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return answers


@pytest.fixture
def window(qtbot, request):
    """The real main window, limited to the test codec and two cheap classical codecs."""
    from gic.app.main_window import MainWindow

    codecs = getattr(request, "param", None) or [TEST_CODEC, "jpeg", "webp"]
    w = MainWindow(codec_filter=codecs)
    qtbot.addWidget(w)
    w.resize(1100, 700)
    w.show()
    qtbot.waitUntil(lambda: bool(w.codec_infos), timeout=20000)
    qtbot.waitUntil(lambda: not w.codecs_runner.is_busy(), timeout=5000)
    yield w
    w.close()  # cancels and joins every job: the leak guard then checks nothing is left
