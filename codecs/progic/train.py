"""Training loop for the ProGIC model: distortion + LPIPS (+ DISTS) + adversarial + commitment.

Runs on CPU, on CUDA, and under `torchrun` (DistributedDataParallel; each rank draws its own
random crops, codebook statistics are all-reduced inside the quantiser). Checkpoints are written
atomically and training resumes from the last one.
"""
from __future__ import annotations

import json
import math
import os
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from ..errors import CodecError
from .data import CropDataset, list_images
from .model import ModelConfig, ProGIC

#: scale of an added FSQ second latent's projection at the start (measured on progic-small-v3 with
#: the default init: |pre-tanh| ~ 16 and 90 % of values saturated; x0.03 gives ~0.5)
FSQ_PROJ_INIT = 0.03


@dataclass
class TrainConfig:
    data: str = ""
    out: str = "runs/progic"
    steps: int = 100_000
    batch: int = 8
    crop: int = 128
    lr: float = 3e-4
    lr_final: float = 3e-5  # cosine decay over `steps`
    mse_weight: float = 50.0
    lpips_weight: float = 1.0
    commit_weight: float = 0.25
    gan_weight: float = 0.0  # adversarial loss weight (0 disables the discriminator)
    gan_start: int = 5000  # steps of plain training before the adversarial loss starts
    dists_weight: float = 0.0  # DISTS loss weight (0: VGG16 not loaded); the shipped model keeps
    # DISTS held out for evaluation, see texture_weight for its texture term
    texture_weight: float = 0.0  # match per-channel mean/std of LPIPS's AlexNet features
    contrast_weight: float = 0.0  # match local contrast (windowed std of luma) at three scales
    init: str = ""  # shipped weight file to start from when the run folder has no checkpoint
    train_only: str = ""  # "decoder": freeze encoder and codebooks, so bitstreams stay identical;
    # "enhancement" (split models): freeze the first encoder and first `split` codebooks
    roi_fraction: float = 0.2  # share of samples trained with a random two-level depth map
    full_depth_fraction: float = 0.15  # share of samples forced to all stages
    new_lr_scale: float = 1.0  # learning-rate factor for a second latent's encoder and decoder input
    # (they start from scratch while the rest is fine-tuned)
    checkpoint_every: int = 250
    log_every: int = 25
    eval_every: int = 1000
    eval_dir: str = ""  # optional folder of images for periodic LPIPS at several depths
    eval_images: int = 3
    threads: int = 0  # torch threads on CPU (0: all cores)
    seed: int = 0
    device: str = "auto"
    model: dict = field(default_factory=dict)  # ModelConfig overrides


class PatchDiscriminator(nn.Module):
    """A small PatchGAN: a real/fake logit per ~30-pixel patch."""

    def __init__(self, ch: int = 48):
        super().__init__()
        sn = nn.utils.spectral_norm
        self.net = nn.Sequential(
            sn(nn.Conv2d(3, ch, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(ch, ch * 2, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(ch * 2, ch * 4, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(ch * 4, 1, 3, 1, 1)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2 - 1)


def sample_depth(batch: int, h: int, w: int, stages: int, cfg: TrainConfig,
                 gen: torch.Generator) -> torch.Tensor:
    """Per-position number of stages: quantiser dropout (uniform prefix per sample), some
    samples at full depth, some with an ROI-like rectangle deeper than its surroundings."""
    depth = torch.randint(1, stages + 1, (batch, 1, 1), generator=gen).expand(batch, h, w).clone()
    u = torch.rand(batch, generator=gen)
    for i in range(batch):
        if u[i] < cfg.full_depth_fraction:
            depth[i] = stages
        elif u[i] < cfg.full_depth_fraction + cfg.roi_fraction:
            lo = int(torch.randint(1, stages, (1,), generator=gen))
            hi = int(torch.randint(lo + 1, stages + 1, (1,), generator=gen))
            y0, x0 = (int(torch.randint(0, h, (1,), generator=gen)), int(torch.randint(0, w, (1,), generator=gen)))
            y1 = int(torch.randint(y0 + 1, h + 1, (1,), generator=gen))
            x1 = int(torch.randint(x0 + 1, w + 1, (1,), generator=gen))
            depth[i] = lo
            depth[i, y0:y1, x0:x1] = hi
    return depth


def texture_loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Texture statistics: L1 between per-channel spatial mean and std of `net.features` of x and y
    (inputs in [-1, 1]), each layer relative to y's mean magnitude. Blur lowers feature variance
    while LPIPS's normalised distance barely notices; this term does, without touching DISTS's VGG."""
    total, layers = x.new_zeros(()), 0
    for fx, fy in zip(net.features(x), net.features(y)):
        layers += 1
        mx, my = fx.mean((2, 3)), fy.mean((2, 3))
        sx, sy = fx.std((2, 3)), fy.std((2, 3))
        scale = my.abs().mean() + sy.mean() + 1e-6
        total = total + ((mx - my).abs().mean() + (sx - sy).abs().mean()) / scale
    return total / max(layers, 1)


def _gauss_blur(x: torch.Tensor, sigma: float = 1.5) -> torch.Tensor:
    r = int(math.ceil(2 * sigma))
    t = torch.arange(-r, r + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-t**2 / (2 * sigma**2))
    k = k / k.sum()
    c = x.shape[1]
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="reflect"), k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def contrast_loss(x: torch.Tensor, y: torch.Tensor, scales: int = 3) -> torch.Tensor:
    """Local contrast: L1 between windowed standard deviations of luma (SSIM's Gaussian window)
    of x and y (in [0, 1]) at `scales` octaves, relative to y's mean contrast. A blurred decode
    has too little local contrast wherever detail was lost; MSE favours that blur, this term
    does not, and unlike a pixel loss it does not ask for detail at exactly the right place."""
    w = x.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    lx, ly = (x * w).sum(1, keepdim=True), (y * w).sum(1, keepdim=True)
    total = x.new_zeros(())
    for s in range(scales):
        if s:
            lx, ly = F.avg_pool2d(lx, 2), F.avg_pool2d(ly, 2)
        sx = (_gauss_blur(lx * lx) - _gauss_blur(lx) ** 2).clamp_min(0).add(1e-6).sqrt()
        sy = (_gauss_blur(ly * ly) - _gauss_blur(ly) ** 2).clamp_min(0).add(1e-6).sqrt()
        total = total + (sx - sy).abs().mean() / (sy.mean() + 1e-3)
    return total / scales


def _is_main() -> bool:
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def _atomic_save(obj, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


class Trainer:
    def __init__(self, cfg: TrainConfig, log: Callable[[str], None] | None = None):
        self.cfg = cfg
        self.distributed = "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1
        if self.distributed:
            backend = "nccl" if torch.cuda.is_available() else "gloo"
            dist.init_process_group(backend)
        rank = dist.get_rank() if self.distributed else 0
        if cfg.device == "auto":
            dev = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu"
        else:
            dev = cfg.device
        self.device = torch.device(dev)
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        if cfg.threads and self.device.type == "cpu":
            torch.set_num_threads(cfg.threads)
        self.out = Path(cfg.out)
        if _is_main():
            self.out.mkdir(parents=True, exist_ok=True)
        self._log_fn = log
        torch.manual_seed(cfg.seed + rank)
        self.rng = np.random.default_rng(cfg.seed + 1000 * rank + int(time.time()))
        self.gen = torch.Generator().manual_seed(cfg.seed + rank)

        self.model = ProGIC(ModelConfig.from_dict(cfg.model) if cfg.model else ModelConfig()).to(self.device)
        if cfg.init and not (self.out / "last.pt").exists():
            self._init_from(cfg.init)
        if cfg.train_only not in ("", "decoder", "enhancement"):
            raise CodecError(f"train_only must be '', 'decoder' or 'enhancement', not {cfg.train_only!r}")
        if cfg.train_only == "enhancement" and not self.model.cfg.split:
            raise CodecError("--train-only enhancement needs a model with a second latent (--model '{\"split\": K}')")
        if cfg.train_only:
            self.model.encoder.requires_grad_(False)
            self.model.rvq.requires_grad_(False)
        if cfg.train_only == "decoder" and self.model.encoder2 is not None:
            self.model.encoder2.requires_grad_(False)
        if cfg.train_only == "enhancement":
            self.model.update_base_codebooks = False
        from ..metrics.lpips import LPIPS  # the shipped, converted LPIPS (no model hub)
        self.lpips = LPIPS.load(device=str(self.device)) if hasattr(LPIPS, "load") else LPIPS().to(self.device)
        self.lpips.eval()
        for p in self.lpips.parameters():
            p.requires_grad_(False)
        self.dists = None
        if cfg.dists_weight > 0:
            from ..metrics.dists import DISTS  # frozen VGG16 from resources/, no model hub
            self.dists = DISTS.load(self.device)
        self.opt = torch.optim.AdamW(self._param_groups(), lr=cfg.lr, betas=(0.9, 0.99), weight_decay=0.0)
        self.disc = PatchDiscriminator().to(self.device) if cfg.gan_weight > 0 else None
        self.opt_d = torch.optim.AdamW(self.disc.parameters(), lr=cfg.lr, betas=(0.5, 0.9)) if self.disc else None
        self.step = 0
        self.history: list[dict] = []
        self._resume()
        self.ddp = None
        if self.distributed:
            self.ddp = nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                broadcast_buffers=False)
        self.data = CropDataset(cfg.data, cfg.crop)
        self.log(f"data: {len(self.data)} images from {cfg.data}; device {self.device}; "
                 f"threads {torch.get_num_threads()}; params {sum(p.numel() for p in self.model.parameters())/1e6:.2f}M")
        self._stop = False

    @staticmethod
    def _trainable(m: nn.Module):
        return [p for p in m.parameters() if p.requires_grad]

    def _param_groups(self) -> list[dict]:
        """One group per learning-rate scale: a split model's second encoder and decoder input
        get `new_lr_scale` (from scratch), everything else the base rate."""
        m = self.model
        new = [] if m.encoder2 is None else list(m.encoder2.parameters()) + list(m.decoder.inp2.parameters())
        new_ids = {id(p) for p in new}
        groups = [{"params": [p for p in self._trainable(m) if id(p) not in new_ids], "scale": 1.0}]
        new = [p for p in new if p.requires_grad]
        if new:
            groups.append({"params": new, "scale": self.cfg.new_lr_scale})
        return groups

    def log(self, msg: str) -> None:
        if not _is_main():
            return
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}"
        with open(self.out / "train.log", "a") as f:
            f.write(line + "\n")
        if self._log_fn:
            self._log_fn(line)

    # -- checkpoints ---------------------------------------------------------------------------
    def _init_from(self, path: str) -> None:
        """Start a fine-tune from shipped fp16 weights (which carry no codebook EMA statistics)."""
        from .weights import load_model
        loaded = load_model(path, device="cpu")
        grown = self._grown_blocks(loaded.model.cfg)
        state = {k: v for k, v in loaded.model.state_dict().items()
                 if not k.startswith("rvq.ema_") and k != "rvq.initialised"}
        self.model.load_state_dict(state, strict=False)
        with torch.no_grad():  # added decoder blocks start as the identity: same function as loaded
            for level, first in grown:
                for blk in list(self.model.decoder.levels[level])[first:]:
                    blk.gamma.zero_()
        if grown:
            self.log(f"decoder grown from {list(loaded.model.cfg.dec_blocks)} to "
                     f"{list(self.model.cfg.dec_blocks)} blocks per level (new blocks start as identity)")
        if self.model.cfg.split and not loaded.model.cfg.split and self.model.fsq is not None:
            with torch.no_grad():  # image features start as the loaded encoder's; no input yet
                self.model.encoder2.features.load_state_dict(self.model.encoder.net[:-1].state_dict())
                # the copied features are large (|proj output| ~ 16 with the default init): start
                # the projection small so tanh is not saturated (a saturated channel has no gradient)
                self.model.encoder2.proj.weight.mul_(FSQ_PROJ_INIT)
                self.model.encoder2.proj.bias.zero_()
                self.model.decoder.inp2.weight.zero_()
            self.log(f"FSQ second latent added after stage {self.model.cfg.split} (its features start "
                     "as the loaded encoder's; the decoder starts ignoring it)")
        elif self.model.cfg.split and not loaded.model.cfg.split:
            with torch.no_grad():  # second latent starts as the loaded model's late-stage residual
                self.model.encoder2.start_as_residual()
                self.model.decoder.inp2.weight.copy_(self.model.decoder.inp.weight)
            self.log(f"second latent added after stage {self.model.cfg.split} "
                     "(starts as the loaded model's residual: same reconstructions)")
        rvq = self.model.rvq
        with torch.no_grad():  # EMA statistics consistent with the loaded codebooks
            rvq.ema_count.fill_(1.0)
            rvq.ema_sum.copy_(rvq.codebooks)
            rvq.initialised.fill_(True)
        self.log(f"initialised from {path} ({loaded.model_id}, step {loaded.info.get('step')})")

    def _grown_blocks(self, loaded_cfg: ModelConfig) -> list[tuple[int, int]]:
        """(level, first new block) for each decoder level this run has more blocks in than the
        loaded weights. Two growths are allowed, each only with a frozen first encoder (so the
        loaded file's bitstreams keep their meaning): more decoder blocks (--train-only decoder or
        enhancement), and a second latent added to a single-latent model (--train-only enhancement)."""
        mine, theirs = self.model.cfg.to_dict(), loaded_cfg.to_dict()
        if mine == theirs:
            return []
        rest = lambda d: {k: v for k, v in d.items() if k not in ("dec_blocks", "split", "late")}  # noqa: E731
        deeper = all(a >= b for a, b in zip(mine["dec_blocks"], theirs["dec_blocks"]))
        split_ok = (mine["split"], mine["late"]) == (theirs["split"], theirs["late"]) or (
            theirs["split"] == 0 and self.cfg.train_only == "enhancement")
        if not (rest(mine) == rest(theirs) and deeper and split_ok and self.cfg.train_only):
            raise CodecError("the --init weights have a different architecture than this run (--model); "
                             "only adding decoder blocks (dec_blocks, with --train-only decoder) or a "
                             "second latent (split, with --train-only enhancement) is supported")
        return [(i, b) for i, (a, b) in enumerate(zip(mine["dec_blocks"], theirs["dec_blocks"])) if a > b]

    def _resume(self) -> None:
        path = self.out / "last.pt"
        if not path.exists():
            return
        ck = torch.load(path, map_location=self.device, weights_only=False)
        self.model.load_state_dict(ck["model"])
        self.opt.load_state_dict(ck["opt"])
        for g in self.opt.param_groups:  # a resumed run may be given a new learning rate
            g["initial_lr"] = self.cfg.lr
        if self.disc is not None and ck.get("disc"):
            self.disc.load_state_dict(ck["disc"])
            self.opt_d.load_state_dict(ck["opt_d"])
        self.step = ck["step"]
        self.history = ck.get("history", [])
        self.log(f"resumed from {path} at step {self.step}")

    def save(self) -> None:
        if not _is_main():
            return
        ck = {"model": self.model.state_dict(), "opt": self.opt.state_dict(), "step": self.step,
              "model_config": self.model.cfg.to_dict(), "train_config": asdict(self.cfg),
              "history": self.history,
              "disc": self.disc.state_dict() if self.disc else None,
              "opt_d": self.opt_d.state_dict() if self.opt_d else None}
        _atomic_save(ck, self.out / "last.pt")

    # -- one step ------------------------------------------------------------------------------
    def lr_at(self, step: int) -> float:
        c = self.cfg
        warm = min(1.0, (step + 1) / 200)
        t = min(1.0, step / max(1, c.steps))
        return warm * (c.lr_final + 0.5 * (c.lr - c.lr_final) * (1 + math.cos(math.pi * t)))

    def train_step(self) -> dict:
        c, m = self.cfg, self.model
        net = self.ddp or m
        m.train()
        if c.train_only == "decoder":
            m.encoder.eval()
            m.rvq.eval()  # no EMA codebook updates: indices (and so rates) do not change
        x = self.data.batch(c.batch, self.rng).to(self.device, non_blocking=True)
        h, w = x.shape[-2] // 16, x.shape[-1] // 16
        depth = sample_depth(x.shape[0], h, w, m.cfg.stages, c, self.gen).to(self.device)
        out = net(x, depth)
        recon = out.recon
        mse = F.mse_loss(recon, x)
        lp = self.lpips(recon.clamp(0, 1) * 2 - 1, x * 2 - 1).mean()
        loss = c.mse_weight * mse + c.lpips_weight * lp + c.commit_weight * out.commit_loss
        ds = torch.zeros((), device=self.device)
        tex = torch.zeros((), device=self.device)
        if c.texture_weight > 0:
            tex = texture_loss(self.lpips, recon.clamp(0, 1) * 2 - 1, x * 2 - 1)
            loss = loss + c.texture_weight * tex
        con = torch.zeros((), device=self.device)
        if c.contrast_weight > 0:
            con = contrast_loss(recon.clamp(0, 1), x)
            loss = loss + c.contrast_weight * con
        if c.dists_weight > 0:
            ds = self.dists(recon.clamp(0, 1), x).mean()
            loss = loss + c.dists_weight * ds
        use_gan = self.disc is not None and self.step >= c.gan_start
        g_adv = torch.zeros((), device=self.device)
        if use_gan:
            for p in self.disc.parameters():
                p.requires_grad_(False)
            g_adv = -self.disc(recon).mean()
            loss = loss + c.gan_weight * g_adv
        for g in self.opt.param_groups:
            g["lr"] = self.lr_at(self.step) * g.get("scale", 1.0)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        self.opt.step()
        d_loss = torch.zeros(())
        if use_gan:
            for p in self.disc.parameters():
                p.requires_grad_(True)
            real, fake = self.disc(x), self.disc(recon.detach())
            d_loss = F.relu(1 - real).mean() + F.relu(1 + fake).mean()
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
        elif self.disc is not None and self.step >= c.gan_start - 500:
            # warm the discriminator up before its gradient reaches the generator
            real, fake = self.disc(x), self.disc(recon.detach())
            d_loss = F.relu(1 - real).mean() + F.relu(1 + fake).mean()
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
        self.step += 1
        psnr = -10 * math.log10(max(float(mse.detach()), 1e-10))
        val = lambda t: float(t.detach())  # noqa: E731
        return {"loss": val(loss), "mse": val(mse), "psnr": psnr, "lpips": val(lp),
                "commit": val(out.commit_loss), "dists": val(ds), "texture": val(tex), "contrast": val(con),
                "g_adv": val(g_adv), "d": val(d_loss),
                "used": out.stats["used"]}

    def _eval_dists(self):
        """DISTS for the periodic check when its weights were converted (a held-out metric)."""
        if self.dists is None:
            from ..metrics import weights
            from ..metrics.dists import DISTS
            if not weights.dists_path().is_file():
                return None
            self.dists = DISTS.load(self.device)  # not used by the loss unless dists_weight > 0
        return self.dists

    @torch.no_grad()
    def evaluate(self) -> dict:
        """LPIPS and DISTS (when its weights exist) and bpp (before entropy coding) at several depths on a few eval images."""
        from PIL import Image
        m = self.model
        m.eval()
        files = list_images(self.cfg.eval_dir)[: self.cfg.eval_images]
        depths = sorted({d for d in (1, 2, 4, 8, m.cfg.stages) if d <= m.cfg.stages})
        res = {d: [] for d in depths}
        res_d = {d: [] for d in depths}
        eval_dists = self._eval_dists()
        for f in files:
            img = torch.from_numpy(np.array(Image.open(f).convert("RGB"))).permute(2, 0, 1)[None].float().div(255).to(self.device)
            idx = m.analyse(img)
            for d in depths:
                dm = torch.full(idx.shape[1:], d, dtype=torch.long, device=self.device)
                rec = m.synthesise(idx, dm)[..., : img.shape[-2], : img.shape[-1]].clamp(0, 1)
                rec = (rec * 255).round() / 255
                res[d].append(float(self.lpips(rec * 2 - 1, img * 2 - 1).mean()))
                if eval_dists is not None:
                    res_d[d].append(float(eval_dists(rec, img).mean()))
        bpp_per_stage = math.log2(m.cfg.codes) / 256
        summary = {f"lpips@{d}": float(np.mean(v)) for d, v in res.items()}
        summary.update({f"dists@{d}": float(np.mean(v)) for d, v in res_d.items() if v})
        summary.update({f"bpp@{d}": d * bpp_per_stage for d in depths})
        return summary

    def run(self, progress: bool = True) -> None:
        c = self.cfg
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "_stop", True))
        bar = None
        if progress and _is_main():
            try:
                from tqdm import tqdm
                bar = tqdm(total=c.steps, initial=self.step, desc="train", dynamic_ncols=True)
            except ImportError:
                bar = None
        acc: list[dict] = []
        t0 = time.time()
        try:
            while self.step < c.steps and not self._stop:
                acc.append(self.train_step())
                if bar:
                    bar.update(1)
                    bar.set_postfix(lpips=f"{acc[-1]['lpips']:.3f}", psnr=f"{acc[-1]['psnr']:.2f}")
                if self.step % c.log_every == 0:
                    keys = ("loss", "mse", "psnr", "lpips", "dists", "texture", "contrast", "commit", "g_adv", "d")
                    avg = {k: float(np.mean([a[k] for a in acc])) for k in keys}
                    used = np.mean([a["used"] for a in acc], axis=0).round().astype(int).tolist()
                    dt = (time.time() - t0) / len(acc)
                    reseeds = self.model.rvq.reseeds
                    self.log(f"step {self.step} " + " ".join(f"{k} {v:.4f}" for k, v in avg.items())
                             + f" lr {self.lr_at(self.step):.2e} s/step {dt:.3f} used {used}"
                             + (f" re-seeded {reseeds}" if any(reseeds) else ""))
                    self.history.append({"step": self.step, **avg, "s_per_step": dt})
                    acc, t0 = [], time.time()
                if self.step % c.checkpoint_every == 0:
                    self.save()
                if c.eval_dir and self.step % c.eval_every == 0 and _is_main():
                    ev = self.evaluate()
                    self.history.append({"step": self.step, "eval": ev})
                    self.log("eval " + json.dumps(ev))
        finally:
            self.save()
            if bar:
                bar.close()
            self.log(f"stopped at step {self.step}")
            if self.distributed:
                dist.destroy_process_group()
