"""Background jobs: model work runs in QThreads, results come back to the GUI thread as signals.

A `JobRunner` owns one kind of job (decode, encode, metrics...). Submitting a new job cancels the
previous one; every job carries an id and results of superseded jobs are dropped, so a slow decode of
the previous file can never paint over the current one. Job functions receive a `JobContext` and
must call `ctx.check()` (or `ctx.progress()`) between steps so cancelling is prompt.
"""
from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import time
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from gic.codecs.base import Cancelled
from gic.codecs.errors import GicError

log = logging.getLogger(__name__)

_ids = itertools.count(1)
#: Every job thread not yet finished, process-wide (tests assert it is empty after each test).
_live_threads: set["_JobThread"] = set()
_live_lock = threading.Lock()


def live_job_threads() -> int:
    """Number of job threads that have not finished yet."""
    with _live_lock:
        return sum(1 for t in _live_threads if not t.isFinished())


def cancel_and_join_all(timeout_ms: int = 10000) -> None:
    """Cancel every live job thread and wait for it (last-resort cleanup for tests and exit)."""
    with _live_lock:
        threads = list(_live_threads)
    for t in threads:
        t.ctx.cancel()
    for t in threads:
        t.wait(timeout_ms)


def stop_all(grace_s: float = 3.0) -> bool:
    """Cancel every job thread and wait up to `grace_s` in all; True when none is left running.

    Why a bound: a job stuck inside one long library call cannot see its cancel flag, and the
    window must not freeze on quit. What is still running after it is left to `exit_when_stopped`.
    """
    with _live_lock:
        threads = list(_live_threads)
    for t in threads:
        t.ctx.cancel()
    deadline = time.monotonic() + grace_s
    for t in threads:
        t.wait(max(0, int(1000 * (deadline - time.monotonic()))))
    return live_job_threads() == 0


def exit_when_stopped(code: int, grace_s: float = 3.0) -> int:
    """After the event loop: give job threads `grace_s` to stop, then end the process cleanly.

    Returns `code` when every thread stopped. Otherwise Python would delete a still-running QThread
    while shutting down, and Qt aborts ("QThread: Destroyed while thread ... is still running",
    SIGABRT): the work is already cancelled and settings are saved, so the process leaves at once
    with `code` (os._exit skips only the interpreter's teardown).
    """
    if stop_all(grace_s):
        return code
    import sys

    log.warning("%d job thread(s) did not stop within %.0f s of quitting; exiting anyway",
                live_job_threads(), grace_s)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def worker_thread_count() -> int:
    """Threads torch may use in a worker: leave one core for the GUI."""
    return max(1, (os.cpu_count() or 2) - 1)


class JobContext:
    """What a job function sees: its id, cancellation, progress and intermediate results."""

    def __init__(self, job_id: int, thread: "_JobThread") -> None:
        self.job_id = job_id
        self._thread = thread
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise Cancelled if the job was cancelled (call between layers / encodes)."""
        if self._cancel.is_set():
            raise Cancelled()

    def progress(self, fraction: float) -> bool:
        """Report progress in [0, 1]; returns True when cancelled (a codec `progress` callback)."""
        self._thread.sig_progress.emit(self.job_id, float(fraction))
        return self._cancel.is_set()

    def emit(self, payload: Any) -> None:
        """Send an intermediate result (e.g. one decoded layer) to the GUI thread."""
        if not self._cancel.is_set():
            self._thread.sig_partial.emit(self.job_id, payload)


def _torch_if_loaded() -> Any:
    """torch if it is imported, None if not, or while another thread is still importing it: a
    partly initialised module has no `set_num_threads` yet (an RD plot's LPIPS loading torch while
    a decode started raised AttributeError, issue 24)."""
    torch = sys.modules.get("torch")
    if torch is None or getattr(getattr(torch, "__spec__", None), "_initializing", False):
        return None
    return torch


def _run_with_torch(fn: Callable[[JobContext], Any], ctx: JobContext) -> Any:
    """Run `fn` under torch.inference_mode (it is per thread) with a sane thread count, once torch is
    loaded. Never imports it: a job that needs torch imports it itself (a decode on ONNX Runtime and
    the classical codecs never do), so the first picture does not wait seconds for `import torch`."""
    torch = _torch_if_loaded()
    if torch is None:
        try:
            return fn(ctx)
        finally:
            loaded = _torch_if_loaded()
            if loaded is not None:  # this job loaded it: the next ones get the thread count
                loaded.set_num_threads(worker_thread_count())
    torch.set_num_threads(worker_thread_count())
    with torch.inference_mode():
        return fn(ctx)


class _JobThread(QThread):
    sig_progress = Signal(int, float)
    sig_partial = Signal(int, object)
    sig_done = Signal(int, object)
    sig_failed = Signal(int, str)
    sig_cancelled = Signal(int)

    def __init__(self, fn: Callable[[JobContext], Any], job_id: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fn = fn
        self.ctx = JobContext(job_id, self)

    def run(self) -> None:  # runs in the worker thread
        jid = self.ctx.job_id
        try:
            result = _run_with_torch(self.fn, self.ctx)
        except Cancelled:
            self.sig_cancelled.emit(jid)
        except GicError as exc:
            self.sig_failed.emit(jid, str(exc))
        except MemoryError:
            self.sig_failed.emit(jid, "out of memory")
        except Exception as exc:  # a bug or an unexpected codec failure: keep the app alive
            log.error("job %d failed:\n%s", jid, traceback.format_exc())
            self.sig_failed.emit(jid, f"{type(exc).__name__}: {exc}")
        else:
            if self.ctx.cancelled():
                self.sig_cancelled.emit(jid)
            else:
                self.sig_done.emit(jid, result)


class JobRunner(QObject):
    """Runs at most one current job of one kind; older jobs are cancelled and their results dropped."""

    progress = Signal(int, float)  # job id, fraction
    partial = Signal(int, object)  # job id, payload
    finished = Signal(int, object)  # job id, result
    failed = Signal(int, str)  # job id, one-line message
    cancelled = Signal(int)  # job id
    busy_changed = Signal(bool)

    def __init__(self, name: str = "job", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._current: _JobThread | None = None
        self._threads: set[_JobThread] = set()

    # -- control (GUI thread) -------------------------------------------------------------------
    def submit(self, fn: Callable[[JobContext], Any]) -> int:
        """Cancel the current job and start `fn(ctx)` in a new thread; returns the new job id."""
        self.cancel()
        job_id = next(_ids)
        thread = _JobThread(fn, job_id)
        thread.setObjectName(f"gic-{self.name}-{job_id}")
        thread.sig_progress.connect(self._on_progress)
        thread.sig_partial.connect(self._on_partial)
        thread.sig_done.connect(self._on_done)
        thread.sig_failed.connect(self._on_failed)
        thread.sig_cancelled.connect(self._on_cancelled)
        thread.finished.connect(self._on_thread_finished)
        was_busy = self.is_busy()
        self._current = thread
        self._threads.add(thread)
        with _live_lock:
            _live_threads.add(thread)
        thread.start()
        if not was_busy:
            self.busy_changed.emit(True)
        return job_id

    def cancel(self) -> None:
        """Ask the current job to stop; its remaining results are dropped."""
        if self._current is not None:
            self._current.ctx.cancel()
            self._current = None

    def cancel_all(self) -> list["_JobThread"]:
        """Ask every thread of this runner to stop, superseded ones too; returns them."""
        self.cancel()
        threads = list(self._threads)
        for t in threads:
            t.ctx.cancel()
        return threads

    def current_id(self) -> int | None:
        return self._current.ctx.job_id if self._current is not None else None

    def is_busy(self) -> bool:
        return any(not t.isFinished() for t in self._threads)

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Cancel everything and wait for the threads, `timeout_ms` in all (window close, app exit).
        True if all stopped; a thread still running stays referenced (never deleted while it runs)."""
        threads = self.cancel_all()
        deadline = time.monotonic() + timeout_ms / 1000
        ok = True
        for t in threads:
            ok = t.wait(max(0, int(1000 * (deadline - time.monotonic())))) and ok
        for t in list(self._threads):
            if t.isFinished():
                self._forget(t)
        return ok

    # -- thread → GUI -----------------------------------------------------------------------------
    def _is_current(self, job_id: int) -> bool:
        return self._current is not None and self._current.ctx.job_id == job_id

    @Slot(int, float)
    def _on_progress(self, job_id: int, fraction: float) -> None:
        if self._is_current(job_id):
            self.progress.emit(job_id, fraction)

    @Slot(int, object)
    def _on_partial(self, job_id: int, payload: object) -> None:
        if self._is_current(job_id):
            self.partial.emit(job_id, payload)

    @Slot(int, object)
    def _on_done(self, job_id: int, result: object) -> None:
        if self._is_current(job_id):
            self._current = None
            self.finished.emit(job_id, result)

    @Slot(int, str)
    def _on_failed(self, job_id: int, message: str) -> None:
        if self._is_current(job_id):
            self._current = None
            self.failed.emit(job_id, message)

    @Slot(int)
    def _on_cancelled(self, job_id: int) -> None:
        self.cancelled.emit(job_id)

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self.sender()
        if isinstance(thread, _JobThread):
            self._forget(thread)
        if not self.is_busy():
            self.busy_changed.emit(False)

    def _forget(self, thread: _JobThread) -> None:
        if thread in self._threads:
            self._threads.discard(thread)
            with _live_lock:
                _live_threads.discard(thread)
            # finished() is emitted just before the OS thread exits: wait for it, then let Python's
            # reference (the only owner, no Qt parent) delete the QThread — one deletion path.
            thread.wait()
