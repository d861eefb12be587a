"""Qt calls must not lose references to None/True/False: that aborts the viewer.

PySide6-Essentials 6.12.0 on Python 3.10/3.11 drops one reference to None on every call of a void
Qt method (setText, setValue, update, processEvents...) and one to True on every signal emit: after
a few tens of thousands of calls (a minute of the RD plot, ~1,000 layer steps) the count reaches 0
and Python aborts with "Fatal Python error: none_dealloc" / "bool_dealloc". 6.11.3 does not, and
pyproject.toml keeps 3.10/3.11 below 6.12. This test catches a PySide6 that brings it back.

From Python 3.12 on, None/True/False are immortal: a lost reference cannot free them (it would take
2**31 of them), so counting there says nothing about a crash and the check is skipped.
"""
from __future__ import annotations

import gc
import sys

import pytest

CALLS = 300


def _qt_calls():
    from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal
    from PySide6.QtGui import QAction, QKeyEvent
    from PySide6.QtWidgets import QApplication, QCheckBox, QLabel, QProgressBar, QWidget

    class Emitter(QObject):
        flag = Signal(bool)
        ping = Signal()

    label, bar, widget, check = QLabel(), QProgressBar(), QWidget(), QCheckBox()
    emitter, action = Emitter(), QAction("step")
    emitter.flag.connect(lambda on: None)
    emitter.ping.connect(lambda: None)
    action.triggered.connect(lambda: None)
    key = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_BracketRight, Qt.KeyboardModifier.NoModifier, "]")
    keep = (label, bar, widget, check, emitter, action, key, Emitter)
    return keep, {
        "QLabel.setText": lambda: label.setText("x"),
        "QProgressBar.setValue": lambda: bar.setValue(3),
        "QWidget.update": widget.update,
        "processEvents": QApplication.processEvents,
        "QCheckBox.setChecked": lambda: check.setChecked(not check.isChecked()),
        "QWidget.isVisible (bool)": widget.isVisible,
        "QAction.trigger": action.trigger,
        "Signal(bool).emit": lambda: emitter.flag.emit(True),
        "Signal().emit": emitter.ping.emit,
        "sendEvent (key press)": lambda: QCoreApplication.sendEvent(widget, key),
    }


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None/True/False are immortal from Python 3.12: "
                                                       "a lost reference can neither be counted nor crash")
def test_qt_calls_keep_references_to_none_true_false(qapp):
    import PySide6

    _keep, calls = _qt_calls()
    leaks = {}
    gc.disable()  # a collection in the middle would free unrelated references to None
    try:
        for name, call in calls.items():
            call()  # first-call caches are not leaks
            before = [sys.getrefcount(o) for o in (None, True, False)]
            for _ in range(CALLS):
                call()
            after = [sys.getrefcount(o) for o in (None, True, False)]
            per_call = {o: (a - b) / CALLS for o, b, a in zip(("None", "True", "False"), before, after)}
            bad = {o: d for o, d in per_call.items() if abs(d) >= 0.5}
            if bad:
                leaks[name] = bad
    finally:
        gc.enable()
    assert not leaks, (f"PySide6 {PySide6.__version__} on Python {sys.version.split()[0]} changes reference "
                       f"counts per call (this aborts the viewer): {leaks}")


def test_dependency_keeps_python_before_3_12_off_pyside6_6_12():
    """The measured leak: 6.12.0 on 3.10 and 3.11 leaks, 6.11.3 does not; 3.12+ is immune."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    from pathlib import Path

    from packaging.requirements import Requirement

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    reqs = [Requirement(r) for r in pyproject["project"]["dependencies"]]
    qt = [r for r in reqs if r.name.lower().replace("_", "-") == "pyside6-essentials"]
    for python, leaking, fine in (("3.10", "6.12.0", "6.11.3"), ("3.11", "6.12.0", "6.11.3"),
                                  ("3.12", None, "6.12.0"), ("3.13", None, "6.12.0")):
        applies = [r for r in qt if r.marker is None or r.marker.evaluate({"python_version": python})]
        assert applies, f"no PySide6-Essentials requirement for Python {python}"
        if leaking:
            assert all(not r.specifier.contains(leaking) for r in applies), (python, applies)
        assert all(r.specifier.contains(fine) for r in applies), (python, applies)
