"""Training MCDH: MSE + λ·rate over a λ range, one rate level per sample (gain units), so a single
model serves every quality. CPU, CUDA or torchrun, resumable (the shared TrainerBase)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..learned.data import CropDataset
from ..learned.train import BaseTrainConfig, TrainerBase
from .model import MCDH, MCDHConfig

#: λ of the lowest and highest rate level (distortion = λ · 255² · MSE, CompressAI's convention;
#: 0.0018 is CompressAI's ~0.1 bpp point, 0.0483 its ~1 bpp point).
LAMBDA_RANGE = (0.0018, 0.0483)


def lambdas(levels: int, lo: float = LAMBDA_RANGE[0], hi: float = LAMBDA_RANGE[1]) -> np.ndarray:
    """The λ of each rate level, geometrically spaced (level 0 = lowest rate)."""
    return np.geomspace(lo, hi, levels)


@dataclass
class MCDHTrainConfig(BaseTrainConfig):
    out: str = "runs/mcdh"
    batch: int = 8
    crop: int = 128
    lr: float = 3e-4
    lr_final: float = 3e-5
    lambda_lo: float = LAMBDA_RANGE[0]
    lambda_hi: float = LAMBDA_RANGE[1]
    model: dict = field(default_factory=dict)
    init: str = ""  # shipped weight file to start from when the run folder has no checkpoint


def _pad16(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.pad(x, (0, -x.shape[-1] % 64, 0, -x.shape[-2] % 64), mode="replicate")


class MCDHTrainer(TrainerBase):
    log_keys = ("loss", "bpp", "psnr")
    progress_keys = ("bpp", "psnr")
    cfg: MCDHTrainConfig

    def setup(self) -> None:
        c = self.cfg
        self.data = CropDataset(c.data, c.crop)
        self.model = MCDH(MCDHConfig(**c.model)).to(self.device)
        self.lambdas = torch.tensor(lambdas(self.model.cfg.levels, c.lambda_lo, c.lambda_hi),
                                    dtype=torch.float32, device=self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=c.lr)
        if c.init and not self.checkpoint_path().exists():
            self._init_from(c.init)

    def _init_from(self, path: str) -> None:
        """Continue from a shipped fp16 export (fresh optimiser, its step count): run folders may be
        lost between sessions while the committed export survives."""
        from .weights import FAMILY
        from ..learned.weights import read_weights
        wf = read_weights(path, FAMILY)
        if MCDHConfig(**wf.config) != self.model.cfg:
            from ..errors import CodecError
            raise CodecError("the --init weights have a different architecture than this run (--model)")
        self.model.load_state_dict(wf.state_dict)
        self.step = int(wf.info.get("step") or 0)
        self.log(f"initialised from {path} ({wf.model_id}, step {self.step})")

    def train_step(self) -> dict:
        c, model = self.cfg, self.ddp or self.model
        self.set_lr()
        x = self.data.batch(c.batch, self.rng).to(self.device)
        level = torch.from_numpy(self.rng.integers(0, self.model.cfg.levels, c.batch)).to(self.device)
        out = model(x, level)
        mse = ((out["x_hat"] - x) ** 2).flatten(1).mean(1)
        bpp = out["bits"] / (x.shape[-1] * x.shape[-2])
        loss = (self.lambdas[level] * 255 ** 2 * mse + bpp).mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        self.step += 1
        psnr = float((-10 * torch.log10(mse.detach().clamp_min(1e-10))).mean())
        return {"loss": float(loss.detach()), "bpp": float(bpp.detach().mean()), "psnr": psnr}

    def evaluate(self) -> dict:
        """Estimated bpp / PSNR of the first eval images at the lowest, middle and highest level."""
        from PIL import Image

        from ..imageio import list_images
        self.model.eval()
        out = {}
        files = list_images(self.cfg.eval_dir)[: self.cfg.eval_images]
        levels = sorted({0, self.model.cfg.levels // 2, self.model.cfg.levels - 1})
        with torch.no_grad():
            for lv in levels:
                bpp, psnr = [], []
                for f in files:
                    with Image.open(f) as im:
                        a = np.asarray(im.convert("RGB"))
                    x = torch.from_numpy(a.copy()).permute(2, 0, 1)[None].float().div(255).to(self.device)
                    r = self.model(_pad16(x), torch.tensor([lv], device=self.device))
                    xh = r["x_hat"][..., : x.shape[-2], : x.shape[-1]].clamp(0, 1)
                    bpp.append(float(r["bits"][0]) / (x.shape[-1] * x.shape[-2]))
                    psnr.append(float(-10 * torch.log10(((xh - x) ** 2).mean())))
                out[f"q{lv + 1}"] = {"bpp": round(float(np.mean(bpp)), 4), "psnr": round(float(np.mean(psnr)), 2)}
        self.model.train()
        return out
