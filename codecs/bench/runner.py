"""The rate-distortion sweep: every image x every codec x every quality point, measured the same way.

Per point: encode (timed, `repeat` runs, median), decode (same), bpp from the file size, the chosen
metrics of the decoded image against the original, and the extra resident memory each call needed
(sampled; see `memory`). Each codec is warmed up once (one encode and decode, untimed) before its
first measurement, so model loading and first-call allocations are not billed to the first image.
"""
from __future__ import annotations

import math
import shlex
import statistics
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..base import Codec
from ..errors import GicError
from ..torch_check import have_torch
from .bdrate import BDRateError, bd_rate, higher_is_better
from .images import list_images, load_rgb, speed_image
from .memory import PeakRSS
from .plots import plotting_available
from .records import (METRIC_KEYS, BenchError, average_results, columns, read_csv, write_csv,
                      write_json)
from .speed import cpus_for, thread_budget

ALL_METRICS = ("psnr", "ms-ssim", "lpips", "dists")
#: Without a GPU DISTS costs ~20x LPIPS per point (benchmarks/metric_cost.json), so it is opt-in.
CPU_METRICS = ("psnr", "ms-ssim", "lpips")


def default_metrics(device: str | None) -> tuple[str, ...]:
    """Every metric on CUDA (the named device, or None with a GPU present); without DISTS on CPU."""
    if device is None:
        if not have_torch():  # LPIPS then fails on its own, with the reason, in the report
            return CPU_METRICS
        import torch

        on_gpu = torch.cuda.is_available()
    else:
        on_gpu = str(device).startswith("cuda")
    return ALL_METRICS if on_gpu else CPU_METRICS
CSV_NAME = "per_image.csv"
RUN_NAME = "run.json"

MetricsFn = Callable[..., dict]
Log = Callable[[str], None]


@dataclass
class BenchConfig:
    """Everything that decides what a run measures; `command_line()` reproduces it."""

    data: Path
    out: Path
    codecs: list[str] | None = None  # None: every registered codec
    metrics: tuple[str, ...] = ()  # (): default_metrics(device)
    bpps: tuple[float, ...] | None = None  # target rates instead of quality points
    points: int = 8  # quality points per codec when no bpps are given
    repeat: int = 1  # timed runs per point (median)
    limit: int | None = None
    resume: bool = False
    overwrite: bool = False
    redo: tuple[str, ...] = ()  # codecs whose earlier results are dropped on resume
    anchor: str = ""  # "": the registry's reference codec (the best-ranked classical one)
    threads: int = 1
    device: str | None = None
    speed: bool = True
    speed_repeat: int = 5
    speed_bpp: float = 0.2
    plots: bool = True
    progress: bool = True
    references: tuple[Path, ...] = ()  # published curves (CompressAI JSON) drawn and compared
    ray: str | None = None  # None: this process; "": Ray's default (RAY_ADDRESS or a local instance)

    def __post_init__(self) -> None:
        self.metrics = tuple(self.metrics) or default_metrics(self.device)
        if not self.anchor:
            from .. import registry

            self.anchor = registry.reference_name()

    def command_line(self, *, with_limit: bool = True) -> str:
        """The `gic bench` invocation that reproduces this configuration."""
        d = BenchConfig(self.data, self.out)
        parts = ["gic", "bench", "--data", str(self.data), "--out", str(self.out)]
        if self.codecs is not None:
            parts += ["--codecs", ",".join(self.codecs)]
        if tuple(self.metrics) != d.metrics:
            parts += ["--metrics", ",".join(self.metrics)]
        if self.bpps:
            parts += ["--bpps", ",".join(f"{b:g}" for b in self.bpps)]
        for name, flag in (("points", "--points"), ("repeat", "--repeat"), ("anchor", "--anchor"),
                           ("threads", "--threads"), ("device", "--device"),
                           ("speed_repeat", "--speed-repeat"), ("speed_bpp", "--speed-bpp")):
            if getattr(self, name) != getattr(d, name):
                parts += [flag, str(getattr(self, name))]
        if with_limit and self.limit is not None:
            parts += ["--limit", str(self.limit)]
        if self.references:
            parts += ["--reference", ",".join(str(p) for p in self.references)]
        if self.ray is not None:
            parts += ["--ray"] + ([self.ray] if self.ray else [])
        if not self.speed:
            parts.append("--no-speed")
        if not self.plots:
            parts.append("--no-plots")
        return shlex.join(parts)


@dataclass(frozen=True)
class Target:
    """One point of a codec's curve: a fixed quality, or a target rate searched per image."""

    quality: int | None = None
    bpp: float | None = None

    @property
    def label(self) -> str:
        return f"q={self.quality}" if self.bpp is None else f"bpp={self.bpp:g}"


def quality_points(codec: Codec, n: int) -> list[int]:
    """About `n` qualities, dense at the low-rate end where learned codecs compete.

    Short ranges (a learned codec's 1..S stages) are used whole. Otherwise the points follow
    lo + 0.8 (hi - lo) (i / (n - 1))^1.5: the top fifth of a classical quality scale costs many
    bits and says little about the low-rate comparison. A codec can set `bench_qualities`.
    """
    custom = getattr(codec, "bench_qualities", None)
    if custom:
        return sorted({int(q) for q in custom})
    lo, hi = codec.quality_range
    if hi - lo + 1 <= max(n, 12):
        return list(range(lo, hi + 1))
    n = max(2, n)
    return sorted({round(lo + 0.8 * (hi - lo) * (i / (n - 1)) ** 1.5) for i in range(n)})


def plan(codec: Codec, config: BenchConfig) -> list[Target]:
    if config.bpps:
        return [Target(bpp=b) for b in sorted(config.bpps)]
    return [Target(quality=q) for q in quality_points(codec, config.points)]


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[Any, float, float]:
    """Run fn `repeat` times: (last result, median seconds, extra MiB of the first run)."""
    times = []
    mem = math.nan
    result = None
    for i in range(max(1, repeat)):
        if i == 0:
            with PeakRSS() as peak:
                t0 = time.perf_counter()
                result = fn()
                times.append(time.perf_counter() - t0)
            mem = peak.extra_mb
        else:
            t0 = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t0)
    return result, statistics.median(times), mem


class MetricRunner:
    """Computes the requested metrics; a metric that fails (e.g. missing DISTS weights) is recorded
    as NaN from then on, with the reason kept for the report, instead of stopping the whole run."""

    def __init__(self, metrics: Sequence[str], device: str | None, fn: MetricsFn | None = None):
        self.metrics = list(metrics)
        self.device = device
        self._fn = fn
        self.failed: dict[str, str] = {}

    def _compute(self, ref: np.ndarray, dist: np.ndarray, names: Sequence[str]) -> dict:
        if self._fn is None:  # outside the per-metric fallback: a broken install is not "NaN"
            try:
                from ..metrics import compute
            except ImportError as exc:
                raise BenchError(f"the metrics module cannot be loaded: {exc}") from exc
            self._fn = compute
        return self._fn(ref, dist, metrics=tuple(names), device=self.device)

    @staticmethod
    def _pick(values: dict, name: str) -> float:
        v = values.get(name, values.get(METRIC_KEYS[name]))
        return math.nan if v is None else float(v)

    def __call__(self, ref: np.ndarray, dist: np.ndarray) -> dict[str, float]:
        wanted = [m for m in self.metrics if m not in self.failed]
        out = {m: math.nan for m in self.metrics}
        if not wanted:
            return out
        try:
            values = self._compute(ref, dist, wanted)
            out.update({m: self._pick(values, m) for m in wanted})
        except BenchError:
            raise
        except Exception:  # find out which metric failed, keep the others
            for m in wanted:
                try:
                    out[m] = self._pick(self._compute(ref, dist, [m]), m)
                except Exception as exc:  # noqa: BLE001 - recorded and reported, not swallowed
                    self.failed[m] = f"{type(exc).__name__}: {exc}".splitlines()[0]
        return out


def _check_config(config: BenchConfig, registered: list[str]) -> list[str]:
    unknown = [m for m in config.metrics if m not in METRIC_KEYS]
    if unknown or not config.metrics:
        raise BenchError(f"unknown metric(s) {', '.join(unknown) or '(none given)'}; "
                         f"known: {', '.join(METRIC_KEYS)}")
    codecs = list(config.codecs) if config.codecs else registered
    missing = [c for c in codecs if c not in registered]
    if missing:
        raise BenchError(f"unknown codec(s) {', '.join(missing)}; registered: {', '.join(registered)}")
    if len(set(codecs)) != len(codecs):
        raise BenchError("a codec is listed twice in --codecs")
    if config.bpps is not None and (not config.bpps or any(not b > 0 for b in config.bpps)):
        raise BenchError("--bpps must be positive numbers")
    for name in ("points", "repeat", "threads", "speed_repeat"):
        if getattr(config, name) < 1:
            raise BenchError(f"--{name.replace('_', '-')} must be at least 1")
    if config.resume and config.overwrite:
        raise BenchError("--resume and --overwrite exclude each other")
    return codecs


def _comparable(config: BenchConfig) -> dict[str, Any]:
    """The settings that must match for rows from an earlier run to be mixed with new ones."""
    return {"metrics": list(config.metrics), "bpps": list(config.bpps) if config.bpps else None,
            "points": None if config.bpps else config.points, "repeat": config.repeat,
            "threads": config.threads}


def _load_previous(config: BenchConfig, header: list[str], log: Log) -> list[dict]:
    csv_path = config.out / CSV_NAME
    if not csv_path.exists():
        return []
    if config.overwrite:
        log(f"--overwrite: replacing the results in {config.out}")
        return []
    if not config.resume:
        raise BenchError(f"{csv_path} already exists: pass --resume to continue it or "
                         f"--overwrite to start again")
    run_path = config.out / RUN_NAME
    if run_path.exists():
        import json
        before = json.loads(run_path.read_text(encoding="utf-8")).get("comparable", {})
        now = _comparable(config)
        diff = [k for k in now if k in before and before[k] != now[k]]
        if diff:
            raise BenchError("cannot resume: " + ", ".join(f"{k} was {before[k]}, now {now[k]}"
                                                           for k in diff))
    rows = read_csv(csv_path, header)
    dropped = [r for r in rows if r["codec"] in config.redo]
    if dropped:
        log(f"--redo: dropping {len(dropped)} earlier rows of {', '.join(config.redo)}")
    return [r for r in rows if r["codec"] not in config.redo]


def run_bench(config: BenchConfig, *, metrics_fn: MetricsFn | None = None,
              log: Log = lambda s: print(s, file=sys.stderr)) -> dict[str, Any]:
    """Run (or resume) the benchmark and write every output into `config.out`; returns a summary."""
    from ..registry import create, names

    codec_names = _check_config(config, names())
    references = [load_reference(p) for p in config.references]
    if config.anchor not in codec_names:
        log(f"note: the anchor {config.anchor!r} is not among the codecs of this run, so there is "
            f"no BD-rate (add it to --codecs or choose --anchor)")
    images = list_images(config.data, config.limit)
    header = columns(config.metrics)
    rows = _load_previous(config, header, log)
    config.out.mkdir(parents=True, exist_ok=True)
    done = {(r["image"], r["codec"]) for r in rows}
    started = time.strftime("%Y-%m-%d %H:%M:%S")

    cpus = cpus_for(config.threads)  # what each codec call gets; the (untimed) metrics get all
    options = {"device": config.device} if config.device else {}
    codecs = {n: create(n, **options) for n in codec_names}
    plans = {n: plan(c, config) for n, c in codecs.items()}
    timing = {"sweep_s": 0.0, "points": 0}  # summed over the runs that filled this folder
    if rows and (config.out / RUN_NAME).exists():
        import json
        before = json.loads((config.out / RUN_NAME).read_text(encoding="utf-8"))
        timing.update(before.get("timing", {}))
    run_info = {
        "command": config.command_line(), "started": started, "cpus": cpus,
        "comparable": _comparable(config), "images": [p.name for p in images],
        "plans": {n: [t.label for t in p] for n, p in plans.items()}, "timing": timing,
    }
    write_json(config.out / RUN_NAME, run_info)
    metrics = MetricRunner(config.metrics, config.device, metrics_fn)
    todo = [(img, n) for img in images for n in codec_names if (img.name, n) not in done]
    total = sum(len(plans[n]) for _, n in todo)
    if len(todo) < len(images) * len(codec_names):
        log(f"resuming: {len(images) * len(codec_names) - len(todo)} image/codec pairs done, "
            f"{len(todo)} to go")
    t0 = time.perf_counter()
    if config.ray is not None:
        from .cluster import sweep_on_ray

        run_info["ray"] = sweep_on_ray(config, plans, todo, total, rows, header, metrics.failed, log)
    else:
        _sweep(config, codecs, plans, todo, total, rows, header, metrics)
    timing = {"sweep_s": timing["sweep_s"] + time.perf_counter() - t0,
              "points": timing["points"] + total}
    write_json(config.out / RUN_NAME, {**run_info, "timing": timing})
    speed_rows = _speed(config, codec_names, images, log) if config.speed else []

    return _publish(config, codecs, plans, rows, images, metrics.failed, speed_rows, cpus, log,
                    references, timing)


def _sweep(config: BenchConfig, codecs: dict[str, Codec], plans: dict[str, list[Target]],
           todo: list[tuple[Path, str]], total: int, rows: list[dict], header: list[str],
           metrics: MetricRunner) -> None:
    from tqdm import tqdm

    warmed: set[str] = set()
    cache: tuple[Path | None, np.ndarray | None] = (None, None)
    with tqdm(total=total, unit="pt", disable=not config.progress, dynamic_ncols=True,
              file=sys.stderr) as bar:
        for path, name in todo:
            if cache[0] != path:
                cache = (path, load_rgb(path))
            bar.set_description(f"{path.stem} {name}")
            new = measure_pair(codecs[name], cache[1], plans[name], config.repeat, metrics,
                               image_name=path.name, threads=config.threads, warm=name not in warmed,
                               on_point=lambda: bar.update(1))
            warmed.add(name)
            rows.extend(new)  # the pair is recorded whole or not at all
            write_csv(config.out / CSV_NAME, header, rows)


def measure_pair(codec: Codec, image: np.ndarray, targets: Sequence[Target], repeat: int,
                 metrics: Callable[[np.ndarray, np.ndarray], dict[str, float]], *, image_name: str,
                 threads: int | None, warm: bool, on_point: Callable[[], Any] = lambda: None) -> list[dict]:
    """Every point of one (image, codec) pair, after a warm-up encode and decode if `warm` (the
    codec's first pair in this process), so loading is not billed to the first point."""
    if warm:
        first = targets[0]
        q = first.quality if first.quality is not None else codec.default_quality
        with thread_budget(threads) if threads else nullcontext():
            codec.decode(codec.encode(image, q))
    out = []
    for target in targets:
        out.append(measure_point(codec, image, target, repeat, metrics, image_name=image_name,
                                 threads=threads))
        on_point()
    return out


def measure_point(codec: Codec, image: np.ndarray, target: Target, repeat: int,
                  metrics: Callable[[np.ndarray, np.ndarray], dict[str, float]], *,
                  image_name: str = "", threads: int | None = None) -> dict[str, Any]:
    """Encode and decode `image` at one target and return its CSV row.

    Codec calls run on `threads` CPUs (see `speed.thread_budget`); the metrics afterwards on all.
    """
    with thread_budget(threads) if threads else nullcontext():
        if target.bpp is not None:
            _, quality = codec.encode_to_bpp(image, target.bpp)  # the search itself is not timed
        else:
            quality = int(target.quality)
        data, enc_s, enc_mb = _timed(lambda: codec.encode(image, quality), repeat)
        decoded, dec_s, dec_mb = _timed(lambda: codec.decode(data), repeat)
    if decoded.shape != image.shape:
        raise GicError(f"{codec.name} decoded a {decoded.shape[1]}x{decoded.shape[0]} image from "
                       f"a {image.shape[1]}x{image.shape[0]} one ({image_name})")
    h, w = image.shape[:2]
    row: dict[str, Any] = {"image": image_name, "width": w, "height": h, "codec": codec.name,
                           "target": target.label, "quality": quality, "bytes": len(data),
                           "bpp": len(data) * 8 / (w * h)}
    row.update({METRIC_KEYS[m]: v for m, v in metrics(image, decoded).items()})
    row.update({"encoding_time": enc_s, "decoding_time": dec_s, "encoding_mem_mb": enc_mb,
                "decoding_mem_mb": dec_mb})
    return row


def _speed(config: BenchConfig, codec_names: list[str], images: list[Path], log: Log) -> list[dict]:
    from ..registry import names
    from .speed import measure_speed, with_ratios

    run = list(codec_names)
    if config.anchor not in run and config.anchor in names():
        run.insert(0, config.anchor)  # ratios need the anchor timed in the same run
    image = speed_image(load_rgb(images[0]))
    log(f"speed: {len(run)} codecs on {images[0].name} resized to {image.shape[1]}x{image.shape[0]}, "
        f"{config.speed_repeat} runs each, {config.threads} thread(s), one process per codec")

    def done(r: dict) -> None:
        if "error" in r:
            log(f"  {r['codec']}: FAILED {r['error']}")
        else:
            log(f"  {r['codec']}: encode {r['encoding_time'] * 1000:.1f} ms, decode "
                f"{r['decoding_time'] * 1000:.1f} ms, peak RSS {r['peak_rss_mb']:.0f} MiB")

    rows = measure_speed(run, image, bpp=config.speed_bpp, repeat=config.speed_repeat,
                         threads=config.threads, device=config.device, on_done=done)
    for r in rows:
        r["image"] = images[0].name
    return with_ratios(rows, config.anchor)


def load_reference(path: Path) -> dict[str, Any]:
    """A published curve in CompressAI's JSON shape, checked enough to plot and compare it."""
    import json
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        name, results = str(data["name"]), data["results"]
        bpp = [float(b) for b in results["bpp"]]
        for key, values in results.items():
            if len(values) != len(bpp):
                raise ValueError(f"'{key}' has {len(values)} values for {len(bpp)} rates")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BenchError(f"cannot use reference curve {path}: {exc}") from None
    return {"name": name, "description": str(data.get("description", "")), "published": True,
            "results": results}


def bd_table(curves: dict[str, dict], anchor: str, metrics: Sequence[str]) -> dict[str, dict]:
    """BD-rate (%) of every codec against `anchor` per metric; None where it cannot be computed."""
    table: dict[str, dict] = {}
    ref = curves.get(anchor)
    for name, c in curves.items():
        table[name] = {}
        for m in metrics:
            key = METRIC_KEYS[m]
            value = None
            if ref is not None:
                pts = [(b, v) for b, v in zip(c["results"]["bpp"], c["results"].get(key, []))
                       if v is not None]
                ref_pts = [(b, v) for b, v in zip(ref["results"]["bpp"], ref["results"].get(key, []))
                           if v is not None]
                try:
                    got = bd_rate([p[0] for p in ref_pts], [p[1] for p in ref_pts],
                                  [p[0] for p in pts], [p[1] for p in pts],
                                  higher_better=higher_is_better(m))
                    value = None if math.isnan(got) else got
                except BDRateError:
                    value = None
            table[name][key] = value
    return table


def _publish(config: BenchConfig, codecs: dict[str, Codec], plans: dict[str, list[Target]],
             rows: list[dict], images: list[Path], failed: dict[str, str], speed_rows: list[dict],
             cpus: int, log: Log, references: Sequence[dict] = (),
             timing: dict[str, float] | None = None) -> dict[str, Any]:
    from .report import write_report

    # Averages only over the images of this run (rows of images beyond --limit stay in the CSV).
    names_in_run = {p.name for p in images}
    used = [r for r in rows if r["image"] in names_in_run]
    curves = {}
    for name, codec in codecs.items():
        curve = average_results(used, name, config.metrics, [t.label for t in plans[name]],
                                codec.description)
        if curve["targets"]:
            curves[name] = curve
            write_json(config.out / "rd" / f"{name}.json", curve)
    table = bd_table({**curves, **{r["name"]: r for r in references}}, config.anchor,
                     config.metrics)
    write_json(config.out / "bdrate.json", {"anchor": config.anchor, "unit": "percent",
                                            "method": "Bjontegaard, PCHIP on log-rate",
                                            "bd_rate": table})
    header = ["codec"] + [METRIC_KEYS[m] for m in config.metrics]
    write_csv(config.out / "bdrate.csv", header,
              [{"codec": n, **{k: (math.nan if v is None else v) for k, v in t.items()}}
               for n, t in table.items()])
    if speed_rows:
        write_json(config.out / "speed.json", {"threads": config.threads, "cpus": cpus,
                                               "anchor": config.anchor, "results": speed_rows})
    plots = []
    if config.plots and not plotting_available():
        log("plots skipped: matplotlib is not installed (pip install matplotlib)")
        failed = {**failed, "plots": "skipped: matplotlib is not installed"}
    elif config.plots:
        from .plots import plot_rd, plot_speed
        n = len({r["image"] for r in used})
        for m in config.metrics:
            path = config.out / "plots" / f"rd-{m}.png"
            title = f"{config.data.name}: {n} image{'' if n == 1 else 's'}"
            ours = [n for n, c in codecs.items() if getattr(c, "progressive", False)]
            if plot_rd([*curves.values(), *references], m, path, title=title, emphasis=ours):
                plots.append(path)
        if speed_rows and plot_speed(speed_rows, config.out / "plots" / "speed.png",
                                     title=f"768x512, median of {config.speed_repeat}, "
                                           f"{config.threads} thread(s)"):
            plots.append(config.out / "plots" / "speed.png")
    summary = {"curves": curves, "references": list(references), "bd_rate": table, "speed": speed_rows, "not_computed": failed,
               "plots": plots, "rows": len(used), "images": len({r["image"] for r in used}),
               "config": config, "timing": timing or {}}
    text = write_report(config, summary, cpus)
    log(text)
    return summary
