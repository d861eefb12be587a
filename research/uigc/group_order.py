"""UIGC group-order ablation: the shipped 7-step parity schedule against the paper's 2x2-parity
groups (4 steps), a plain 2-step checkerboard and the paper's own order (D: the first parity group
in raster order inside each 8x8 window, 19 steps), each prior trained from scratch on one budget.

    python research/uigc/extract_tokens.py ../shared/datasets/train /work/runs/uigc_tokens/train.npz
    python research/uigc/extract_tokens.py ../shared/datasets/kodak /work/runs/uigc_tokens/kodak.npz --plain
    python research/uigc/group_order.py --data /work/runs/uigc_tokens/train.npz \
        --eval /work/runs/uigc_tokens/kodak.npz --runs /work/runs/uigc_group_order \
        --steps 800 --out research/uigc/group_order.json          # then again with --seed 1

Why a script and not a production option: the schedule is part of the file format (layer count,
which tokens a layer holds), so a variant is studied by patching the trainer's view of it
(`uigc.train.step_map` / `NUM_STEPS`) inside `use_schedule`; codecs/ stays unchanged.

Every variant: the shipped architecture (`PriorConfig()`, whose step embedding has 8 rows; a
variant with fewer steps leaves the extra rows unused), the same token cache, seed, crops and step
draws (one fixed-seed generator; the base trainer seeds its own from the clock), steps, batch 16,
16x16-token crops, lr 1e-3 -> 1e-5 cosine, warm-up 200, 1 torch thread, and NO fill samples
(`fill_fraction=0`: dropping and regeneration stay out of the comparison). The loss is the
shipped one otherwise (coding cross-entropy + 0.1 x later-step guesses).

Evaluation: float cross-entropy bits per token, per step and overall, on every grid of `--eval`
(the trainer's own `evaluate`, i.e. `train.grid_bits` under the variant's schedule); and the
decoder's prior work on the first eval grid (Kodak's first is 768x512, 48x32 tokens): each step's
pass as the decoder runs it (`FixedPrior.tables` of that step's tokens: the banded features on
one BLAS thread, then head and integer tables of those tokens), with the variant's own trained
weights; median of `--time-runs`.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from gic.codecs.uigc import schedule
from gic.codecs.uigc import train as uigc_train
from gic.codecs.uigc.config import PriorConfig
from gic.codecs.uigc.fixed import FixedPrior, luts
from gic.codecs.uigc.prior import TokenPrior
from gic.codecs.uigc.tokens import TokenGrids
from gic.codecs.uigc.train_command import TINY_MODEL


def parity4_map(h: int, w: int) -> np.ndarray:
    """The paper's 2x2-parity groups: (y, x) parities (0,0), (1,1), (0,1), (1,0) -> steps 0..3."""
    y, x = np.mgrid[0:h, 0:w]
    order = {(0, 0): 0, (1, 1): 1, (0, 1): 2, (1, 0): 3}
    out = np.empty((h, w), dtype=np.int64)
    for (py, px), s in order.items():
        out[(y % 2 == py) & (x % 2 == px)] = s
    return out


def checker2_map(h: int, w: int) -> np.ndarray:
    """A 2-step checkerboard: (y + x) even first, then odd."""
    y, x = np.mgrid[0:h, 0:w]
    return ((y + x) % 2).astype(np.int64)


def raster_window_map(h: int, w: int, window: int = 8) -> np.ndarray:
    """The paper's order: the (0,0)-parity group coded causally, one position of each 8x8 window
    per step in raster order inside the window (16 steps: the window's 4x4 such positions), then
    the other parities (1,1), (0,1), (1,0) in one step each: 19 steps."""
    y, x = np.mgrid[0:h, 0:w]
    half = window // 2
    out = np.empty((h, w), dtype=np.int64)
    first = (y % 2 == 0) & (x % 2 == 0)
    out[first] = ((y[first] // 2) % half) * half + (x[first] // 2) % half
    for (py, px), s in {(1, 1): 0, (0, 1): 1, (1, 0): 2}.items():
        out[(y % 2 == py) & (x % 2 == px)] = half * half + s
    return out


#: name -> (description, step map, number of steps)
VARIANTS: dict[str, tuple[str, Callable[[int, int], np.ndarray], int]] = {
    "A": ("shipped 7-step coarse-to-fine parity (schedule.py)", schedule.step_map, schedule.NUM_STEPS),
    "B": ("2x2 parity, 4 steps: (0,0), (1,1), (0,1), (1,0)", parity4_map, 4),
    "C": ("checkerboard, 2 steps: (y+x) even, odd", checker2_map, 2),
    "D": ("the paper's: (0,0) parity in raster order inside each 8x8 window (16 steps), then (1,1), "
          "(0,1), (1,0): 19 steps", raster_window_map, 19),
}


@contextlib.contextmanager
def use_schedule(name: str) -> Iterator[None]:
    """Make the trainer (train_step, grid_bits, evaluate) see variant `name`'s schedule."""
    _, fn, n = VARIANTS[name]
    saved = uigc_train.step_map, uigc_train.NUM_STEPS, uigc_train.FILL
    uigc_train.step_map, uigc_train.NUM_STEPS = fn, n
    if n > schedule.NUM_STEPS:  # FILL's index is the shipped step count: move it past D's steps
        uigc_train.FILL = n
    try:
        yield
    finally:
        uigc_train.step_map, uigc_train.NUM_STEPS, uigc_train.FILL = saved


class SeededTrainer(uigc_train.PriorTrainer):
    """PriorTrainer whose crop/step generator is seeded by cfg.seed alone, so every variant
    trains on the same crops in the same order (the base adds the clock to its seed)."""

    def setup(self) -> None:
        super().setup()
        self.rng = np.random.default_rng(self.cfg.seed)


def fixed_prior(model: torch.nn.Module) -> FixedPrior:
    """A trained float prior's weights in the exact integer inference the decoder runs."""
    return FixedPrior(model.cfg, {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}, luts())


def decode_passes(prior: FixedPrior, grid: np.ndarray, name: str) -> list[float]:
    """Seconds of each of the decoder's prior passes over `grid` under variant `name`:
    `FixedPrior.tables` of that step's positions (the pass's features on one BLAS thread, then
    the head and integer tables of those positions, as the coder reads them)."""
    _, fn, n = VARIANTS[name]
    steps = fn(*grid.shape)
    tokens = np.full(grid.shape, prior.cfg.vocab, dtype=np.int64)
    out = []
    for s in range(n):
        t0 = time.perf_counter()
        prior.tables(tokens, s, steps == s)
        out.append(time.perf_counter() - t0)
        tokens[steps == s] = grid[steps == s]  # what the decoder knows after step s
    return out


def timing(runs: list[list[float]], grid: np.ndarray) -> dict:
    """The medians of several decode_passes runs: the whole decode's prior work and one pass."""
    return {"passes": len(runs[0]), "decode_prior_s": round(float(np.median([sum(r) for r in runs])), 4),
            "pass_s": round(float(np.median(np.concatenate(runs))), 4), "grid": list(grid.shape)}


def run_folder(args: argparse.Namespace, name: str, seed: int) -> Path:
    return Path(args.runs) / (name if seed == 0 else f"{name}-seed{seed}")


def run_variant(name: str, args: argparse.Namespace, model: dict) -> dict:
    """Train variant `name` (resuming its run folder), evaluate it, time its decode passes."""
    n = VARIANTS[name][2]
    if n + 1 > PriorConfig().steps:  # a step embedding row per step (and FILL): D needs 20
        model = {**model, "steps": n + 1}
    cfg = uigc_train.PriorTrainConfig(
        data=args.data, out=str(run_folder(args, name, args.seed)), steps=args.steps, batch=args.batch, crop=16,
        lr=1e-3, lr_final=1e-5, fill_fraction=0.0, eval_dir=args.eval, eval_every=10 ** 9,
        eval_images=args.eval_images, checkpoint_every=100, log_every=args.log_every, threads=1,
        seed=args.seed, device="cpu", model=model)
    with use_schedule(name):
        trainer = SeededTrainer(cfg, log=print)
        t0 = time.time()
        trainer.run(progress=False)
        train_s = time.time() - t0
        ev = trainer.evaluate()
    grid = TokenGrids.load(args.eval).grid(0)
    prior = fixed_prior(trainer.model.eval())
    timed = timing([decode_passes(prior, grid, name) for _ in range(args.time_runs)], grid)
    logged = [h for h in trainer.history if "s_per_step" in h]
    return {"variant": name, "seed": args.seed, "schedule": VARIANTS[name][0], "train_steps": trainer.step,
            "train_wall_s_this_run": round(train_s, 1),
            "s_per_step_median": round(float(np.median([h["s_per_step"] for h in logged])), 3) if logged else None,
            "final_train_loss": round(logged[-1]["loss"], 4) if logged else None,
            "eval_grids": min(len(TokenGrids.load(args.eval)), args.eval_images), **ev, **timed}


def retime(args: argparse.Namespace, rows: dict) -> None:
    """Time every row's decode passes again in one process, round-robin over the variants, so
    that the load of a shared machine falls on all alike (their training runs saw other loads)."""
    grid = TokenGrids.load(args.eval).grid(0)
    priors = {}
    for key in rows:
        ck = torch.load(run_folder(args, *key) / "last.pt", map_location="cpu", weights_only=False)
        model = TokenPrior(PriorConfig(**ck["model_config"]))
        model.load_state_dict(ck["model"])
        priors[key] = fixed_prior(model.eval())
    runs: dict = {key: [] for key in rows}
    for _ in range(args.time_runs):
        for key, prior in priors.items():
            runs[key].append(decode_passes(prior, grid, key[0]))
    for key in rows:
        rows[key].update(timing(runs[key], grid), timed_together=True)


def summary(rows) -> dict:
    """Per variant: mean bits/token over its seeds (and their spread), passes, median decode time."""
    out = {}
    for name in VARIANTS:
        mine = [r for r in rows if r["variant"] == name]
        if mine:
            bits = [r["bits_per_token"] for r in mine]
            out[name] = {"seeds": sorted(r["seed"] for r in mine),
                         "bits_per_token_mean": round(float(np.mean(bits)), 4),
                         "bits_per_token_range": [min(bits), max(bits)], "passes": mine[0]["passes"],
                         "decode_prior_s_median": round(float(np.median([r["decode_prior_s"] for r in mine])), 4)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="training token cache (.npz, extract_tokens.py)")
    ap.add_argument("--eval", required=True, help="evaluation token cache (.npz, e.g. Kodak --plain)")
    ap.add_argument("--runs", required=True, help="folder for each variant's run (checkpoints, log)")
    ap.add_argument("--out", required=True, help="results .json (rewritten after each variant)")
    ap.add_argument("--variants", default="A,B,C")
    ap.add_argument("--steps", type=int, default=800)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0,
                    help="model init, crops and step draws; rows of other seeds in --out are kept")
    ap.add_argument("--eval-images", type=int, default=24)
    ap.add_argument("--time-runs", type=int, default=3)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--retime", action="store_true",
                    help="train nothing: time every row of --out again, all in this one process")
    ap.add_argument("--model", choices=("shipped", "tiny"), default="shipped",
                    help="tiny: the test architecture (for a quick check only)")
    args = ap.parse_args(argv)
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    bad = [v for v in names if v not in VARIANTS]
    if bad:
        ap.error(f"unknown variant(s) {', '.join(bad)}; known: {', '.join(VARIANTS)}")
    torch.set_num_threads(1)
    out = Path(args.out)
    results = json.loads(out.read_text()) if out.exists() else {}
    rows = {(r["variant"], r.setdefault("seed", 0)): r for r in results.get("rows", [])}
    commands = results.get("commands", [results["command"]] if "command" in results else [])
    commands.append("python research/uigc/group_order.py " + " ".join(sys.argv[1:] if argv is None else argv))
    budget = results.get("budget", {}) if args.retime else {
        "steps": args.steps, "batch": args.batch, "crop_tokens": 16, "threads": 1, "fill_fraction": 0.0}
    if args.retime:
        retime(args, rows)
        names = []
        write(out, commands, budget, rows, args.eval)
    for name in names:
        rows[name, args.seed] = run_variant(name, args, TINY_MODEL if args.model == "tiny" else {})
        print(json.dumps(rows[name, args.seed]), flush=True)
        write(out, commands, budget, rows, args.eval)
    return 0


def unigram_entropy(grids: TokenGrids) -> float:
    """Entropy in bits of the grids' own token histogram: no context-free code of these tokens
    (a first group, predicted from MASK alone) can average fewer bits per token."""
    p = np.bincount(grids.flat.astype(np.int64)).astype(np.float64)
    p = p[p > 0] / p.sum()
    return float(-(p * np.log2(p)).sum())


def write(out: Path, commands: list[str], budget: dict, rows: dict, eval_path: str) -> None:
    floor = round(unigram_entropy(TokenGrids.load(eval_path)), 4)
    out.write_text(json.dumps({"commands": commands, "budget": budget, "eval_unigram_entropy_bits": floor,
                               "summary": summary(rows.values()), "rows": [rows[k] for k in sorted(rows)]},
                              indent=1) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
