"""`gic bench --ray [ADDRESS]`: the rate-distortion sweep spread over a Ray cluster.

One Ray task per (image, codec) pair, the unit the local run journals: the task encodes, decodes
and measures every point of that pair and returns its CSV rows, which the driver writes into the
same `per_image.csv` as each pair finishes (in the order a local run writes them), so `--resume`
and `--limit` work exactly as they do locally. Images travel as their file bytes through Ray's
object store (put once per image, freed when its pairs are done): workers need gic installed, not
the image folder. Each worker process keeps its codecs (weights load once) and its metric
networks, and the metrics' reference-feature cache means an original's LPIPS/DISTS features are
computed once per worker, not once per point.

What differs from a local run: the timing columns. Codec calls in a task are not pinned to CPUs
(workers share a node; pinning them all to its first CPU would serialise them), only torch's
thread pool is sized to `--threads`. The speed table is still measured on the driver's machine.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from ..fileio import read_bytes
from .records import BenchError, write_csv

#: Per worker process: codecs by (name, device), the codecs already warmed up, metric runners.
_WORKER: dict[str, Any] = {"codecs": {}, "warmed": set(), "metrics": {}}


def import_ray():
    """The `ray` module, or a BenchError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise BenchError("--ray needs Ray: pip install 'gic[ray]' (or pip install ray)") from None
    return ray


def measure_remote(data: bytes, image_name: str, codec_name: str, targets: Sequence[Any], repeat: int,
                   metric_names: Sequence[str], device: str | None, threads: int) -> tuple[list[dict], dict]:
    """The body of one Ray task: every point of (image, codec); returns (rows, metrics that failed)."""
    import torch

    from ..imageio import decode_image
    from ..registry import create
    from .runner import MetricRunner, measure_pair

    torch.set_num_threads(max(1, threads))
    key = (codec_name, device)
    if key not in _WORKER["codecs"]:
        _WORKER["codecs"][key] = create(codec_name, **({"device": device} if device else {}))
    metrics = _WORKER["metrics"].setdefault((tuple(metric_names), device), MetricRunner(metric_names, device))
    image = decode_image(data, image_name)
    rows = measure_pair(_WORKER["codecs"][key], image, targets, repeat, metrics, image_name=image_name,
                        threads=None, warm=key not in _WORKER["warmed"])
    _WORKER["warmed"].add(key)
    return rows, dict(metrics.failed)


def _one_line(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None) or exc
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[-1] if text else ''}"


def sweep_on_ray(config, plans: dict[str, list], todo: list[tuple[Path, str]], total: int,
                 rows: list[dict], header: list[str], failed: dict[str, str],
                 log: Callable[[str], None]) -> dict[str, Any]:
    """Run the `todo` pairs as Ray tasks, extending `rows` and rewriting the CSV as each pair
    finishes; metric failures reported by workers go into `failed`. Returns what ran where."""
    from tqdm import tqdm

    from .runner import CSV_NAME

    ray = import_ray()
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(address=config.ray or None, include_dashboard=False, log_to_driver=False)
        except Exception as exc:  # noqa: BLE001 - no cluster at that address, bad address...
            raise BenchError(f"cannot start or reach Ray at {config.ray or 'a local instance'}: "
                             f"{_one_line(exc)}") from None
    cpus = int(ray.cluster_resources().get("CPU", 1))
    nodes = len([n for n in ray.nodes() if n.get("Alive")])
    log(f"ray: {len(todo)} image/codec pairs as tasks on {cpus} CPUs, {nodes} node(s), "
        f"{config.threads} CPU(s) per task")
    task = ray.remote(num_cpus=config.threads)(measure_remote)
    base = list(rows)
    finished: dict[tuple[Path, str], list[dict]] = {}
    left = {p: sum(1 for q, _ in todo if q == p) for p, _ in todo}  # pairs still to finish per image
    images: dict[Path, Any] = {}
    pending: dict[Any, tuple[Path, str]] = {}
    window = max(2, 2 * cpus // max(1, config.threads))  # tasks in flight: bounds the object store
    queue = list(todo)
    try:
        with tqdm(total=total, unit="pt", disable=not config.progress, dynamic_ncols=True,
                  file=sys.stderr) as bar:
            while queue or pending:
                while queue and len(pending) < window:
                    path, name = queue.pop(0)
                    if path not in images:
                        images[path] = ray.put(read_bytes(path))
                    ref = task.remote(images[path], path.name, name, plans[name], config.repeat,
                                      tuple(config.metrics), config.device, config.threads)
                    pending[ref] = (path, name)
                done, _ = ray.wait(list(pending), num_returns=1)
                pair = pending.pop(done[0])
                try:
                    new, worker_failed = ray.get(done[0])
                except Exception as exc:  # noqa: BLE001 - a task raised: stop like a local run
                    raise BenchError(f"{pair[0].name} with {pair[1]}: {_one_line(exc)}") from None
                for metric, why in worker_failed.items():
                    failed.setdefault(metric, why)
                finished[pair] = new
                left[pair[0]] -= 1
                if not left[pair[0]]:
                    images.pop(pair[0], None)  # its bytes leave the object store
                rows[:] = base + [r for p in todo if p in finished for r in finished[p]]
                write_csv(config.out / CSV_NAME, header, rows)
                bar.set_description(f"ray {len(finished)}/{len(todo)} pairs")
                bar.update(len(new))
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()
    return {"address": config.ray or "local", "cpus": cpus, "nodes": nodes}
