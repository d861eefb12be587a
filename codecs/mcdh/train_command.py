"""`gic train --family mcdh`: train (or resume) the MCDH codec, export its weights, or export their
ONNX graphs (`--export-onnx`).

Mounted by gic.cli through the "mcdh" spec's `trainer` field."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..learned.train import add_run_arguments
from .train import MCDHTrainConfig

#: A tiny architecture for smoke tests and CI.
TINY_MODEL = {"n": 16, "m": 16, "zs": 8, "zc": 8, "hid": 16, "heads": 2, "levels": 3}


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = MCDHTrainConfig()
    p.add_argument("--data", help="folder of training images")
    p.add_argument("--out", default=d.out, help="run folder: checkpoints, train.log")
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--crop", type=int, default=d.crop, help="crop side in pixels (a multiple of 64)")
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--lr-final", type=float, default=d.lr_final)
    p.add_argument("--lambda-lo", type=float, default=d.lambda_lo, help="λ of the lowest rate level")
    p.add_argument("--lambda-hi", type=float, default=d.lambda_hi, help="λ of the highest rate level")
    p.add_argument("--init", default=d.init, metavar="WEIGHTS",
                   help="start from shipped weights when --out holds no checkpoint")
    p.add_argument("--model", default="", help="JSON of architecture overrides, or 'tiny'")
    add_run_arguments(p, d, "images for periodic bpp/PSNR estimates")
    p.add_argument("--export-onnx", metavar="WEIGHTS", help="export the ONNX graphs (analysis, hyper, "
                   "synthesis) and tables of a shipped weight file beside it, for running without torch")


def run(args: argparse.Namespace) -> int:
    from ..errors import CodecError

    if args.export_onnx:
        from .onnx_export import export_onnx
        for name, size in export_onnx(args.export_onnx).items():
            print(f"wrote {name}: {size} bytes")
        return 0
    if args.export:
        if not args.model_id:
            raise CodecError("--export needs --model-id NAME (the identity written into every file)")
        from .weights import export_weights
        info = export_weights(Path(args.out) / "last.pt", args.export, args.model_id)
        print(f"exported {info['model_id']} (step {info['step']}, hash {info['hash']}) to {args.export}")
        return 0
    if not args.data:
        raise CodecError("--data is required to train (a folder of images)")
    if args.crop % 64:
        raise CodecError(f"--crop must be a multiple of 64, got {args.crop}")
    model = TINY_MODEL if args.model == "tiny" else (json.loads(args.model) if args.model else {})
    cfg = MCDHTrainConfig(data=args.data, out=args.out, steps=args.steps, batch=args.batch, crop=args.crop,
                          lr=args.lr, lr_final=args.lr_final, lambda_lo=args.lambda_lo,
                          lambda_hi=args.lambda_hi, eval_dir=args.eval_dir, eval_every=args.eval_every,
                          eval_images=args.eval_images, checkpoint_every=args.checkpoint_every,
                          log_every=args.log_every, threads=args.threads, device=args.device, model=model,
                          init=args.init)
    from .train import MCDHTrainer
    MCDHTrainer(cfg, log=print if args.no_progress else None).run(progress=not args.no_progress)
    return 0
