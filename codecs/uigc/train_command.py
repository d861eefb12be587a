"""`gic train --family uigc`: train (or resume) the UIGC token prior, or export its weights.

Mounted by gic.cli through the "uigc" spec's `trainer` field. `--data` is a folder of images
(tokenized once with the tokenizer, cached in the run folder) or a token cache (.npz)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..learned.train import add_run_arguments
from .train import PriorTrainConfig

#: A tiny architecture for smoke tests and CI.
TINY_MODEL = {"dim": 16, "depth": 2, "heads": 2, "mlp": 2}


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = PriorTrainConfig()
    p.add_argument("--data", help="folder of training images, or a token cache (.npz)")
    p.add_argument("--out", default=d.out, help="run folder: checkpoints, train.log, token cache")
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--crop", type=int, default=d.crop * 16,
                   help="crop side in image pixels, as for every family (token crop = crop / tokenizer factor)")
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--lr-final", type=float, default=d.lr_final)
    p.add_argument("--fill-fraction", type=float, default=d.fill_fraction,
                   help="share of samples that train regeneration of dropped tokens")
    p.add_argument("--model", default="", help="JSON of prior architecture overrides, or 'tiny'")
    p.add_argument("--init", default="", metavar="WEIGHTS", help="start from a shipped prior")
    add_run_arguments(p, d, "images (or a .npz of token grids) for bits/token checks")
    p.add_argument("--tokenizer", default="progic", help="registered codec whose tokens the prior codes")


def run(args: argparse.Namespace) -> int:
    from .. import registry
    from ..errors import CodecError

    if args.export:
        if not args.model_id:
            raise CodecError("--export needs --model-id NAME (the identity written into every file)")
        from .weights import export_prior
        tok = registry.create(args.tokenizer)
        info = export_prior(Path(args.out) / "last.pt", args.export, args.model_id, args.tokenizer,
                            tok.model_hash)
        print(f"exported {info['model_id']} (step {info['step']}, hash {info['hash']}) to {args.export} "
              f"and its torch-free runtime sidecar")
        return 0
    if not args.data:
        raise CodecError("--data is required to train (a folder of images or a token cache)")
    crop = max(1, args.crop // registry.create(args.tokenizer).factor)
    model = TINY_MODEL if args.model == "tiny" else (json.loads(args.model) if args.model else {})
    cfg = PriorTrainConfig(data=args.data, out=args.out, steps=args.steps, batch=args.batch, crop=crop,
                           lr=args.lr, lr_final=args.lr_final, fill_fraction=args.fill_fraction,
                           eval_dir=args.eval_dir, eval_every=args.eval_every, eval_images=args.eval_images,
                           checkpoint_every=args.checkpoint_every, log_every=args.log_every,
                           threads=args.threads, device=args.device, init=args.init, model=model)
    from .train import PriorTrainer
    trainer = PriorTrainer(cfg, log=print if args.no_progress else None)
    trainer.run(progress=not args.no_progress)
    return 0
