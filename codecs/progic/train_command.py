"""`gic train`: train (or resume) a ProGIC model from a folder of images, or export its weights.

Mounted by gic.cli through the "progic" spec's `trainer` field."""
from __future__ import annotations

import argparse
import json
from dataclasses import fields

from .train import TrainConfig

#: A deliberately tiny architecture for smoke tests and CI (trains in seconds).
TINY_MODEL = {"stages": 3, "codes": 16, "latent_dim": 8, "enc_channels": [8, 8, 16, 16],
              "dec_channels": [16, 16, 8, 8], "enc_blocks": [1, 1, 1, 1], "dec_blocks": [1, 1, 1, 1],
              "heads": 2, "window": 4}


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = TrainConfig()
    p.add_argument("--data", help="folder of training images (with --export: images on which the "
                   "entropy tables are measured; default: the run's training folder)")
    p.add_argument("--out", default=d.out, help="run folder: checkpoints, train.log (resumes from it)")
    p.add_argument("--steps", type=int, default=d.steps, help="total optimisation steps")
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--crop", type=int, default=d.crop, help="crop size (multiple of 16)")
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--lr-final", type=float, default=d.lr_final)
    p.add_argument("--mse-weight", type=float, default=d.mse_weight)
    p.add_argument("--lpips-weight", type=float, default=d.lpips_weight)
    p.add_argument("--gan-weight", type=float, default=d.gan_weight, help="0 disables the discriminator")
    p.add_argument("--gan-start", type=int, default=d.gan_start)
    p.add_argument("--dists-weight", type=float, default=d.dists_weight,
                   help="weight of a DISTS loss term (0: off; costs a VGG16 pass per step)")
    p.add_argument("--texture-weight", type=float, default=d.texture_weight,
                   help="weight of a texture-statistics term on LPIPS's AlexNet features (0: off)")
    p.add_argument("--init", default=d.init, metavar="WEIGHTS",
                   help="start from a shipped weight file (fine-tuning) when --out has no checkpoint; with "
                        "--train-only decoder, --model may add decoder blocks (dec_blocks)")
    p.add_argument("--train-only", default=d.train_only, choices=["", "decoder"],
                   help="'decoder': freeze encoder and codebooks, so files and rates stay identical")
    p.add_argument("--full-depth-fraction", type=float, default=d.full_depth_fraction,
                   help="share of samples trained with all stages (the rest: random prefixes and ROI maps)")
    p.add_argument("--max-depth", type=int, default=d.max_depth,
                   help="train only depths 1..N (0: all); e.g. 1 with --train-only decoder")
    p.add_argument("--eval-dir", default="", help="folder of images for periodic LPIPS checks")
    p.add_argument("--eval-every", type=int, default=d.eval_every)
    p.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every)
    p.add_argument("--log-every", type=int, default=d.log_every)
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: all)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    p.add_argument("--model", default="", help="JSON of architecture overrides, or 'tiny'")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (log file only)")
    p.add_argument("--export", metavar="WEIGHTS", help="write shippable fp16 weights from the run's "
                   "last checkpoint to WEIGHTS and exit")
    p.add_argument("--export-onnx", metavar="WEIGHTS", help="export the ONNX graphs (analysis, "
                   "synthesis) and tables of a shipped weight file beside it, for decoding without torch")
    p.add_argument("--model-id", default=None, metavar="NAME",
                   help="model identity written by --export (required with it; a release name is chosen, "
                        "not defaulted)")


def run(args: argparse.Namespace) -> int:
    from ..errors import CodecError

    if args.export_onnx:
        from .onnx_export import export_onnx
        sizes = export_onnx(args.export_onnx)
        for name, size in sizes.items():
            print(f"wrote {name}: {size} bytes")
        return 0
    if args.export:
        if not args.model_id:
            raise CodecError("--export needs --model-id NAME (the identity written into every file)")
        from .weights import export_checkpoint
        from pathlib import Path
        info = export_checkpoint(Path(args.out) / "last.pt", args.export, model_id=args.model_id,
                                 tables_data=args.data)
        print(f"exported {info['model_id']} (step {info['step']}, hash {info['hash']}) to {args.export}")
        return 0
    if not args.data:
        raise CodecError("--data FOLDER is required to train")
    if args.crop % 16:
        raise CodecError("--crop must be a multiple of 16")
    if args.max_depth < 0:
        raise CodecError("--max-depth must be 0 (all) or a number of stages")
    if not 0.0 <= args.full_depth_fraction <= 1.0:
        raise CodecError("--full-depth-fraction must be between 0 and 1")
    model = TINY_MODEL if args.model == "tiny" else (json.loads(args.model) if args.model else {})
    names = {f.name for f in fields(TrainConfig)}
    kw = {k: v for k, v in vars(args).items() if k in names and k != "model"}
    cfg = TrainConfig(**kw, model=model)
    from .train import Trainer
    trainer = Trainer(cfg, log=print if args.no_progress else None)
    trainer.run(progress=not args.no_progress)
    return 0
