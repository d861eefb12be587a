"""Start-up of `gic view` with no file (the bundled sample): where the time goes from launch to
the first picture, and to the metrics after it (issue 19). Medians of several fresh processes.

    QT_QPA_PLATFORM=offscreen python benchmarks/startup.py [--runs 5] [--json benchmarks/startup.json]

Each run is a new interpreter that runs `gic view`'s own code (view_command.run: the window opens
the sample .gic, then attaches its original for PSNR/LPIPS), instrumented from outside by wrapping
functions; nothing in the app is changed for it. Milestones are seconds from launch (before the
child process was spawned):

- interpreter: the child's first line runs (Python start-up, site-packages);
- imports: `gic.app.view_command`, PySide6 and the main window's modules imported;
- window shown: MainWindow built and shown;
- model load start / end: the file's codec built (its weights loaded) in the decode worker;
- first picture: the first layer is in the window and painted;
- all layers: the progressive decode finished;
- metrics first / all: PSNR+LPIPS of the first layer / of every layer (LPIPS's own load included);
- codec list: the background discovery of installed codecs finished (it runs alongside).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import os, sys, time, json
T = {"interpreter": time.time()}
def mark(name):
    T.setdefault(name, time.time())
import argparse
from gic.app import view_command, jobs
import gic.app.main_window as mw
from PySide6 import QtWidgets  # noqa: F401
mark("imports")

_get_codec = jobs.get_codec
def get_codec(name, device="cpu"):
    T.setdefault("model load start", time.time())
    c = _get_codec(name, device)
    T.setdefault("model load end", time.time())
    return c
jobs.get_codec = get_codec

_init = mw.MainWindow.__init__
def init(self, *a, **k):
    _init(self, *a, **k)
    self.codecs_runner.finished.connect(lambda *_: mark("codec list"))
    self.metrics_runner.finished.connect(lambda *_: done(self))
mw.MainWindow.__init__ = init

_show = mw.MainWindow.show
def show(self):
    _show(self)
    mark("window shown")
mw.MainWindow.show = show

_start = mw.MainWindow._start_document
def start(self, doc):
    _start(self, doc)
    def seen(event, d, _layer):
        if event == "layer" and d.previews and "first picture" not in T:
            QtWidgets.QApplication.processEvents()  # painted
            mark("first picture")
        if event == "metrics":
            mark("metrics first")
        if event == "error":
            print("error", d.error, file=sys.stderr, flush=True); os._exit(1)
    doc.subscribe(seen)
mw.MainWindow._start_document = start

_finished = mw.MainWindow._on_decode_finished
def finished(self, job, result):
    mark("all layers")
    _finished(self, job, result)
mw.MainWindow._on_decode_finished = finished

def done(self):
    mark("metrics all")
    print(json.dumps(T), flush=True)
    os._exit(0)

args = argparse.Namespace(file=None, screenshot=None, tab="viewer", original=None, size="1280x800")
view_command.run(args)
print("the viewer exited before the metrics finished", file=sys.stderr)
os._exit(1)
"""

ORDER = ("interpreter", "imports", "window shown", "model load start", "model load end",
         "first picture", "all layers", "metrics first", "metrics all", "codec list")


def one_run(env: dict[str, str]) -> dict[str, float]:
    """Milestones of one fresh `gic view`, seconds from launch."""
    t0 = time.time()
    r = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise SystemExit(f"the viewer run failed: {r.stderr[-1500:]}")
    marks = json.loads(r.stdout.strip().splitlines()[-1])
    return {k: v - t0 for k, v in marks.items()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--json", help="also write the medians and every run here")
    args = p.parse_args()
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    one_run(env)  # warm the file cache once (not counted)
    runs = [one_run(env) for _ in range(args.runs)]
    med = {k: statistics.median(r[k] for r in runs) for k in ORDER if all(k in r for r in runs)}
    print(f"{'milestone (s from launch)':<28} {'median':>8} {'min':>8} {'max':>8}   (runs: {args.runs})")
    for k, v in med.items():
        vals = [r[k] for r in runs]
        print(f"{k:<28} {v:>8.3f} {min(vals):>8.3f} {max(vals):>8.3f}")
    phases = {
        "python start-up": med["interpreter"],
        "imports (Qt, app)": med["imports"] - med["interpreter"],
        "window built and shown": med["window shown"] - med["imports"],
        "model load": med["model load end"] - med["model load start"],
        "first layer after model": med["first picture"] - med["model load end"],
        "metrics after first picture": med["metrics all"] - med["first picture"],
    }
    print("\nphases (differences of the medians)")
    for k, v in phases.items():
        print(f"{k:<28} {v:>8.3f}")
    print(f"\nfirst picture before the metrics: {med['first picture'] < med['metrics first']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": args.runs, "median_s": med, "phases_s": phases,
                                               "all_s": runs}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
