"""One BLAS thread while the integer entropy path runs (`fixedpoint`), process-wide.

Why: its matrix products are small (about 128 x 1000 x 800 for a 768x512 image) and numpy's
OpenBLAS splits them over every core. On a busy machine the split costs more than it gains:
measured on this 2-core machine with one core taken by a training job, MCDH's whole integer path
(`MCDHCodec.decode_latent` of kodim23) took 0.33 s with 2 BLAS threads and 0.09 s with 1. The
integers are exact in any order (`fixedpoint`), so the thread count changes only the time.

The count is process-wide in OpenBLAS (its `_local` setter is too, in pthreads builds), so, as
torch's in `learned.threads`, it is lowered once for all concurrent users and restored when the
last one ends. Where numpy's BLAS is not an OpenBLAS this does nothing.
"""
from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import threading
from functools import lru_cache
from typing import Callable, Iterator

#: (getter, setter) names: numpy's scipy-openblas wheels, other 64-bit-integer builds, plain builds.
_SYMBOLS = (("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
            ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
            ("openblas_get_num_threads", "openblas_set_num_threads"))
_lock = threading.Lock()
_users = 0
_saved = 1


@lru_cache(maxsize=1)
def _controls() -> tuple[Callable[[], int], Callable[[int], None]] | None:
    """numpy's OpenBLAS thread-count getter and setter, or None."""
    import numpy

    here = os.path.dirname(numpy.__file__)
    candidates = (glob.glob(os.path.join(os.path.dirname(here), "numpy.libs", "*openblas*"))  # Linux, Windows
                  + glob.glob(os.path.join(here, ".dylibs", "*openblas*")))  # macOS wheels
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)  # already loaded by numpy: the same library
        except OSError:
            continue
        for get_name, set_name in _SYMBOLS:
            get, set_ = getattr(lib, get_name, None), getattr(lib, set_name, None)
            if get is not None and set_ is not None:
                get.argtypes, get.restype = [], ctypes.c_int
                set_.argtypes, set_.restype = [ctypes.c_int], None
                return get, set_
    return None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with numpy's BLAS on one thread, then restore the count it had."""
    global _users, _saved
    controls = _controls()
    if controls is None:
        yield
        return
    get, set_ = controls
    with _lock:
        if _users == 0:
            _saved = max(1, get())
            set_(1)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                set_(_saved)
