"""Training of the ProGIC model: distortion + LPIPS (+ texture, DISTS) + adversarial + commitment.

The plumbing (devices, torchrun/DDP, resume, checkpoints, LR schedule, log, progress) is the shared
`gic.codecs.learned.train.TrainerBase`; this module is ProGIC's step (quantiser dropout over a
per-position depth map), its evaluation at several depths, and fine-tuning from shipped weights.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import CodecError
from ..imageio import list_images
from ..learned.data import CropDataset
from ..learned.losses import (PatchDiscriminator, hinge_discriminator_loss, hinge_generator_loss,
                              texture_loss)
from ..learned.train import BaseTrainConfig, TrainerBase
from .model import FACTOR, ModelConfig, ProGIC


@dataclass
class TrainConfig(BaseTrainConfig):
    out: str = "runs/progic"
    mse_weight: float = 50.0
    lpips_weight: float = 1.0
    commit_weight: float = 0.25
    gan_weight: float = 0.0  # adversarial loss weight (0 disables the discriminator)
    gan_start: int = 5000  # steps of plain training before the adversarial loss starts
    dists_weight: float = 0.0  # DISTS loss weight (0: VGG16 not loaded); the shipped model keeps
    # DISTS held out for evaluation, see texture_weight for its texture term
    texture_weight: float = 0.0  # match per-channel mean/std of LPIPS's AlexNet features
    init: str = ""  # shipped weight file to start from when the run folder has no checkpoint
    train_only: str = ""  # "decoder": freeze encoder and codebooks, so bitstreams stay identical
    roi_fraction: float = 0.2  # share of samples trained with a random two-level depth map
    full_depth_fraction: float = 0.15  # share of samples forced to all stages
    max_depth: int = 0  # > 0: train only depths 1..max_depth (a decoder specialised for few stages)
    model: dict = field(default_factory=dict)  # ModelConfig overrides


def sample_depth(batch: int, h: int, w: int, stages: int, cfg: TrainConfig,
                 gen: torch.Generator) -> torch.Tensor:
    """Per-position number of stages: quantiser dropout (uniform prefix per sample), some
    samples at full depth, some with an ROI-like rectangle deeper than its surroundings; with
    `cfg.max_depth`, never deeper than it (a decoder specialised for the first stages)."""
    if cfg.max_depth:
        stages = min(stages, cfg.max_depth)
    depth = torch.randint(1, stages + 1, (batch, 1, 1), generator=gen).expand(batch, h, w).clone()
    u = torch.rand(batch, generator=gen)
    for i in range(batch):
        if u[i] < cfg.full_depth_fraction:
            depth[i] = stages
        elif stages > 1 and u[i] < cfg.full_depth_fraction + cfg.roi_fraction:
            lo = int(torch.randint(1, stages, (1,), generator=gen))
            hi = int(torch.randint(lo + 1, stages + 1, (1,), generator=gen))
            y0, x0 = (int(torch.randint(0, h, (1,), generator=gen)), int(torch.randint(0, w, (1,), generator=gen)))
            y1 = int(torch.randint(y0 + 1, h + 1, (1,), generator=gen))
            x1 = int(torch.randint(x0 + 1, w + 1, (1,), generator=gen))
            depth[i] = lo
            depth[i, y0:y1, x0:x1] = hi
    return depth


class Trainer(TrainerBase):
    log_keys = ("loss", "mse", "psnr", "lpips", "dists", "texture", "commit", "g_adv", "d")
    progress_keys = ("lpips", "psnr")

    def setup(self) -> None:
        cfg = self.cfg
        self.model = ProGIC(ModelConfig.from_dict(cfg.model) if cfg.model else ModelConfig()).to(self.device)
        if cfg.init and not self.checkpoint_path().exists():
            self._init_from(cfg.init)
        if cfg.train_only not in ("", "decoder"):
            raise CodecError(f"train_only must be '' or 'decoder', not {cfg.train_only!r}")
        if cfg.train_only:
            self.model.encoder.requires_grad_(False)
            self.model.rvq.requires_grad_(False)
        from ..metrics.lpips import LPIPS  # the shipped, converted LPIPS (no model hub)
        self.lpips = LPIPS.load(device=str(self.device)) if hasattr(LPIPS, "load") else LPIPS().to(self.device)
        self.lpips.eval()
        for p in self.lpips.parameters():
            p.requires_grad_(False)
        self.dists = None
        if cfg.dists_weight > 0:
            from ..metrics.dists import DISTS  # frozen VGG16 from resources/, no model hub
            self.dists = DISTS.load(self.device)
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.opt = torch.optim.AdamW([{"params": trainable, "scale": 1.0}], lr=cfg.lr, betas=(0.9, 0.99),
                                     weight_decay=0.0)
        self.disc = PatchDiscriminator().to(self.device) if cfg.gan_weight > 0 else None
        self.opt_d = torch.optim.AdamW(self.disc.parameters(), lr=cfg.lr, betas=(0.5, 0.9)) if self.disc else None
        self.data = CropDataset(cfg.data, cfg.crop)
        self.log(f"data: {len(self.data)} images from {cfg.data}; device {self.device}; "
                 f"threads {torch.get_num_threads()}; params {sum(p.numel() for p in self.model.parameters())/1e6:.2f}M")

    def extra_state(self) -> dict:
        return {"disc": self.disc.state_dict() if self.disc else None,
                "opt_d": self.opt_d.state_dict() if self.opt_d else None}

    def load_extra_state(self, ck: dict) -> None:
        if self.disc is not None and ck.get("disc"):
            self.disc.load_state_dict(ck["disc"])
            self.opt_d.load_state_dict(ck["opt_d"])

    def status(self, acc: list[dict]) -> str:
        used = np.mean([a["used"] for a in acc], axis=0).round().astype(int).tolist()
        reseeds = self.model.rvq.reseeds
        return f" used {used}" + (f" re-seeded {reseeds}" if any(reseeds) else "")

    # -- fine-tuning from shipped weights ---------------------------------------------------------
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
        rvq = self.model.rvq
        with torch.no_grad():  # EMA statistics consistent with the loaded codebooks
            rvq.ema_count.fill_(1.0)
            rvq.ema_sum.copy_(rvq.codebooks)
            rvq.initialised.fill_(True)
        self.log(f"initialised from {path} ({loaded.model_id}, step {loaded.info.get('step')})")

    def _grown_blocks(self, loaded_cfg: ModelConfig) -> list[tuple[int, int]]:
        """(level, first new block) for each decoder level this run has more blocks in than the
        loaded weights. Growing is allowed only with a frozen encoder (--train-only decoder), so the
        loaded file's bitstreams keep their meaning."""
        mine, theirs = self.model.cfg.to_dict(), loaded_cfg.to_dict()
        if mine == theirs:
            return []
        rest = lambda d: {k: v for k, v in d.items() if k != "dec_blocks"}  # noqa: E731
        deeper = all(a >= b for a, b in zip(mine["dec_blocks"], theirs["dec_blocks"]))
        if not (rest(mine) == rest(theirs) and deeper and self.cfg.train_only):
            raise CodecError("the --init weights have a different architecture than this run (--model); "
                             "only adding decoder blocks (dec_blocks, with --train-only decoder) is supported")
        return [(i, b) for i, (a, b) in enumerate(zip(mine["dec_blocks"], theirs["dec_blocks"])) if a > b]

    # -- one step ------------------------------------------------------------------------------
    def train_step(self) -> dict:
        c, m = self.cfg, self.model
        net = self.ddp or m
        m.train()
        if c.train_only == "decoder":
            m.encoder.eval()
            m.rvq.eval()  # no EMA codebook updates: indices (and so rates) do not change
        x = self.data.batch(c.batch, self.rng).to(self.device, non_blocking=True)
        h, w = x.shape[-2] // FACTOR, x.shape[-1] // FACTOR
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
        if c.dists_weight > 0:
            ds = self.dists(recon.clamp(0, 1), x).mean()
            loss = loss + c.dists_weight * ds
        use_gan = self.disc is not None and self.step >= c.gan_start
        g_adv = torch.zeros((), device=self.device)
        if use_gan:
            for p in self.disc.parameters():
                p.requires_grad_(False)
            g_adv = hinge_generator_loss(self.disc(recon))
            loss = loss + c.gan_weight * g_adv
        self.set_lr()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        self.opt.step()
        d_loss = torch.zeros(())
        # the critic warms up 500 steps before its gradient reaches the generator
        if self.disc is not None and self.step >= c.gan_start - 500:
            if use_gan:
                for p in self.disc.parameters():
                    p.requires_grad_(True)
            d_loss = hinge_discriminator_loss(self.disc(x), self.disc(recon.detach()))
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
        self.step += 1
        psnr = -10 * math.log10(max(float(mse.detach()), 1e-10))
        val = lambda t: float(t.detach())  # noqa: E731
        return {"loss": val(loss), "mse": val(mse), "psnr": psnr, "lpips": val(lp),
                "commit": val(out.commit_loss), "dists": val(ds), "texture": val(tex),
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
