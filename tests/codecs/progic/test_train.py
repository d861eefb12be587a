import torch

from gic.codecs.progic.train import TrainConfig, Trainer, sample_depth
from gic.codecs.progic.train_command import TINY_MODEL
from gic.codecs.progic.weights import load_model


def test_training_resumes_from_checkpoint_and_exports(train_folder, tmp_path):
    cfg = TrainConfig(data=str(train_folder), out=str(tmp_path), steps=4, batch=2, crop=64,
                      log_every=2, checkpoint_every=100, model=TINY_MODEL, threads=1,
                      gan_weight=0.1, gan_start=2)
    t = Trainer(cfg)
    first = t.train_step()
    assert all(torch.isfinite(torch.tensor(v)) for k, v in first.items() if k != "used")
    t.run(progress=False)
    assert (tmp_path / "last.pt").exists() and "step 4" in (tmp_path / "train.log").read_text()
    cfg.steps = 6
    t2 = Trainer(cfg)
    assert t2.step == 4
    t2.run(progress=False)
    assert t2.step == 6


def test_exported_weights_load_with_hash_and_tables(tiny_weights):
    lm = load_model(tiny_weights)
    assert lm.model_id == "progic-tiny-test" and len(lm.model_hash) == 16
    assert lm.tables.shape == (TINY_MODEL["stages"], TINY_MODEL["codes"])
    assert (lm.tables.sum(1) == 1 << 16).all()


def test_depth_sampler_covers_prefixes_and_roi_patterns():
    cfg = TrainConfig(roi_fraction=0.5, full_depth_fraction=0.2)
    d = sample_depth(64, 4, 4, 6, cfg, torch.Generator().manual_seed(0))
    assert int(d.min()) >= 1 and int(d.max()) == 6
    varying = [(x.max() != x.min()).item() for x in d]
    assert any(varying) and not all(varying)
