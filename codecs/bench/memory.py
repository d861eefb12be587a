"""Resident memory: tracemalloc misses torch's and native codecs' buffers, so read the kernel's RSS.

Two tools: `PeakRSS` samples the current RSS from a background thread while a call runs (an
estimate: spikes shorter than the sampling interval can be missed, and memory the allocator already
held is not counted again); `max_rss_mb` is the kernel's exact high-water mark for the whole process,
which is what the speed table reports from a fresh process per codec.
"""
from __future__ import annotations

import os
import resource
import sys
import threading

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def current_rss_mb() -> float:
    """Resident set size now, in MiB (NaN where /proc is not available)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE / 2**20
    except (OSError, IndexError, ValueError):
        return float("nan")


def max_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB.

    Reads the kernel's VmHWM (per address space, so it starts afresh at exec). Not ru_maxrss where
    VmHWM exists: on Linux a child's ru_maxrss includes its parent's RSS at fork time, which would
    bill a large benchmark process to every codec it spawns.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10  # kB
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


class PeakRSS:
    """Context manager: `extra_mb` is the highest RSS seen inside the block minus RSS at entry."""

    def __init__(self, interval_s: float = 0.002):
        self.interval_s = interval_s
        self.extra_mb = float("nan")
        self._stop = threading.Event()
        self._peak = 0.0
        self._base = 0.0

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._peak = max(self._peak, current_rss_mb())

    def __enter__(self) -> "PeakRSS":
        self._base = self._peak = current_rss_mb()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, current_rss_mb())
        self.extra_mb = max(0.0, self._peak - self._base)
