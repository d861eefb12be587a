"""Running a target on inputs and counting what happened; a seeded mutator for runs without atheris.

Why our own bookkeeping around both engines: the result that matters is a count (executions,
project errors by type, anything else by type, hangs, peak memory) written as JSON, and a finding
must not stop the run: the offending input is saved and the run goes on.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from targets import PROJECT_ERRORS

INTERESTING_U32 = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@dataclass
class Stats:
    """What a run did; `as_json` is the results file."""

    target: str
    engine: str
    seed: int | None
    hang_seconds: float
    max_pixels: int
    findings_dir: Path
    execs: int = 0
    passed: int = 0
    decoded_by: Counter = field(default_factory=Counter)  # what a passing input went through
    project_errors: Counter = field(default_factory=Counter)
    other_exceptions: Counter = field(default_factory=Counter)
    hangs: int = 0
    slowest_seconds: float = 0.0
    started: float = field(default_factory=time.time)
    first_messages: dict = field(default_factory=dict)

    def record(self, data: bytes, error: BaseException | None, seconds: float,
               result: object = None) -> None:
        self.execs += 1
        self.slowest_seconds = max(self.slowest_seconds, seconds)
        if error is None:
            self.passed += 1
            if isinstance(result, str):
                self.decoded_by[result] += 1
        elif isinstance(error, PROJECT_ERRORS):
            self.project_errors[type(error).__name__] += 1
        else:
            name = type(error).__name__
            self.other_exceptions[name] += 1
            self.first_messages.setdefault(name, "".join(
                traceback.format_exception(type(error), error, error.__traceback__))[-3000:])
            self._save(data, f"crash-{name}")
        if seconds > self.hang_seconds:
            self.hangs += 1
            self._save(data, f"hang-{seconds:.0f}s")

    def _save(self, data: bytes, kind: str) -> None:
        self.findings_dir.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha1(data).hexdigest()[:16]
        (self.findings_dir / f"{self.target}-{kind}-{digest}").write_bytes(data)

    def as_json(self) -> dict:
        elapsed = time.time() - self.started
        return {
            "target": self.target, "engine": self.engine, "seed": self.seed,
            "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "elapsed_seconds": round(elapsed, 1), "execs": self.execs,
            "execs_per_second": round(self.execs / elapsed, 1) if elapsed > 0 else None,
            "passed": self.passed, "decoded_by": dict(sorted(self.decoded_by.items())),
            "project_errors": dict(self.project_errors),
            "other_exceptions": dict(self.other_exceptions), "hangs": self.hangs,
            "hang_seconds": self.hang_seconds, "slowest_seconds": round(self.slowest_seconds, 3),
            "peak_rss_mib": peak_rss_mib(), "max_pixels": self.max_pixels,
            "first_tracebacks": self.first_messages,
        }

    def write(self, path: Path | None) -> None:
        if path is not None:
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(json.dumps(self.as_json(), indent=2) + "\n")
            os.replace(tmp, path)


def execute(target: Callable[[bytes], object], data: bytes, stats: Stats) -> None:
    """Run `target` on one input and record the outcome (never raises, but for Ctrl-C)."""
    t0 = time.perf_counter()
    error: BaseException | None = None
    result = None
    try:
        result = target(data)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - counting every kind is the point
        error = exc
    stats.record(data, error, time.perf_counter() - t0, result)


class Mutator:
    """Byte-level mutations (flips, interesting integers, dictionary tokens, cuts, splices) of seed
    files, from one seeded generator: the same seed gives the same inputs."""

    def __init__(self, seeds: list[bytes], tokens: list[bytes], seed: int, max_len: int = 1 << 16):
        if not seeds:
            raise SystemExit("fuzz: the seed corpus is empty (run fuzz/make_corpus.py)")
        self.seeds, self.tokens, self.max_len = seeds, tokens or [b"\0"], max_len
        self.rng = random.Random(seed)

    def __call__(self) -> bytes:
        rng = self.rng
        data = bytearray(rng.choice(self.seeds))
        for _ in range(1 + min(int(rng.expovariate(0.7)), 8)):
            self._mutate_once(data)
        return bytes(data[: self.max_len])

    def _mutate_once(self, data: bytearray) -> None:
        rng, n = self.rng, len(data)
        op = rng.randrange(8)
        i = rng.randrange(n + 1)
        if op == 0 and n:  # flip a bit
            i = min(i, n - 1)
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1 and n:  # a random byte
            data[min(i, n - 1)] = rng.randrange(256)
        elif op == 2 and n >= 4:  # an interesting 32-bit value, either byte order
            i = min(i, n - 4)
            order = "<" if rng.random() < 0.5 else ">"
            data[i: i + 4] = rng.choice(INTERESTING_U32).to_bytes(4, "little" if order == "<" else "big")
        elif op == 3:  # a dictionary token, inserted or overwritten
            token = rng.choice(self.tokens)
            if rng.random() < 0.5:
                data[i:i] = token
            else:
                data[i: i + len(token)] = token
        elif op == 4 and n:  # delete a range
            data[i: i + rng.randrange(1, 64)] = b""
        elif op == 5 and n:  # duplicate a range
            j = rng.randrange(n)
            data[i:i] = data[j: j + rng.randrange(1, 64)]
        elif op == 6:  # cut the file
            del data[i:]
        else:  # splice with another seed
            other = rng.choice(self.seeds)
            j = rng.randrange(len(other) + 1)
            data[i:] = other[j:]


def load_dictionary(path: Path) -> list[bytes]:
    """Tokens of a libFuzzer dictionary file (`name="..."` lines, \\xNN and \\\\ escapes)."""
    tokens = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or '"' not in line:
            continue
        body = line[line.index('"') + 1: line.rindex('"')]
        tokens.append(body.encode("latin-1").decode("unicode_escape").encode("latin-1"))
    return tokens


def run_random(target: Callable[[bytes], object], stats: Stats, seeds: list[bytes], tokens: list[bytes],
               seed: int, runs: int | None, seconds: float | None, results: Path | None,
               every: float = 30.0) -> Stats:
    """The seeded mutation engine: seeds first, unchanged, then mutants until `runs` executions
    or `seconds` elapsed; the results file is rewritten every `every` seconds and at the end."""
    mutate = Mutator(seeds, tokens, seed)
    t_end = None if seconds is None else time.time() + seconds
    last = time.time()
    pending = list(seeds)
    while (runs is None or stats.execs < runs) and (t_end is None or time.time() < t_end):
        execute(target, pending.pop(0) if pending else mutate(), stats)
        if time.time() - last > every:
            stats.write(results)
            last = time.time()
    stats.write(results)
    return stats


def plain_array_comparisons(atheris) -> None:
    """Route comparisons with a numpy array past atheris' comparison hook.

    Why: atheris instruments every `a < b`, `a != b`... in the instrumented modules as a call to
    its native `_trace_cmp`, which keeps the result alive when that result is not a Python bool: a
    comparison of arrays leaks the whole boolean array. Measured (atheris 3.0.0): 2,000 calls of an
    instrumented `np.any(w != 0)` on MCDH's 96x64x5x5 context kernel grew RSS by 293 MiB; with
    `np.not_equal` 0 MiB. That was the decoder run's steady RSS growth (~3.7 KB an exec; tracemalloc:
    the retained blocks were `w != 0` in `learned/fixedpoint._taps`), not a leak of gic's own. An
    array comparison gives libFuzzer no useful feedback anyway (it traces ints, strings and bytes),
    so those are computed plainly; every other comparison still goes to atheris.
    """
    import dis
    import operator

    import numpy as np

    native = atheris._trace_cmp
    if getattr(native, "gic_plain_arrays", False):
        return
    apply = {"<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
             ">": operator.gt, ">=": operator.ge}
    try:
        from atheris.version_dependent import CMP_OP_SHIFT_AMOUNT as shift
    except ImportError:  # older atheris: the plain opcode argument
        shift = 0

    def trace_cmp(a, b, op, counter, is_const):  # noqa: ANN001 - atheris' signature
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return apply[dis.cmp_op[op >> shift]](a, b)
        return native(a, b, op, counter, is_const)

    trace_cmp.gic_plain_arrays = True
    atheris._trace_cmp = trace_cmp

