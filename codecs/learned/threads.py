"""Single-threaded torch kernels while a learned codec synthesises, so pixels never depend on the
thread count.

Why: torch's CPU kernels split their float reductions by thread, so a decode with 1 and with 2
threads differed in 6-19 pixels (by 1) of a 768x512 image. With one kernel thread each tile's
floats are fixed; the parallelism comes back by running tiles on a pool of as many threads as torch
had (`learned.tiling.synthesise_image`). The thread count is process-wide in torch, so it is
lowered once for all concurrent decodes and restored when the last one ends.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator

_lock = threading.Lock()
_users = 0
_saved = 1


@contextlib.contextmanager
def single_threaded_kernels() -> Iterator[int]:
    """Run the block with torch at one intra-op thread; yields the count in force before (the
    number of tile workers to use)."""
    import torch

    global _users, _saved
    with _lock:
        if _users == 0:
            _saved = max(1, torch.get_num_threads())
            torch.set_num_threads(1)
        _users += 1
        workers = _saved
    try:
        yield workers
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                torch.set_num_threads(_saved)
