"""`gic bench`: argument parsing for the benchmark; gic.cli mounts it as a subcommand."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import GicError
from .runner import ALL_METRICS, CPU_METRICS, BenchConfig, run_bench

#: What each metric costs, from benchmarks/metric_cost.json (python benchmarks/metric_cost.py
#: --image kodim01.png --threads 1 --repeat 3, on the 2-core CPU the project runs on).
METRICS_HELP = (
    f"comma-separated subset of {','.join(ALL_METRICS)} (default: {','.join(CPU_METRICS)} on CPU, "
    "all four on CUDA). Cost per 768x512 point on one CPU thread: psnr ~1 ms; ms-ssim 0.4 s; "
    "lpips 0.5 s, 0.24 s once the original's features are cached (every point after an "
    "image's first); dists 10 s, 5.1 s cached (VGG16 at full resolution; 24 images x 14 codecs x 8 "
    "points: 3.8 h even cached); a GPU makes them all fast")


def _list(text: str) -> list[str]:
    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return items


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(s) for s in _list(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the bench options to `parser` (a subparser of `gic`, or a standalone parser)."""
    parser.add_argument("--data", type=Path, required=True, help="folder of images (e.g. Kodak)")
    parser.add_argument("--out", type=Path, required=True,
                        help="output folder: CSV, JSON, plots and README.md")
    parser.add_argument("--codecs", type=_list, default=None,
                        help="comma-separated codec names (default: every registered codec)")
    parser.add_argument("--metrics", type=_list, default=None, help=METRICS_HELP)
    parser.add_argument("--bpps", type=_floats, default=None,
                        help="target rates, e.g. 0.05,0.1,0.2 (quality searched per image) "
                             "instead of fixed quality points")
    parser.add_argument("--points", type=int, default=8, help="quality points per codec (default 8)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="timed runs per point, median reported (default 1)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N images")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted run from OUT/per_image.csv")
    parser.add_argument("--overwrite", action="store_true", help="discard results already in OUT")
    parser.add_argument("--redo", type=_list, default=[],
                        help="with --resume: measure these codecs again (after a codec changed)")
    parser.add_argument("--anchor", default="", help="BD-rate and speed reference (default: the "
                        "best-ranked classical codec in 'gic codecs')")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPUs (and torch threads) every codec may use (default 1)")
    parser.add_argument("--device", default=None, help="torch device for learned codecs and metrics")
    parser.add_argument("--no-speed", dest="speed", action="store_false",
                        help="skip the speed table")
    parser.add_argument("--speed-repeat", type=int, default=5,
                        help="timed runs per codec in the speed table (default 5)")
    parser.add_argument("--speed-bpp", type=float, default=0.2,
                        help="rate the speed table encodes at (default 0.2)")
    parser.add_argument("--reference", type=_list, default=[],
                        help="published curves (CompressAI-style JSON files, comma-separated) to "
                             "draw and compare; they are labelled as not measured here")
    parser.add_argument("--no-plots", dest="plots", action="store_false", help="skip the PNG plots")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar")


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    return BenchConfig(
        data=args.data, out=args.out, codecs=args.codecs, metrics=tuple(args.metrics or ()),
        bpps=args.bpps, points=args.points, repeat=args.repeat, limit=args.limit,
        resume=args.resume, overwrite=args.overwrite, redo=tuple(args.redo), anchor=args.anchor,
        threads=args.threads, device=args.device, speed=args.speed,
        speed_repeat=args.speed_repeat, speed_bpp=args.speed_bpp, plots=args.plots,
        progress=args.progress, references=tuple(Path(p) for p in args.reference))


def run(args: argparse.Namespace) -> int:
    """Run the benchmark; 0 on success, 2 with a one-line message on bad input."""
    try:
        run_bench(config_from_args(args))
    except GicError as exc:
        print(f"gic bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gic bench: interrupted; rerun with --resume to continue", file=sys.stderr)
        return 130
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gic bench", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
