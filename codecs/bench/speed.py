"""Speed and peak memory per codec, each measured in a fresh process so numbers do not leak between
codecs (a process's peak RSS never goes down, and torch or a model loaded by one codec would count
against the next).

Method: the child is pinned to `threads` CPUs (so libraries that size their thread pool from the
CPUs they may use, like libavif through Pillow, and torch, get the same budget), finds the quality
closest to the target bpp (untimed; it doubles as warm-up), decodes once more to warm up, then times
`repeat` encodes and `repeat` decodes and reports the medians, the process's peak RSS (kernel
high-water mark) and how much of it came after the interpreter, libraries and image were loaded
(the codec's model and working memory).
Run as `python -m gic.codecs.bench.speed --codec NAME --image PNG ...`; prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def limit_threads(threads: int) -> int:
    """Pin this process to `threads` of its CPUs and cap torch's pool; returns the CPUs allowed."""
    if hasattr(os, "sched_setaffinity"):
        allowed = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, allowed[:max(1, threads)])
    for var in THREAD_ENV:
        os.environ[var] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else threads


def cpus_for(threads: int) -> int:
    """How many CPUs `limit_threads(threads)` leaves this process."""
    if hasattr(os, "sched_getaffinity"):
        return min(max(1, threads), len(os.sched_getaffinity(0)))
    return max(1, threads)


@contextmanager
def thread_budget(threads: int) -> Iterator[int]:
    """`limit_threads` for the duration of a block, restoring CPUs, env and torch afterwards."""
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    env = {v: os.environ.get(v) for v in THREAD_ENV}
    torch_threads = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None
    try:
        yield limit_threads(threads)
    finally:
        if affinity is not None:
            os.sched_setaffinity(0, affinity)
        for var, value in env.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
        if "torch" in sys.modules:
            torch = sys.modules["torch"]
            torch.set_num_threads(torch_threads or max(1, len(affinity or ()) or 1))


def _child(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m gic.codecs.bench.speed")
    p.add_argument("--codec", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--bpp", type=float, required=True)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None)
    a = p.parse_args(argv)
    cpus = limit_threads(a.threads)

    from ..registry import create
    from .images import load_rgb
    from .memory import current_rss_mb, max_rss_mb

    image = load_rgb(Path(a.image))
    base_rss = current_rss_mb()  # interpreter, numpy, Pillow and the image: before any codec
    codec = create(a.codec, **({"device": a.device} if a.device else {}))
    limit_threads(a.threads)  # again: creating the codec may have imported torch
    data, quality = codec.encode_to_bpp(image, a.bpp)
    out = codec.decode(data)
    if out.shape != image.shape:
        raise RuntimeError(f"{a.codec} decoded {out.shape}, expected {image.shape}")
    enc, dec = [], []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        data = codec.encode(image, quality)
        enc.append(time.perf_counter() - t0)
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        codec.decode(data)
        dec.append(time.perf_counter() - t0)
    torch_threads = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None
    print(json.dumps({
        "codec": a.codec, "quality": quality, "bytes": len(data),
        "bpp": len(data) * 8 / (image.shape[0] * image.shape[1]),
        "width": image.shape[1], "height": image.shape[0],
        "encoding_time": statistics.median(enc), "decoding_time": statistics.median(dec),
        "encoding_times": enc, "decoding_times": dec,
        "peak_rss_mb": max_rss_mb(), "base_rss_mb": base_rss,
        "codec_rss_mb": max_rss_mb() - base_rss,
        "cpus": cpus, "torch_threads": torch_threads,
    }))
    return 0


def measure_speed(codecs: list[str], image: np.ndarray, *, bpp: float, repeat: int, threads: int,
                  device: str | None = None, timeout_s: float = 1800,
                  on_done: Callable[[dict], None] | None = None) -> list[dict]:
    """Time each codec on `image` in its own child process; failures come back as {"error": ...}."""
    from PIL import Image

    results = []
    with tempfile.TemporaryDirectory(prefix="gic-speed-") as tmp:
        path = Path(tmp) / "speed.png"
        Image.fromarray(image).save(path)
        env = dict(os.environ, **{v: str(threads) for v in THREAD_ENV})
        for name in codecs:
            cmd = [sys.executable, "-m", "gic.codecs.bench.speed", "--codec", name, "--image",
                   str(path), "--bpp", repr(bpp), "--repeat", str(repeat), "--threads", str(threads)]
            if device:
                cmd += ["--device", device]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout_s)
                lines = proc.stdout.strip().splitlines()
                if proc.returncode != 0 or not lines:
                    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                    result = {"codec": name, "error": f"exit {proc.returncode}: {tail}"}
                else:
                    result = json.loads(lines[-1])
            except subprocess.TimeoutExpired:
                result = {"codec": name, "error": f"timed out after {timeout_s:.0f} s"}
            results.append(result)
            if on_done is not None:
                on_done(result)
    return results


def with_ratios(results: list[dict], anchor: str) -> list[dict]:
    """Add encode/decode time ratios against `anchor`'s times from the same run (None if absent)."""
    ref = next((r for r in results if r["codec"] == anchor and "error" not in r), None)
    out = []
    for r in results:
        r = dict(r)
        if ref is not None and "error" not in r:
            r["encoding_ratio"] = r["encoding_time"] / ref["encoding_time"]
            r["decoding_ratio"] = r["decoding_time"] / ref["decoding_time"]
        else:
            r["encoding_ratio"] = r["decoding_ratio"] = None
        out.append(r)
    return out


if __name__ == "__main__":
    sys.exit(_child())
