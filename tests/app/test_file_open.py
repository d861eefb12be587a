"""Files handed over by macOS Finder arrive as a QFileOpenEvent *posted* to the application
(gic.app.view_command installs the filter at start-up); these go through the event loop."""
from __future__ import annotations

import pytest

from gic.app import view_command


@pytest.fixture
def opener(window):
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    f = view_command._FileOpenFilter(window)  # noqa: SLF001 - the object view_command installs
    app.installEventFilter(f)
    yield app
    app.removeEventFilter(f)


def test_posted_file_open_event_opens_the_file(qtbot, window, gic_file, opener):
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QFileOpenEvent

    with qtbot.waitSignal(window.document_ready, timeout=20000):
        QCoreApplication.postEvent(opener, QFileOpenEvent(str(gic_file)))
    assert window.doc.name == gic_file.name and len(window.previews) == 4


def test_posted_event_for_a_missing_file_reports_it_in_the_window(qtbot, window, tmp_path, opener):
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QFileOpenEvent

    missing = tmp_path / "gone.gic"
    QCoreApplication.postEvent(opener, QFileOpenEvent(str(missing)))
    qtbot.waitUntil(lambda: "gone.gic" in window.banner.text(), timeout=5000)
    assert window.doc is None
