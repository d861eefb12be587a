"""The benchmark's files: the per-image CSV (also the resume journal) and CompressAI-style JSON.

The CSV is rewritten atomically after each finished (image, codec) pair, so an interrupted run leaves
only complete pairs behind and `--resume` can skip exactly those.
"""
from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..errors import GicError
from ..fileio import write_atomic as _write_atomic

#: Column names of the metrics in the CSV and in the JSON "results" (CompressAI's spelling).
METRIC_KEYS = {"psnr": "psnr-rgb", "ms-ssim": "ms-ssim", "lpips": "lpips", "dists": "dists"}
BASE_COLUMNS = ["image", "width", "height", "codec", "target", "quality", "bytes", "bpp"]
TAIL_COLUMNS = ["encoding_time", "decoding_time", "encoding_mem_mb", "decoding_mem_mb"]
_INT_COLUMNS = {"width", "height", "quality", "bytes"}
_STR_COLUMNS = {"image", "codec", "target"}


class BenchError(GicError):
    """The benchmark cannot go on (bad options, mismatched results to resume, missing data)."""


def columns(metrics: Sequence[str]) -> list[str]:
    """CSV header for a run that computes `metrics` (in that order)."""
    return BASE_COLUMNS + [METRIC_KEYS[m] for m in metrics] + TAIL_COLUMNS


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write a whole file atomically (creating its folder), so readers never see half of it."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, text.encode("utf-8") if isinstance(text, str) else text)


def _format(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return str(value)


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Write rows (dicts keyed by header names) atomically."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_format(row[c]) for c in header])
    write_atomic(path, buf.getvalue())


def read_csv(path: Path, header: Sequence[str]) -> list[dict[str, Any]]:
    """Read a per-image CSV written by a run with the same header (else BenchError)."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        try:
            found = next(reader)
        except StopIteration:
            return []
        if list(found) != list(header):
            raise BenchError(f"{path} has columns {','.join(found)}; this run writes "
                             f"{','.join(header)} (same --metrics needed to resume)")
        rows = []
        for values in reader:
            if len(values) != len(header):
                raise BenchError(f"{path} line {reader.line_num} has {len(values)} fields, "
                                 f"expected {len(header)}")
            row: dict[str, Any] = {}
            for name, text in zip(header, values):
                if name in _STR_COLUMNS:
                    row[name] = text
                elif name in _INT_COLUMNS:
                    row[name] = int(text)
                else:
                    row[name] = float(text)
            rows.append(row)
    return rows


def _mean(values: list[float]) -> float | None:
    """Mean, or None when any value is NaN or infinite (e.g. PSNR of a lossless point)."""
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if len(finite) == len(values) and finite else None


def average_results(rows: Sequence[Mapping[str, Any]], codec: str, metrics: Sequence[str],
                    targets: Sequence[str], description: str = "") -> dict[str, Any]:
    """CompressAI-style results for one codec: each list holds one value per target, averaged
    over the images that have it. A metric that is NaN for any image at a point is null there."""
    by_target: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["codec"] == codec:
            by_target[row["target"]].append(row)
    present = [t for t in targets if by_target.get(t)]
    keys = ["bpp"] + [METRIC_KEYS[m] for m in metrics] + ["encoding_time", "decoding_time"]
    results: dict[str, list] = {k: [] for k in keys}
    for t in present:
        for k in keys:
            results[k].append(_mean([float(r[k]) for r in by_target[t]]))
    return {
        "name": codec,
        "description": description,
        "targets": present,
        "quality": [_mean([float(r["quality"]) for r in by_target[t]]) for t in present],
        "num_images": [len(by_target[t]) for t in present],
        "results": results,
    }


def write_json(path: Path, data: Any) -> None:
    """Pretty JSON, atomically (NaN is not valid JSON: callers store None instead)."""
    write_atomic(path, json.dumps(data, indent=2, allow_nan=False) + "\n")
