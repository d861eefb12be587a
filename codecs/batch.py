"""Encoding or decoding a whole folder: plan the files, run them on a pool of worker processes.

Why a module of its own (not the CLI): it is the codec library's way to do many files at once,
usable from any front end. The codec is chosen by name through the registry, so no family is
imported here. Rules a batch keeps:

- an output that already exists is skipped (that is how an interrupted batch resumes), unless
  `force` is given; outputs are written atomically, so an existing file is always a whole one;
- one file's failure (unreadable, not an image, corrupt .gic) becomes a failed `FileResult` with a
  one-line reason, and the batch goes on;
- two inputs that would write the same output (`a.png` and `a.jpg` encoded to `a.gic`) are both
  refused rather than one silently overwriting the other.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal, Sequence

from . import limits
from .errors import CodecError, GicError
from .imageio import is_image_path

Status = Literal["done", "skipped", "failed"]
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class EncodeSettings:
    """How every file of an encode batch is compressed."""

    codec: str
    quality: int | None = None
    bpp: float | None = None
    device: str = "cpu"
    metadata: bool = True


@dataclass(frozen=True)
class DecodeSettings:
    """How every file of a decode batch is decompressed (`layers`: only the first K of a .gic)."""

    layers: int | None = None
    device: str = "cpu"


Settings = EncodeSettings | DecodeSettings


@dataclass(frozen=True)
class Task:
    source: Path
    output: Path


@dataclass
class FileResult:
    """What happened to one input file. Sizes are 0 where unknown (skipped or failed files)."""

    source: Path
    output: Path
    status: Status
    bytes_in: int = 0
    bytes_out: int = 0
    width: int = 0
    height: int = 0
    seconds: float = 0.0
    detail: str = ""  # "quality 5", "layers 3 of 8", or why it failed / was skipped
    compressed_bytes: int = 0  # the compressed side: the output of an encode, the input of a decode
    note: str = ""  # something the user should be told about a done file (alpha flattened)


@dataclass
class Plan:
    """The files a batch will process, and those it already settled (skipped, refused)."""

    tasks: list[Task] = field(default_factory=list)
    settled: list[FileResult] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.tasks) + len(self.settled)


# -- planning -----------------------------------------------------------------------------------
def _inputs(folder: Path, keep: Callable[[Path], bool]) -> list[Path]:
    if not folder.is_dir():
        raise CodecError(f"{folder} is not a folder")
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and keep(p))


def _plan(sources: Sequence[Path], out_dir: Path, name_of: Callable[[Path], str], force: bool) -> Plan:
    if out_dir.exists() and not out_dir.is_dir():
        raise CodecError(f"{out_dir} exists and is not a folder")
    plan = Plan()
    claimed: dict[Path, list[Path]] = {}
    for src in sources:
        claimed.setdefault(out_dir / name_of(src), []).append(src)
    for src in sources:
        out = out_dir / name_of(src)
        others = [p.name for p in claimed[out] if p != src]
        if others:
            plan.settled.append(FileResult(src, out, "failed", detail=f"{out.name} would also be written "
                                           f"from {', '.join(others)}: rename one of them"))
        elif out.resolve() == src.resolve():
            plan.settled.append(FileResult(src, out, "failed", detail="the output would replace the input"))
        elif out.exists() and not force:
            plan.settled.append(FileResult(src, out, "skipped", detail="exists (use --force to redo)"))
        else:
            plan.tasks.append(Task(src, out))
    if not sources:
        raise CodecError("no files to process")
    return plan


def plan_encode(src_dir: str | os.PathLike, out_dir: str | os.PathLike, codec: str,
                force: bool = False) -> Plan:
    """Every image directly in `src_dir` → `out_dir/<stem><codec's extension>`."""
    from . import registry

    ext = registry.spec(codec).extension
    folder = Path(src_dir)
    sources = _inputs(folder, is_image_path)
    if not sources:
        raise CodecError(f"no images in {folder}")
    return _plan(sources, Path(out_dir), lambda p: p.stem + ext, force)


def decodable_suffixes() -> set[str]:
    """Suffixes of files a decode batch picks up: .gic and every registered codec's extension."""
    from . import registry

    return {".gic"} | {s.extension.lower() for s in registry.specs()}


def plan_decode(src_dir: str | os.PathLike, out_dir: str | os.PathLike, force: bool = False) -> Plan:
    """Every compressed file (see `decodable_suffixes`) directly in `src_dir` → `out_dir/<stem>.png`."""
    suffixes = decodable_suffixes()
    folder = Path(src_dir)
    sources = _inputs(folder, lambda p: p.suffix.lower() in suffixes)
    if not sources:
        raise CodecError(f"no compressed files ({', '.join(sorted(suffixes))}) in {folder}")
    return _plan(sources, Path(out_dir), lambda p: p.stem + ".png", force)


# -- one file -----------------------------------------------------------------------------------
_CODECS: dict[tuple[str, str], object] = {}


def _codec(name: str, device: str):
    """One codec instance per (name, device) and process: weights load once per worker."""
    from . import registry

    key = (name, device)
    if key not in _CODECS:
        _CODECS[key] = registry.create(name, device=device)
    return _CODECS[key]


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    elif isinstance(exc, GicError):
        text = str(exc)
    else:
        text = f"unexpected {type(exc).__name__}: {exc}"
    return " ".join(text.split()) or type(exc).__name__


def _encode(task: Task, s: EncodeSettings) -> FileResult:
    from . import fileio, imageio, provenance

    data = fileio.read_bytes(task.source)
    loaded = imageio.decode_image_info(data, task.source.name)
    image = loaded.pixels
    codec = _codec(s.codec, s.device)
    encoded = provenance.encode(codec, image, quality=s.quality, bpp=s.bpp, source=str(task.source),
                                metadata=s.metadata)
    task.output.parent.mkdir(parents=True, exist_ok=True)
    fileio.write_atomic(task.output, encoded.data)
    h, w = image.shape[:2]
    return FileResult(task.source, task.output, "done", len(data), len(encoded.data), w, h,
                      detail=f"quality {encoded.quality}", compressed_bytes=len(encoded.data),
                      note=imageio.alpha_note(task.source.name) if loaded.alpha_flattened else "")


def _decode(task: Task, s: DecodeSettings) -> FileResult:
    from . import fileio, imageio, opening

    opened = opening.open_path(task.source)
    detail = opened.format()
    if opened.is_gic:
        gic = opened.gic
        present = len(gic.layers)
        if present == 0:
            raise CodecError(f"{task.source.name} holds no layer to decode")
        want = present if s.layers is None else min(s.layers, present)
        codec = _codec(gic.header.codec, s.device)
        if want >= present:
            image = codec.decode(opened.data)
        else:
            image = None
            for preview in codec.decode_progressive(opened.data):
                image = preview.image
                if preview.layer >= want:
                    break
        detail = f"layers {want} of {gic.header.num_layers}" + (" (partial file)" if gic.partial else "")
    elif s.layers is not None and s.layers != 1:
        raise CodecError(f"{task.source.name} is not a progressive .gic file: --layers does not apply")
    else:
        image = opened.decode(s.device)
    png = imageio.encode_png(image)
    task.output.parent.mkdir(parents=True, exist_ok=True)
    fileio.write_atomic(task.output, png)
    h, w = image.shape[:2]
    return FileResult(task.source, task.output, "done", len(opened.data), len(png), w, h, detail=detail,
                      compressed_bytes=len(opened.data))


def process(task: Task, settings: Settings) -> FileResult:
    """Encode or decode one file; any failure becomes a failed result with a one-line reason."""
    t0 = time.perf_counter()
    try:
        result = _encode(task, settings) if isinstance(settings, EncodeSettings) else _decode(task, settings)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - reported per file; the batch goes on
        result = FileResult(task.source, task.output, "failed", detail=_one_line(exc))
    result.seconds = time.perf_counter() - t0
    return result


# -- the pool -----------------------------------------------------------------------------------
def _init_worker(threads: int, max_pixels: int | None = None) -> None:
    """Each worker gets its share of the CPUs, so N workers do not each start a full thread pool,
    and the parent's pixel limit (set by `gic --max-pixels`)."""
    if max_pixels is not None:
        limits.set_max_pixels(max_pixels)
    for var in THREAD_ENV:
        os.environ[var] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def run(plan: Plan, settings: Settings, jobs: int = 1,
        on_result: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    """Process the plan's tasks with `jobs` worker processes (1: in this process), calling
    `on_result` as each file finishes (in completion order); returns every result, settled ones
    included, in the order of the input files."""
    if jobs < 1:
        raise CodecError(f"--jobs must be at least 1, got {jobs}")
    results = list(plan.settled)
    notify = on_result or (lambda r: None)
    for r in plan.settled:
        notify(r)
    jobs = min(jobs, len(plan.tasks)) or 1
    if jobs == 1:
        for task in plan.tasks:
            results.append(process(task, settings))
            notify(results[-1])
    else:
        threads = max(1, (os.cpu_count() or 1) // jobs)
        # spawn: a forked child of a process that already ran torch's thread pool can deadlock.
        ctx = multiprocessing.get_context("spawn")
        pool = cf.ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker,
                                     initargs=(threads, limits.max_pixels()))
        try:
            futures = {pool.submit(process, t, settings): t for t in plan.tasks}
            for fut in cf.as_completed(futures):
                task = futures[fut]
                try:
                    result = fut.result()
                except Exception as exc:  # noqa: BLE001 - a worker died (killed, out of memory)
                    result = FileResult(task.source, task.output, "failed",
                                        detail=f"worker failed: {_one_line(exc)}")
                results.append(result)
                notify(result)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
    order = {p: i for i, p in enumerate(sorted(r.source for r in results))}
    return sorted(results, key=lambda r: order[r.source])


# -- reporting ----------------------------------------------------------------------------------
def bpp(result: FileResult) -> float:
    """Bits per pixel of the compressed side of a done file (0 when unknown)."""
    if result.status != "done" or not result.width:
        return 0.0
    return result.compressed_bytes * 8.0 / (result.width * result.height)


def summary_table(results: Sequence[FileResult], wall_s: float, verb: str = "encoded") -> str:
    """Files, bytes (in and out), bits per pixel (of the compressed side, over all pixels) and time
    per outcome, as a fixed-width table."""
    lines = [f"{'':<9} {'files':>6} {'bytes in':>13} {'bytes out':>13} {'bpp':>8} {'time':>9}"]
    for status, label in (("done", verb), ("skipped", "skipped"), ("failed", "failed")):
        rows = [r for r in results if r.status == status]
        if status == "done":
            pixels = sum(r.width * r.height for r in rows)
            bits = sum(r.compressed_bytes for r in rows) * 8
            rate = f"{bits / pixels:.4f}" if pixels else "-"
            secs = f"{sum(r.seconds for r in rows):.1f} s"
            lines.append(f"{label:<9} {len(rows):>6} {sum(r.bytes_in for r in rows):>13,} "
                         f"{sum(r.bytes_out for r in rows):>13,} {rate:>8} {secs:>9}")
        elif rows:
            lines.append(f"{label:<9} {len(rows):>6}")
    lines.append(f"{'total':<9} {len(results):>6} {'':>13} {'':>13} {'':>8} {wall_s:>7.1f} s wall")
    return "\n".join(lines)
