"""The network itself: the two-latent (split) variant's contract with the codec and the trainer."""
import numpy as np
import pytest
import torch

from gic.codecs.progic.codec import ProGICCodec
from gic.codecs.progic.model import ModelConfig, ProGIC
from gic.codecs.progic.train import TrainConfig, Trainer
from gic.codecs.progic.train_command import TINY_MODEL
from gic.codecs.progic.weights import export_checkpoint, load_model

SPLIT = dict(TINY_MODEL, split=1)


def _export_and_round_trip(run, train_folder, model_id: str):
    """Export the run's checkpoint and check it codes progressively like any model; the weights."""
    out = run / f"{model_id}.pt"
    export_checkpoint(run / "last.pt", out, model_id=model_id, tables_data=train_folder)
    codec = ProGICCodec(weights=str(out))
    img = (np.random.default_rng(0).random((40, 56, 3)) * 255).astype(np.uint8)
    data = codec.encode(img, quality=TINY_MODEL["stages"])
    previews = list(codec.decode_progressive(data))
    assert len(previews) == TINY_MODEL["stages"]
    assert np.array_equal(previews[-1].image, codec.decode(data))
    return out


def test_split_must_leave_stages_for_both_latents():
    from gic.codecs.errors import CodecError
    with pytest.raises(CodecError, match="split"):
        ProGIC(ModelConfig.from_dict(dict(TINY_MODEL, split=TINY_MODEL["stages"])))


def test_first_stages_of_a_split_model_ignore_the_second_latent():
    """Indices of the late stages change nothing where a position's depth stops before them, and
    the first stages' indices come from the first encoder alone (same as a one-latent model)."""
    torch.manual_seed(0)
    m = ProGIC(ModelConfig.from_dict(SPLIT)).eval()
    x = torch.rand(1, 3, 48, 64)
    with torch.no_grad():
        idx = m.analyse(x)
        assert idx.shape == (TINY_MODEL["stages"], 1, 3, 4)
        one = ProGIC(ModelConfig.from_dict(TINY_MODEL)).eval()
        one.load_state_dict({k: v for k, v in m.state_dict().items()
                             if not k.startswith(("encoder2.", "decoder.inp2."))})
        assert torch.equal(one.analyse(x)[:1], idx[:1])
        shallow = torch.full((1, 3, 4), 1)
        other = idx.clone()
        other[1:] = (other[1:] + 1) % TINY_MODEL["codes"]
        assert torch.equal(m.synthesise(idx, shallow), m.synthesise(other, shallow))
        deep = torch.full((1, 3, 4), TINY_MODEL["stages"])
        assert not torch.equal(m.synthesise(idx, deep), m.synthesise(other, deep))


def test_from_scratch_training_initialises_both_latents_codebooks(train_folder, tmp_path):
    cfg = TrainConfig(data=str(train_folder), out=str(tmp_path), steps=2, batch=2, crop=64,
                      log_every=100, checkpoint_every=100, model=SPLIT, threads=1)
    t = Trainer(cfg)
    before = t.model.rvq.codebooks.clone()
    out = t.train_step()
    assert len(out["used"]) == TINY_MODEL["stages"] and bool(t.model.rvq.initialised)
    assert all(not torch.equal(before[s], t.model.rvq.codebooks[s]) for s in range(TINY_MODEL["stages"]))


def test_enhancement_training_starts_as_the_loaded_model_and_keeps_its_first_stages(
        train_folder, tiny_weights, tmp_path):
    """--model '{"split": K}' --train-only enhancement from one-latent weights: the same
    reconstructions at the start, and training never touches the first encoder or first K codebooks,
    so the first K layers of every file stay those of the loaded model."""
    base = load_model(tiny_weights).model
    cfg = TrainConfig(data=str(train_folder), out=str(tmp_path), steps=3, batch=2, crop=64, lr=1e-2,
                      log_every=100, checkpoint_every=100, model=SPLIT, threads=1,
                      init=str(tiny_weights), train_only="enhancement")
    t = Trainer(cfg)
    x = torch.rand(1, 3, 64, 80)
    t.model.eval()
    with torch.no_grad():
        idx = t.model.analyse(x)
        assert torch.equal(idx, base.analyse(x))
        for d in range(1, TINY_MODEL["stages"] + 1):
            depth = torch.full(idx.shape[1:], d)
            torch.testing.assert_close(t.model.synthesise(idx, depth), base.synthesise(idx, depth))
    t.run(progress=False)
    after = t.model.state_dict()
    for k, v in base.state_dict().items():
        if k.startswith("encoder."):
            assert torch.equal(after[k], v), k
    assert torch.equal(after["rvq.codebooks"][:1], base.state_dict()["rvq.codebooks"][:1])
    image_features = TINY_MODEL["enc_channels"][-1]  # started at zero: only the residual passed
    assert after["encoder2.proj.weight"][:, :image_features].abs().sum() > 0
    assert "second latent added" in (tmp_path / "train.log").read_text()
    # the result ships and codes like any model: round trip through the codec
    _export_and_round_trip(tmp_path, train_folder, "progic-split-test")


def test_enhancement_training_needs_a_split_model(train_folder, tiny_weights, tmp_path):
    from gic.codecs.errors import CodecError
    with pytest.raises(CodecError, match="second latent"):
        Trainer(TrainConfig(data=str(train_folder), out=str(tmp_path), steps=1, model=TINY_MODEL,
                            threads=1, init=str(tiny_weights), train_only="enhancement"))
    with pytest.raises(CodecError, match="different architecture"):  # adding a latent needs the frozen base
        Trainer(TrainConfig(data=str(train_folder), out=str(tmp_path / "b"), steps=1, model=SPLIT,
                            threads=1, init=str(tiny_weights)))


def test_second_latent_modules_get_their_own_learning_rate(train_folder, tiny_weights, tmp_path):
    cfg = TrainConfig(data=str(train_folder), out=str(tmp_path), steps=1, batch=2, crop=64, lr=1e-3,
                      log_every=100, checkpoint_every=100, model=SPLIT, threads=1,
                      init=str(tiny_weights), train_only="enhancement", new_lr_scale=10)
    t = Trainer(cfg)
    t.train_step()
    base, new = t.opt.param_groups
    assert new["lr"] == pytest.approx(10 * base["lr"])
    new_ids = {id(p) for p in new["params"]}
    assert {id(p) for p in t.model.encoder2.parameters()} <= new_ids
    assert id(t.model.decoder.inp2.weight) in new_ids and id(t.model.decoder.inp.weight) not in new_ids


FSQ = dict(TINY_MODEL, split=1, late="fsq")


def test_fsq_needs_a_split_and_a_power_of_four_codes():
    from gic.codecs.errors import CodecError
    for bad in (dict(TINY_MODEL, late="fsq"), dict(FSQ, codes=12), dict(FSQ, late="lfq")):
        with pytest.raises(CodecError, match="late="):
            ProGIC(ModelConfig.from_dict(bad))


def test_fsq_late_stages_decode_what_training_saw_and_nothing_past_the_depth():
    """Inference (indices -> synthesise) reproduces the training pass's reconstruction at every
    depth, and a stage's indices matter only where the depth includes it."""
    torch.manual_seed(0)
    m = ProGIC(ModelConfig.from_dict(FSQ))
    torch.nn.init.normal_(m.decoder.inp2.weight, std=0.3)
    m.rvq.initialised.fill_(True)
    m.update_base_codebooks = False  # the training pass must not move the codebooks under test
    x = torch.rand(1, 3, 48, 64)
    m.eval()
    with torch.no_grad():
        idx = m.analyse(x)
        for d in range(1, TINY_MODEL["stages"] + 1):
            depth = torch.full((1, 3, 4), d)
            m.train()
            m.decoder.train(False)  # the decoder's training path differs only by speed; compare values
            train_recon = m(x, depth).recon
            m.eval()
            torch.testing.assert_close(m.synthesise(idx, depth), train_recon, atol=1e-5, rtol=1e-5)
        other = idx.clone()
        other[2] = (other[2] + 7) % TINY_MODEL["codes"]
        two, three = torch.full((1, 3, 4), 2), torch.full((1, 3, 4), 3)
        assert torch.equal(m.synthesise(idx, two), m.synthesise(other, two))
        assert not torch.equal(m.synthesise(idx, three), m.synthesise(other, three))


def test_fsq_enhancement_training_keeps_the_first_stages_and_ships(train_folder, tiny_weights, tmp_path):
    """--model '{"split": K, "late": "fsq"}' --train-only enhancement: the first K layers stay the
    loaded model's, the second latent's features start as the loaded encoder's, and the result
    exports and codes progressively like any model."""
    base = load_model(tiny_weights).model
    cfg = TrainConfig(data=str(train_folder), out=str(tmp_path), steps=3, batch=2, crop=64, lr=1e-2,
                      log_every=100, checkpoint_every=100, model=FSQ, threads=1,
                      init=str(tiny_weights), train_only="enhancement")
    t = Trainer(cfg)
    assert "FSQ second latent added" in (tmp_path / "train.log").read_text()
    for k, v in base.encoder.net[:-1].state_dict().items():
        assert torch.equal(t.model.encoder2.features.state_dict()[k], v), k
    x = torch.rand(1, 3, 64, 80)
    t.run(progress=False)
    t.model.eval()
    with torch.no_grad():
        assert torch.equal(t.model.analyse(x)[:1], base.analyse(x)[:1])
    assert torch.equal(t.model.state_dict()["rvq.codebooks"][:1], base.state_dict()["rvq.codebooks"][:1])
    assert t.model.decoder.inp2.weight.abs().sum() > 0  # started at zero, learned to use the latent
    loaded = load_model(_export_and_round_trip(tmp_path, train_folder, "progic-fsq-test"))
    assert loaded.model.cfg.late == "fsq" and loaded.model.fsq is not None
