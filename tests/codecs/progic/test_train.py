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


def test_depth_sampler_max_depth_caps_every_sample():
    """--max-depth N: a decoder specialised for the first N stages never sees a deeper one
    (N = 1 also leaves no room for the ROI pattern, which needs two depths)."""
    for n in (1, 3):
        cfg = TrainConfig(roi_fraction=0.5, full_depth_fraction=0.2, max_depth=n)
        d = sample_depth(64, 4, 4, 6, cfg, torch.Generator().manual_seed(0))
        assert int(d.min()) >= 1 and int(d.max()) == n


def test_decoder_finetune_from_weights_keeps_encoder_and_codebooks(train_folder, tiny_weights, tmp_path):
    """--init + --train-only decoder: starts from the shipped file, changes only the decoder, so
    the indices (and hence every file's bytes) a fine-tuned model writes are unchanged."""
    start = load_model(tiny_weights).model.state_dict()
    cfg = TrainConfig(data=str(train_folder), out=str(tmp_path), steps=3, batch=2, crop=64, lr=1e-2,
                      log_every=100, checkpoint_every=100, model=TINY_MODEL, threads=1,
                      init=str(tiny_weights), train_only="decoder")
    t = Trainer(cfg)
    assert torch.equal(t.model.decoder.inp.weight, start["decoder.inp.weight"])  # loaded, not random
    t.run(progress=False)
    after = t.model.state_dict()
    for k, v in start.items():
        if k.startswith(("encoder.", "rvq.codebooks")):
            assert torch.equal(after[k], v), k
    assert not torch.equal(after["decoder.inp.weight"], start["decoder.inp.weight"])
    assert "initialised from" in (tmp_path / "train.log").read_text()


def test_decoder_upgrade_reads_its_parents_files(train_folder, tiny_weights, image, tmp_path):
    """A decoder-only fine-tune exports as a new model that declares it reads the parent's files
    (same encoder, codebooks and tables); anything else that differs is refused at export."""
    import pytest
    from gic.codecs import container
    from gic.codecs.errors import CodecError, ModelMismatchError
    from gic.codecs.progic.codec import ProGICCodec
    from gic.codecs.progic.weights import export_checkpoint
    cfg = TrainConfig(data=str(train_folder), out=str(tmp_path / "run"), steps=3, batch=2, crop=64,
                      lr=1e-2, model=TINY_MODEL, threads=1, init=str(tiny_weights), train_only="decoder")
    Trainer(cfg).run(progress=False)
    info = export_checkpoint(tmp_path / "run" / "last.pt", tmp_path / "v2.pt", model_id="progic-tiny-v2")
    parent, child = ProGICCodec(weights=str(tiny_weights)), ProGICCodec(weights=str(tmp_path / "v2.pt"))
    assert child.loaded.also_decodes == [(parent.model_id, parent.loaded.model_hash)]
    assert (child.loaded.tables == parent.loaded.tables).all()
    old_file, new_file = parent.encode(image, quality=3), child.encode(image, quality=3)
    assert container.unpack(new_file).layers == container.unpack(old_file).layers  # same bitstream
    assert container.unpack(new_file).header.model_hash.hex()[:32] == info["hash"]
    assert child.decode(old_file).shape == image.shape  # the parent's file, with the new decoder
    assert not (child.decode(old_file) == parent.decode(old_file)).all()
    with pytest.raises(ModelMismatchError):  # the parent does not know the upgrade's files
        parent.decode(new_file)
    ck = torch.load(tmp_path / "run" / "last.pt", weights_only=False)
    ck["model"][next(k for k in ck["model"] if k.startswith("encoder."))] += 1e-2
    torch.save(ck, tmp_path / "tampered.pt")
    with pytest.raises(CodecError, match="differ"):
        export_checkpoint(tmp_path / "tampered.pt", tmp_path / "bad.pt", model_id="x")


def test_init_rejects_weights_of_another_architecture(train_folder, tiny_weights, tmp_path):
    import pytest
    from gic.codecs.errors import CodecError
    other = dict(TINY_MODEL, latent_dim=4)
    cfg = TrainConfig(data=str(train_folder), out=str(tmp_path), steps=1, model=other, threads=1,
                      init=str(tiny_weights))
    with pytest.raises(CodecError, match="different architecture"):
        Trainer(cfg)


def test_decoder_growth_starts_as_the_loaded_function(train_folder, tiny_weights, tmp_path):
    """Adding decoder blocks (--model with larger dec_blocks, --train-only decoder) starts from
    exactly the loaded model: the new blocks are identities until training moves them."""
    import pytest
    from gic.codecs.errors import CodecError
    grown = dict(TINY_MODEL, dec_blocks=[b + 1 for b in TINY_MODEL["dec_blocks"]])
    cfg = TrainConfig(data=str(train_folder), out=str(tmp_path / "a"), steps=1, batch=2, crop=64,
                      model=grown, threads=1, init=str(tiny_weights), train_only="decoder")
    t = Trainer(cfg)
    base = load_model(tiny_weights).model.eval()
    t.model.eval()
    idx = torch.randint(0, TINY_MODEL["codes"], (TINY_MODEL["stages"], 1, 4, 4))
    depth = torch.full((1, 4, 4), TINY_MODEL["stages"])
    with torch.no_grad():
        torch.testing.assert_close(t.model.synthesise(idx, depth), base.synthesise(idx, depth))
    assert "decoder grown" in (tmp_path / "a" / "train.log").read_text()
    with pytest.raises(CodecError, match="different architecture"):  # growth needs a frozen encoder
        Trainer(TrainConfig(data=str(train_folder), out=str(tmp_path / "b"), steps=1, model=grown,
                            threads=1, init=str(tiny_weights)))


def test_dists_loss_term_is_used_when_weighted(train_folder, tmp_path):
    import pytest
    from gic.codecs.metrics import weights
    if not weights.dists_path().is_file():
        pytest.skip(f"DISTS weights not converted; run: {weights.DISTS_SETUP_COMMAND}")
    cfg = TrainConfig(data=str(train_folder), out=str(tmp_path), steps=1, batch=2, crop=64,
                      model=TINY_MODEL, threads=1, dists_weight=1.0)
    t = Trainer(cfg)
    out = t.train_step()
    assert 0.0 < out["dists"] < 1.0
    assert out["loss"] > cfg.lpips_weight * out["lpips"] + cfg.dists_weight * out["dists"] - 1e-6
    assert Trainer(TrainConfig(data=str(train_folder), out=str(tmp_path / "b"), crop=64, model=TINY_MODEL,
                               threads=1)).dists is None  # VGG16 only loaded when asked for
