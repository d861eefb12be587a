"""`gic`: encode, decode, inspect and measure images from the command line.

The contract other parts and users rely on: every bad input (missing file, not an image, corrupt
or truncated .gic, bad option) ends in exactly one line `gic: error: <message>` on stderr and exit
status 2, never a traceback (`--debug` shows it). Ctrl-C exits with 130. Long work shows a
progress bar when stderr is a terminal.

`view`, `bench` and `train` live in their own modules (each exposing `add_arguments(parser)` and
`run(args) -> int`), imported only when that subcommand runs, so `gic info` never loads Qt or torch.
Codec choices come from the registry's specs (`gic.codecs.registry`), never from codec names here:
`gic codecs` lists specs without building a codec, and `gic train` runs the trainer a spec names.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from gic.codecs.names import METRICS as ALL_METRICS

if TYPE_CHECKING:
    from gic.codecs.opening import OpenedFile

PROG = "gic"

#: Subcommands implemented elsewhere: name → (module, one-line help). An empty module is found in
#: the codec specs when the command runs (`train`: the trainer of the chosen learned family).
LAZY_COMMANDS = {
    "view": ("gic.app.view_command", "open images and .gic files in the viewer"),
    "bench": ("gic.codecs.bench.command", "rate-distortion and speed benchmark over a folder of images"),
    "train": ("", "train a learned codec's model (--family NAME), or export its weights"),
    "thumbnail": ("gic.cli.thumbnail", "write a small PNG of a file from its first layers"),
    "install-desktop": ("gic.cli.desktop_install", "register the viewer and .gic files with the desktop (Linux)"),
}


class UsageError(Exception):
    """A bad command line (argparse's errors and our own option checks)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        # argparse would print the usage block and exit; the contract is one line, handled in main().
        raise UsageError(f"{message} (see '{self.prog} --help')")


class _VersionAction(argparse.Action):
    """`--version`, looked up only when asked: importlib.metadata costs 60-80 ms of every cold start."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0,
                         help=help or "show the version and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog} {_version()}")  # to stdout, as argparse's "version" action
        parser.exit()


# -- helpers ------------------------------------------------------------------------------------
def _device(text: str) -> str:
    if text == "cpu" or text == "cuda" or (text.startswith("cuda:") and text[5:].isdigit()):
        return text
    raise argparse.ArgumentTypeError(f"expected cpu, cuda or cuda:N, got {text!r}")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _metric_list(text: str) -> tuple[str, ...]:
    names = tuple(s.strip().lower() for s in text.split(",") if s.strip())
    bad = [n for n in names if n not in ALL_METRICS]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {','.join(ALL_METRICS)}")
    return names


@contextlib.contextmanager
def progress_bar(desc: str, total: int = 1000) -> Iterator[Callable[[float], bool] | None]:
    """A `progress(fraction)` callback drawing a tqdm bar on stderr, or None when not a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, file=sys.stderr, leave=False,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}")

    def update(fraction: float) -> bool:
        bar.n = max(0, min(total, round(fraction * total)))
        bar.refresh()
        return False  # never asks to cancel: Ctrl-C does that

    try:
        yield update
    finally:
        bar.close()


def _note(message: str) -> None:
    print(f"{PROG}: note: {message}", file=sys.stderr)


def _size(w: int, h: int) -> str:
    return f"{w}x{h}"


def _bpp(num_bytes: int, w: int, h: int) -> float:
    return num_bytes * 8.0 / (w * h)


def default_codec() -> str:
    """The registry's best-ranked codec (a learned one when installed)."""
    from gic.codecs import registry

    return registry.default_name()


def trainers() -> dict[str, str]:
    """Family → module of its `gic train`, for every registered family that trains, best first."""
    from gic.codecs import registry

    out: dict[str, str] = {}
    for spec in registry.suggested():
        if spec.trainer and spec.family not in out:
            out[spec.family] = spec.trainer
    return out


def _trainer_module(argv: list[str]) -> str:
    """The trainer `gic train [--family NAME]` runs: the named family's, else the best-ranked one."""
    found = trainers()
    family = None
    for i, arg in enumerate(argv):
        if arg == "--family" and i + 1 < len(argv):
            family = argv[i + 1]
        elif arg.startswith("--family="):
            family = arg.split("=", 1)[1]
    if family is None:
        if not found:
            raise UsageError("no installed codec family can be trained")
        return next(iter(found.values()))
    if family not in found:
        raise UsageError(f"no trainable codec family {family!r}; known: {', '.join(found) or 'none'}")
    return found[family]


def load_any(path: str, device: str | None = None) -> Any:
    """Pixels of any file gic knows: a .gic, a downscaled-codec file, or an image Pillow reads."""
    from gic.codecs import opening

    return opening.open_path(path).decode(device or "cpu")


# -- encode -------------------------------------------------------------------------------------
def cmd_encode(args: argparse.Namespace) -> int:
    from gic.codecs import fileio, imageio, provenance, registry

    if Path(args.input).is_dir():
        return cmd_batch(args, "encode")
    _single_file(args)
    if args.background_quality is not None and args.roi is None:
        raise UsageError("--background-quality needs --roi")
    name = args.codec or default_codec()
    _check_quality(name, args.quality)  # cheap checks first: before the model loads or pixels decode
    fileio.check_writable(args.output)
    loaded = imageio.load_image_info(args.input)
    image = loaded.pixels
    if loaded.alpha_flattened:
        _note(imageio.alpha_note(Path(args.input).name))
    h, w = image.shape[:2]
    codec = registry.create(name, device=args.device)
    roi = imageio.load_mask(args.roi) if args.roi is not None else None
    with progress_bar(f"encoding with {name}") as progress:
        encoded = provenance.encode(codec, image, quality=args.quality, bpp=args.bpp, roi=roi,
                                    background_quality=args.background_quality, progress=progress,
                                    source=args.input, metadata=not args.no_metadata)
    data, quality = encoded.data, encoded.quality
    fileio.write_atomic(args.output, data)
    suffix = Path(args.output).suffix.lower()
    if suffix != codec.extension.lower():
        _note(f"{name} files usually end in {codec.extension}, not {suffix or 'no suffix'}")
    parts = [f"codec {name}"]
    if quality is not None:
        parts.append(f"quality {quality}")
    if args.bpp is not None:
        parts.append(f"target {args.bpp:g} bpp")
    if roi is not None:
        parts.append(f"ROI {int(roi.sum())} px")
    print(f"wrote {args.output}: {', '.join(parts)}, {len(data)} bytes, "
          f"{_bpp(len(data), w, h):.4f} bpp ({_size(w, h)})")
    return 0


def _check_quality(name: str, quality: int | None) -> None:
    """--quality against the codec's spec (no codec is built; an unknown name fails here too)."""
    from gic.codecs import registry

    spec = registry.spec(name)
    lo, hi = spec.quality_range
    if quality is not None and not lo <= quality <= hi:
        raise UsageError(f"--quality for {name} must be in [{lo}, {hi}], got {quality}")


# -- decode -------------------------------------------------------------------------------------
def cmd_decode(args: argparse.Namespace) -> int:
    from gic.codecs import fileio, imageio, opening
    from gic.codecs.errors import CodecError

    if args.layers is not None and args.layers < 1:
        raise UsageError(f"--layers must be at least 1, got {args.layers}")
    if Path(args.input).is_dir():
        return cmd_batch(args, "decode")
    _single_file(args)
    if Path(args.output).suffix.lower() != ".png":
        raise UsageError(f"the output must be a .png file, got {args.output}")
    fileio.check_writable(args.output)
    opened = opening.open_path(args.input)  # validates a .gic; tolerates a cut after whole layers
    data = opened.data
    extra = ""
    if opened.is_gic:
        gic = opened.gic
        header = gic.header
        codec = opened.codec_instance(args.device)
        present = len(gic.layers)
        want = present if args.layers is None else min(args.layers, present)
        image, used = None, 0
        with progress_bar(f"decoding {header.codec}") as progress:
            if want >= present:  # everything there is: one render, not one per layer
                image, used = codec.decode(data), present
            else:
                for preview in codec.decode_progressive(data):
                    image, used = preview.image, preview.layer
                    if progress is not None:
                        progress(preview.layer / max(1, want))
                    if preview.layer >= want:
                        break
        if image is None:
            raise CodecError(f"{args.input} holds no layer to decode")
        what = f"{header.codec}, layers {used} of {header.num_layers}"
        if gic.partial:
            _note(f"{args.input} is partial: it holds {present} of the {header.num_layers} layers "
                  f"its header announces")
        if args.layers is not None and args.layers > present:
            _note(f"asked for {args.layers} layers, the file holds {present}")
        extra = f", {_bpp(gic.layer_offsets[used - 1], header.width, header.height):.4f} bpp read" \
            if used and gic.layer_offsets else ""
    else:
        if args.layers is not None and args.layers != 1:
            raise CodecError(f"{args.input} is not a progressive .gic file: --layers does not apply")
        image = opened.decode(args.device)
        what = opened.codec if opened.kind == "wrapped" else opened.format()
    imageio.save_png(args.output, image)
    h, w = image.shape[:2]
    print(f"wrote {args.output}: {_size(w, h)} from {args.input} ({what}{extra})")
    return 0


# -- folders ------------------------------------------------------------------------------------
def _single_file(args: argparse.Namespace) -> None:
    if args.jobs != 1:
        raise UsageError("--jobs applies when IN is a folder")


def cmd_batch(args: argparse.Namespace, verb: str) -> int:
    """`gic encode DIR OUTDIR` / `gic decode DIR OUTDIR`: every file, a worker pool, a summary."""
    import time

    from gic.codecs import batch

    if getattr(args, "roi", None) is not None:
        raise UsageError("--roi applies to one image, not a folder")
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    if verb == "encode":
        name = args.codec or default_codec()
        plan = batch.plan_encode(args.input, args.output, name, force=args.force)
        settings: batch.Settings = batch.EncodeSettings(name, args.quality, args.bpp, args.device,
                                                        metadata=not args.no_metadata)
    else:
        plan = batch.plan_decode(args.input, args.output, force=args.force)
        settings = batch.DecodeSettings(args.layers, args.device)
    done_verb = f"{verb}d"
    t0 = time.perf_counter()
    with _batch_progress(plan.total, verb) as report:
        results = batch.run(plan, settings, jobs=args.jobs, on_result=report)
    print(batch.summary_table(results, time.perf_counter() - t0, verb=done_verb))
    failed = [r for r in results if r.status == "failed"]
    if failed:
        print(f"{PROG}: error: {len(failed)} of {len(results)} files failed (listed above)", file=sys.stderr)
        return 2
    return 0


@contextlib.contextmanager
def _batch_progress(total: int, verb: str) -> Iterator[Callable[[Any], None]]:
    """A per-file callback: a tqdm bar with ETA on a terminal, else one line per file with an ETA;
    failures always get their own `gic: error: FILE: reason` line on stderr."""
    import time

    t0, count = time.perf_counter(), [0, 0]  # files seen, of which processed (not settled up front)
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=total, desc=verb, unit="file", file=sys.stderr, leave=False)

    def report(result: Any) -> None:
        count[0] += 1
        if result.status != "skipped":
            count[1] += 1
        line = None
        if result.status == "failed":
            name = result.source.name
            line = f"{PROG}: error: " + (result.detail if name in result.detail else f"{name}: {result.detail}")
        elif bar is None:
            elapsed = time.perf_counter() - t0
            left = total - count[0]
            eta = elapsed / count[1] * left if count[1] and result.status == "done" else None
            what = (f"{result.output.name}, {result.bytes_out} bytes, {result.seconds:.1f} s"
                    if result.status == "done" else f"skipped: {result.detail}")
            line = f"[{count[0]}/{total}] {result.source.name} -> {what}" + \
                (f", ETA {eta:.0f} s" if eta is not None else "")
        note = f"{PROG}: note: {result.note}" if getattr(result, "note", "") else None
        for text in (line, note):
            if text and bar is not None:
                bar.write(text, file=sys.stderr)
            elif text:
                print(text, file=sys.stderr)
        if bar is not None:
            bar.update(1)

    try:
        yield report
    finally:
        if bar is not None:
            bar.close()


# -- info ---------------------------------------------------------------------------------------
def gic_info(opened: "OpenedFile") -> dict[str, Any]:
    """Everything the container says about a .gic file, as plain JSON-able values."""
    gic, data = opened.gic, opened.data
    h = gic.header
    pixels = h.width * h.height
    layers = []
    for k, (payload, end) in enumerate(zip(gic.layers, gic.layer_offsets), start=1):
        layers.append({"layer": k, "bytes": len(payload), "end_offset": end,
                       "bpp_through": round(end * 8.0 / pixels, 6)})
    roi = None
    if gic.roi is not None:
        covered = int(gic.roi.sum())
        roi = {"pixels": covered, "fraction": round(covered / pixels, 6), **_roi_bits(opened)}
    return {
        "file": opened.name, "type": "gic", "format_version": h.version, "bytes": len(data),
        "width": h.width, "height": h.height, "bpp": round(_bpp(len(data), h.width, h.height), 6),
        "codec": h.codec, "model_id": h.model_id, "model_hash": h.model_hash.hex(),
        "num_layers": h.num_layers, "layers_present": len(gic.layers), "partial": gic.partial,
        "incomplete_tail_bytes": len(data) - gic.total_bytes,
        "layers": layers, "roi": roi, "params": gic.params, "metadata": gic.metadata,
    }


def _roi_bits(opened: "OpenedFile") -> dict[str, Any]:
    """Bits inside/outside the stored ROI as the file's codec reports them (the viewer's numbers);
    nulls, and why, when its codec is not installed or cannot tell."""
    from gic.codecs.base import roi_bits, roi_share
    from gic.codecs.errors import GicError

    try:
        split = roi_bits(opened.codec_instance("cpu"), opened.data)
    except GicError as exc:
        return {"inside_bits": None, "outside_bits": None, "inside_share": None,
                "bits_note": _one_line(exc)}
    if split is None:
        return {"inside_bits": None, "outside_bits": None, "inside_share": None,
                "bits_note": f"{opened.codec} does not report its ROI bits"}
    return {"inside_bits": split[0], "outside_bits": split[1], "inside_share": round(roi_share(split), 6)}


def image_info(opened: "OpenedFile") -> dict[str, Any]:
    """Format, size and rate of a non-.gic file."""
    from gic.codecs import imageio

    path, data = opened.name, opened.data
    if opened.kind == "wrapped":
        w, h = opened.reader.image_size(data)  # from headers: info never decodes pixels
        inner = imageio.probe(opened.reader.stored_image(data), path)
        return {"file": path, "type": "image", "format": opened.format(),
                "codec": opened.codec, "width": w, "height": h,
                "stored_width": inner.width, "stored_height": inner.height, "mode": inner.mode,
                "bytes": len(data), "bpp": round(_bpp(len(data), w, h), 6)}
    info = imageio.probe(data, path)
    return {"file": path, "type": "image", "format": info.format, "codec": opened.codec or None,
            "width": info.width, "height": info.height, "mode": info.mode, "bytes": len(data),
            "bpp": round(info.bpp, 6)}


def _print_info(info: dict[str, Any]) -> None:
    def row(key: str, value: Any) -> None:
        print(f"{key:<15} {value}")

    row("file", info["file"])
    if info["type"] != "gic":
        row("format", info["format"] + (f" (codec {info['codec']})" if info.get("codec") else ""))
        row("size", _size(info["width"], info["height"]))
        if "stored_width" in info:
            row("stored size", _size(info["stored_width"], info["stored_height"]))
        row("mode", info["mode"])
        row("bytes", info["bytes"])
        row("bpp", f"{info['bpp']:.4f}")
        return
    row("format", f".gic version {info['format_version']}")
    row("size", _size(info["width"], info["height"]))
    row("codec", info["codec"])
    row("model", f"{info['model_id'] or '-'} (weights {info['model_hash'][:16]})")
    row("bytes", info["bytes"])
    row("bpp", f"{info['bpp']:.4f}")
    state = "partial" if info["partial"] else "complete"
    row("layers", f"{info['layers_present']} of {info['num_layers']} ({state})")
    if info["incomplete_tail_bytes"]:
        row("", f"{info['incomplete_tail_bytes']} bytes after the last complete chunk (cut short)")
    for layer in info["layers"]:
        print(f"  layer {layer['layer']:>3}  {layer['bytes']:>9} bytes   "
              f"{layer['bpp_through']:.4f} bpp through this layer")
    roi = info["roi"]
    row("ROI", "none" if roi is None else f"{roi['pixels']} px ({100 * roi['fraction']:.1f}% of the image)")
    if roi is not None:
        if roi["inside_bits"] is None:
            row("ROI bits", f"unknown ({roi['bits_note']})")
        else:
            row("ROI bits", f"{roi['inside_bits']:,} inside ({100 * roi['inside_share']:.0f}%), "
                            f"{roi['outside_bits']:,} outside (of {8 * info['bytes']:,} in the file)")
    row("params", json.dumps(info["params"], sort_keys=True))
    row("metadata", json.dumps(info["metadata"], sort_keys=True))


def cmd_info(args: argparse.Namespace) -> int:
    from gic.codecs import opening

    opened = opening.open_path(args.file)
    info = gic_info(opened) if opened.is_gic else image_info(opened)
    if args.json:
        print(json.dumps(info, indent=2, allow_nan=False))  # strict JSON (the reader is strict too)
    else:
        _print_info(info)
    return 0


# -- metrics ------------------------------------------------------------------------------------
def cmd_metrics(args: argparse.Namespace) -> int:
    from gic.codecs import metrics
    from gic.codecs.errors import CodecError, GicError

    ref = load_any(args.ref, args.device)
    dist = load_any(args.dist, args.device)
    if ref.shape != dist.shape:
        raise CodecError(f"the images differ in size: {args.ref} is {_size(ref.shape[1], ref.shape[0])}, "
                         f"{args.dist} is {_size(dist.shape[1], dist.shape[0])}")
    explicit = args.metrics is not None
    wanted = args.metrics if explicit else ALL_METRICS
    results: dict[str, float] = {}
    with progress_bar("measuring", total=len(wanted)) as progress:
        for k, name in enumerate(wanted):
            try:
                results.update(metrics.compute(ref, dist, metrics=(name,), device=args.device))
            except GicError as exc:
                if explicit or name in ("psnr", "ms-ssim"):
                    raise
                # Asked for "everything": a metric whose weights are not installed is skipped.
                _note(f"{name} skipped: {_one_line(exc)}")
            if progress is not None:
                progress((k + 1) / len(wanted))
    if args.json:
        # JSON cannot hold inf (PSNR of identical images) or NaN (MS-SSIM of an image under
        # 161 px a side, undefined at 5 scales): both are written as null.
        clean = {k: (float(v) if math.isfinite(v) else None) for k, v in results.items()}
        print(json.dumps(clean, indent=2))
        return 0
    labels = {"psnr": ("PSNR", " dB"), "ms-ssim": ("MS-SSIM", ""), "lpips": ("LPIPS", ""),
              "dists": ("DISTS", "")}
    for name, value in results.items():
        label, unit = labels.get(name, (name, ""))
        if math.isnan(value):
            text = "n/a (undefined for an image this small)"
        elif math.isinf(value):
            text = "inf (identical images)"
        else:
            text = f"{value:.4f}{unit}"
        print(f"{label:<8} {text}")
    return 0


# -- codecs -------------------------------------------------------------------------------------
def cmd_codecs(args: argparse.Namespace) -> int:
    """List the registered specs: builds no codec, so neither torch nor any weights load."""
    from gic.codecs import registry

    rows = [{**s.as_dict(), "available": True} for s in registry.specs()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    yes = {True: "yes", False: "no"}
    print(f"{'name':<10} {'family':<11} {'quality':<8} {'default':<8} {'learned':<8} {'progressive':<12} "
          f"{'ROI':<4} {'ext':<10} description")
    for r in rows:
        lo, hi = r["quality_range"]
        print(f"{r['name']:<10} {r['family']:<11} {f'{lo}-{hi}':<8} {r['default_quality']:<8} "
              f"{yes[r['learned']]:<8} {yes[r['progressive']]:<12} {yes[r['roi']]:<4} {r['extension']:<10} "
              f"{r['description']}")
    return 0


# -- parser -------------------------------------------------------------------------------------
def _chosen_command(argv: list[str]) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def _add_lazy(sub: argparse._SubParsersAction, name: str, chosen: str | None, argv: list[str]) -> None:
    module_name, help_text = LAZY_COMMANDS[name]
    if name != chosen:
        if not module_name:
            sub.add_parser(name, help=help_text)
            return
        # Not running: only its one-line help is needed; don't import (Qt, torch) to list it.
        try:
            found = importlib.util.find_spec(module_name) is not None
        except (ImportError, ValueError):
            found = False
        sub.add_parser(name, help=help_text if found else f"{help_text} (unavailable)")
        return
    if not module_name:
        module_name = _trainer_module(argv)
    try:
        module = importlib.import_module(module_name)
        add_arguments, run = module.add_arguments, module.run
    except (ImportError, AttributeError) as exc:
        if isinstance(exc, ImportError) and (exc.name or "").split(".")[0] == "torch":
            from gic.codecs.torch_check import missing_torch_message

            message = missing_torch_message(f"'{PROG} {name}'")
        else:
            message = f"'{PROG} {name}' is unavailable in this installation ({type(exc).__name__}: {exc})"
        p = sub.add_parser(name, help=f"{help_text} (unavailable)", add_help=False)

        def unavailable(_args: argparse.Namespace) -> int:
            raise UsageError(message)

        p.set_defaults(func=unavailable, accepts_extra=True)  # its options are unknown: take any
        return
    p = sub.add_parser(name, help=help_text, description=(module.__doc__ or help_text).strip())
    if name == "train":
        p.add_argument("--family", choices=list(trainers()), help="codec family to train "
                       "(default: the best-ranked learned family)")
    add_arguments(p)
    p.set_defaults(func=run)


def _add_batch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                   help="folders: worker processes (default 1; each loads the codec once and gets "
                        "1/N of the CPUs)")
    p.add_argument("--force", "--overwrite", dest="force", action="store_true",
                   help="folders: redo files whose output exists (default: skip them)")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The `gic` parser; only the subcommand named in argv (if any) imports its module."""
    argv = list(argv or [])
    chosen = _chosen_command(argv)
    parser = _Parser(prog=PROG, description="Progressive generative image compression: encode, "
                     "decode, inspect and measure images.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--max-pixels", type=_positive_int, metavar="N",
                        help="refuse files announcing more than N pixels before decoding them "
                             "(default 134217728, or GIC_MAX_PIXELS)")
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("encode", help="compress an image or a folder of images",
                       description="Compress an image file, or every image in a folder (IN a folder, "
                       "OUT a folder: outputs are named after the inputs with the codec's extension; "
                       "existing outputs are skipped unless --force; a file that fails is reported and "
                       "the others go on; exit status 2 if any failed).")
    p.add_argument("input", metavar="IN", help="image file (PNG, JPEG, WebP, ...), or a folder of them")
    p.add_argument("output", metavar="OUT", help="compressed file to write (atomically), or a folder")
    p.add_argument("--codec", help="codec name (see 'gic codecs'; default: the first one it lists "
                   "by rank, a learned codec when one is installed)")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--quality", "-q", type=int, help="quality in the codec's range")
    rate.add_argument("--bpp", type=_positive_float, help="target bits per pixel (quality searched)")
    p.add_argument("--roi", metavar="MASK.png", help="region of interest: white (or opaque) pixels")
    p.add_argument("--background-quality", type=int, metavar="Q",
                   help="quality outside the ROI (ROI codecs; default: the codec's choice)")
    p.add_argument("--device", type=_device, default="cpu", help="cpu or cuda (learned codecs)")
    p.add_argument("--no-metadata", action="store_true",
                   help="leave out the .gic metadata chunk (source name, encoder version, target bpp; "
                        "about 60 bytes)")
    _add_batch_options(p)
    p.set_defaults(func=cmd_encode)

    p = sub.add_parser("decode", help="decompress to PNG (a file or a folder)", description="Decompress "
                       "a .gic or classical file to PNG, or every such file in a folder (IN and OUT "
                       "folders: .gic files and files with a codec's extension become OUT/NAME.png; "
                       "existing outputs are skipped unless --force).")
    p.add_argument("input", metavar="IN", help=".gic file, or any image file, or a folder of them")
    p.add_argument("output", metavar="OUT.png", help="PNG file to write (atomically), or a folder")
    p.add_argument("--layers", type=int, metavar="K", help="decode only the first K layers (.gic)")
    p.add_argument("--device", type=_device, default="cpu", help="cpu or cuda (learned codecs)")
    _add_batch_options(p)
    p.set_defaults(func=cmd_decode)

    p = sub.add_parser("info", help="describe a file", description="Header, layers, ROI, "
                       "parameters and metadata of a .gic file; format, size and bpp of an image.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("metrics", help="compare two images", description="PSNR, MS-SSIM, LPIPS and "
                       "DISTS of DIST against REF (either may be a .gic or any image file).")
    p.add_argument("ref", metavar="REF")
    p.add_argument("dist", metavar="DIST")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--metrics", type=_metric_list, default=None,
                   help=f"comma-separated subset of {','.join(ALL_METRICS)} (default: all; "
                        f"then a metric whose weights are not installed is skipped with a note)")
    p.add_argument("--device", type=_device, default=None, help="cpu or cuda (default: cuda if available)")
    p.set_defaults(func=cmd_metrics)

    p = sub.add_parser("codecs", help="list the codecs", description="The registered codecs with "
                       "their quality ranges and features.")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_codecs)

    for name in LAZY_COMMANDS:
        _add_lazy(sub, name, chosen, argv)
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("gic")
    except Exception:  # noqa: BLE001 - running from a tree that is not installed
        return "unknown"


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> int:
    """Run `gic` with argv (default sys.argv[1:]); returns the exit status."""
    from gic.codecs.errors import GicError

    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    try:
        parser = build_parser(argv)
        args, extra = parser.parse_known_args(argv)
        if extra and not getattr(args, "accepts_extra", False):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        from gic.codecs import limits

        limits.set_max_pixels(args.max_pixels)  # None: GIC_MAX_PIXELS or the default
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, without a second error at exit.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (UsageError, GicError, OSError) as exc:
        if debug:
            raise
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a bug, still reported in one line
        if debug:
            raise
        print(f"{PROG}: error: unexpected {type(exc).__name__}: {_one_line(exc)} "
              f"(run with --debug for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
