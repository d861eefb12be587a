"""Quitting never loses work silently and never aborts: the prompt, cancel-and-wait, a clean exit."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from app_doubles import TEST_CODEC, JpegLadderCodec
from PySide6.QtWidgets import QMessageBox

from gic.app import jobs

DRIVER = Path(__file__).with_name("quit_driver.py")


def encode_and_wait(qtbot, window, image_png):
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        window.open_path(image_png)
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        window.reencode(jobs.EncodeRequest(codec=TEST_CODEC, quality=3))
    assert window.unsaved_result()


def test_quit_with_an_unsaved_encode_asks_and_cancel_keeps_the_window(qtbot, window, image_png, message_boxes):
    encode_and_wait(qtbot, window, image_png)
    message_boxes.answer = QMessageBox.StandardButton.Cancel
    window.close()
    assert len(message_boxes.asked) == 1 and "not saved" in message_boxes.asked[0]
    assert window.isVisible() and window.doc.data is not None  # nothing lost
    message_boxes.answer = QMessageBox.StandardButton.Discard
    window.close()
    assert not window.isVisible()


def test_quit_prompt_save_writes_the_file_then_quits(qtbot, window, image_png, message_boxes, tmp_path,
                                                   monkeypatch):
    encode_and_wait(qtbot, window, image_png)
    out = tmp_path / "kept.gic"
    monkeypatch.setattr("gic.app.file_actions.QFileDialog.getSaveFileName", lambda *a, **k: (str(out), ""))
    message_boxes.answer = QMessageBox.StandardButton.Save
    window.close()
    assert out.read_bytes() == window.doc.data
    assert not window.isVisible()


def test_quit_prompt_save_then_cancelled_file_dialog_stays_open(qtbot, window, image_png, message_boxes,
                                                                monkeypatch):
    encode_and_wait(qtbot, window, image_png)
    monkeypatch.setattr("gic.app.file_actions.QFileDialog.getSaveFileName", lambda *a, **k: ("", ""))
    message_boxes.answer = QMessageBox.StandardButton.Save
    window.close()
    assert window.isVisible() and window.unsaved_result()
    message_boxes.answer = QMessageBox.StandardButton.Discard


def test_quit_with_nothing_to_lose_does_not_ask(qtbot, window, gic_file, message_boxes):
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        window.open_path(gic_file)
    window.close()
    assert message_boxes.asked == [] and not window.isVisible()


def test_quit_during_an_encode_asks_cancels_and_joins(qtbot, window, image_png, message_boxes):
    with qtbot.waitSignal(window.document_ready, timeout=20000):
        window.open_path(image_png)
    JpegLadderCodec.hold = threading.Event()
    window.reencode(jobs.EncodeRequest(codec=TEST_CODEC, quality=4))
    assert window.encode_runner.is_busy()
    threading.Timer(0.3, JpegLadderCodec.hold.set).start()  # the step in progress ends, then it sees cancel
    t0 = time.monotonic()
    window.close()
    assert time.monotonic() - t0 < 3.5  # the grace, not the old 10 s freeze
    assert len(message_boxes.asked) == 1 and "encode is still running" in message_boxes.asked[0]
    assert not window.encode_runner.is_busy() and not window.isVisible()


@pytest.mark.slow
@pytest.mark.parametrize("mode,hold", [("encode", "prompt"), ("encode", "stuck"),
                                       ("decode", "prompt"), ("decode", "stuck")])
def test_gic_view_quit_during_work_exits_cleanly(tmp_path, mode, hold):
    """The real event loop in a child: exit status 0, no QThread abort, quick even when the job is
    stuck in a step that cannot see its cancel flag (it held the window ~10 s and aborted before)."""
    proc = subprocess.run([sys.executable, str(DRIVER), mode, hold, str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    ended = time.time()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "QThread: Destroyed" not in out and "Fatal Python error" not in out, out
    closing = [float(line.split("=")[1]) for line in proc.stdout.splitlines() if line.startswith("closing_at=")]
    assert closing, out
    assert ended - closing[0] < 9.0, out  # 3 s grace in the window + 2 s at exit, plus teardown
    assert ("asked=" in proc.stdout) == (mode == "encode"), out  # a running decode loses nothing
