"""The `gic` command line, driven through a subprocess the way a user calls it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gic.cli import main as cli
from gic.codecs import container, registry
from gic.codecs.base import RegionCodec

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLE = DATA / "kodim23_64x48.png"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def gic(*args: object, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gic.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=ENV, timeout=timeout)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gic: error: ")
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), lines[0]


def load(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0**2 / mse)


def builtin_names() -> list[str]:
    """The registry as a fresh process sees it (tests in this process may register doubles)."""
    code = "from gic.codecs import registry; print(','.join(registry.names()))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().split(",")


def make_gic(num_layers: int = 3, roi: bool = True) -> bytes:
    header = container.Header(width=64, height=48, codec="no-such-codec", model_id="test-model",
                              model_hash=bytes(range(16)), num_layers=num_layers)
    mask = np.zeros((48, 64), bool)
    mask[8:24, 16:48] = True
    layers = [bytes([k]) * (100 * k) for k in range(1, num_layers + 1)]
    return container.pack(header, layers, params={"depth": num_layers},
                          roi=mask if roi else None, metadata={"source": "kodim23_64x48.png"})


# -- discovery ----------------------------------------------------------------------------------
def test_help_lists_every_command():
    r = gic("--help")
    assert r.returncode == 0
    for name in ("encode", "decode", "info", "metrics", "codecs", "view", "bench", "train"):
        assert name in r.stdout


def test_codecs_lists_the_whole_registry():
    r = gic("codecs")
    assert r.returncode == 0, r.stderr
    names = builtin_names()
    listed = [line.split()[0] for line in r.stdout.splitlines()[1:]]
    assert listed == names
    assert "1-95" in r.stdout  # JPEG's quality range

    r = gic("codecs", "--json")
    rows = json.loads(r.stdout)
    assert [row["name"] for row in rows] == names
    avif = next(row for row in rows if row["name"] == "avif")
    assert avif["quality_range"] == [0, 100] and avif["extension"] == ".avif"
    assert avif["progressive"] is False and avif["roi"] is False


def test_the_installed_gic_script_runs():
    script = shutil.which("gic", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the gic console script is not installed next to this Python")
    r = subprocess.run([script, "codecs"], capture_output=True, text=True, env=ENV, timeout=60)
    assert r.returncode == 0 and "avif" in r.stdout


# -- encode / decode ----------------------------------------------------------------------------
ROUND_TRIP = [("jpeg", 90, 30.0), ("webp", 90, 30.0), ("avif", 90, 30.0), ("jxl", 90, 30.0),
              ("jpeg2000", 80, 30.0), ("avif-x2", 90, 20.0), ("webp-x4", 90, 16.0)]


@pytest.mark.parametrize("name,quality,floor", ROUND_TRIP)
def test_encode_decode_round_trip(tmp_path, name, quality, floor):
    codec = registry.create(name)
    out = tmp_path / f"x{codec.extension}"
    r = gic("encode", SAMPLE, out, "--codec", name, "--quality", quality)
    assert r.returncode == 0, r.stderr
    size = out.stat().st_size
    assert f"codec {name}" in r.stdout and f"{size} bytes" in r.stdout
    assert f"{size * 8 / (64 * 48):.4f} bpp" in r.stdout
    assert r.stderr == ""

    png = tmp_path / "back.png"
    r = gic("decode", out, png)
    assert r.returncode == 0, r.stderr
    back = load(png)
    assert back.shape == (48, 64, 3)
    assert psnr(load(SAMPLE), back) > floor
    # The CLI decodes exactly what the library decodes.
    assert np.array_equal(back, codec.decode(out.read_bytes()))


def test_encode_to_a_target_bpp_reports_the_quality_found(tmp_path):
    out = tmp_path / "x.webp"
    r = gic("encode", SAMPLE, out, "--codec", "webp", "--bpp", "1.5")
    assert r.returncode == 0, r.stderr
    bpp = out.stat().st_size * 8 / (64 * 48)
    assert abs(bpp - 1.5) / 1.5 < 0.3
    assert "quality " in r.stdout and "target 1.5 bpp" in r.stdout


def test_encode_notes_an_unusual_suffix(tmp_path):
    r = gic("encode", SAMPLE, tmp_path / "x.bin", "--codec", "jpeg")
    assert r.returncode == 0
    assert "gic: note:" in r.stderr and ".jpg" in r.stderr


def test_encode_says_alpha_is_flattened_and_onto_what(tmp_path):
    from PIL import Image

    rgba = np.dstack([load(SAMPLE), np.full((48, 64), 255, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "opaque.png")
    r = gic("encode", tmp_path / "opaque.png", tmp_path / "o.jpg", "--codec", "jpeg")
    assert r.returncode == 0 and r.stderr == ""  # an alpha channel that is all opaque changes nothing
    rgba[:10, :10, 3] = 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "clear.png")
    r = gic("encode", tmp_path / "clear.png", tmp_path / "c.jpg", "--codec", "jpeg")
    assert r.returncode == 0, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gic: note: clear.png has transparency")
    assert "flattened onto white (RGB 255,255,255)" in lines[0]


def test_failed_encode_leaves_an_existing_output_alone(tmp_path):
    out = tmp_path / "keep.avif"
    out.write_bytes(b"precious")
    r = gic("encode", SAMPLE, out, "--codec", "avif", "--quality", "101")
    assert_one_line_error(r, "quality", "[0, 100]")
    assert out.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.avif"]


# -- info ---------------------------------------------------------------------------------------
def test_info_json_on_an_image_and_a_classical_file(tmp_path):
    r = gic("info", SAMPLE, "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["format"] == "PNG" and (info["width"], info["height"]) == (64, 48)
    assert info["bytes"] == SAMPLE.stat().st_size

    out = tmp_path / "x.avif-x2"
    assert gic("encode", SAMPLE, out, "--codec", "avif-x2").returncode == 0
    info = json.loads(gic("info", out, "--json").stdout)
    assert info["codec"] == "avif-x2" and (info["width"], info["height"]) == (64, 48)
    assert (info["stored_width"], info["stored_height"]) == (32, 24)
    assert info["bpp"] == pytest.approx(out.stat().st_size * 8 / (64 * 48), abs=1e-5)


def test_info_on_a_gic_file_shows_header_layers_roi_and_metadata(tmp_path):
    path = tmp_path / "x.gic"
    data = make_gic()
    path.write_bytes(data)
    info = json.loads(gic("info", path, "--json").stdout)
    assert info["type"] == "gic" and info["codec"] == "no-such-codec"
    assert info["model_id"] == "test-model" and info["model_hash"] == bytes(range(16)).hex()
    assert info["num_layers"] == 3 and info["layers_present"] == 3 and info["partial"] is False
    assert [layer["bytes"] for layer in info["layers"]] == [100, 200, 300]
    assert info["layers"][-1]["end_offset"] <= len(data)
    assert info["roi"]["pixels"] == 16 * 32
    assert info["params"] == {"depth": 3} and info["metadata"] == {"source": "kodim23_64x48.png"}

    text = gic("info", path).stdout
    assert "3 of 3 (complete)" in text and "512 px" in text and "no-such-codec" in text


class SplitReportingCodec(RegionCodec):
    """A test double: one stored layer; reports 3/4 of the layer's bits inside the ROI."""

    name = "test-roi-split"
    description = "test double"
    extension = ".gic"
    quality_range = (1, 2)
    default_quality = 1

    def __init__(self, **_options) -> None:
        pass

    def _encode(self, image, quality, *, progress=None) -> bytes:
        raise NotImplementedError

    def _encode_region(self, image, quality, roi, background_quality, *, progress=None) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes, *, progress=None) -> np.ndarray:
        raise NotImplementedError

    def roi_bits(self, data: bytes):
        bits = 8 * len(container.unpack(data).layers[0])
        return 3 * bits // 4, bits - 3 * bits // 4


def test_info_shows_bits_inside_and_outside_the_roi_as_the_codec_reports(tmp_path, capsys):
    header = container.Header(width=64, height=48, codec=SplitReportingCodec.name, model_id="",
                              model_hash=bytes(16), num_layers=1)
    mask = np.zeros((48, 64), bool)
    mask[8:24, 16:48] = True
    path = tmp_path / "r.gic"
    path.write_bytes(container.pack(header, [b"x" * 1000], roi=mask))
    registry.register(registry.CodecSpec.of(SplitReportingCodec, "test"))
    try:
        assert cli.main(["info", str(path), "--json"]) == 0
        roi = json.loads(capsys.readouterr().out)["roi"]
        assert (roi["inside_bits"], roi["outside_bits"], roi["inside_share"]) == (6000, 2000, 0.75)
        assert cli.main(["info", str(path)]) == 0
        assert "ROI bits        6,000 inside (75%), 2,000 outside" in capsys.readouterr().out
    finally:
        registry.unregister(SplitReportingCodec.name)
    # a codec that is not installed: the container's facts stay, the bits are unknown and say why
    info = json.loads(gic("info", path, "--json").stdout)
    assert info["roi"]["pixels"] == 512 and info["roi"]["inside_bits"] is None
    assert SplitReportingCodec.name in info["roi"]["bits_note"]
    assert "ROI bits        unknown" in gic("info", path).stdout


def test_info_on_a_truncated_gic_says_it_is_partial(tmp_path):
    data = make_gic()
    full = container.unpack(data)
    cut = data[: full.layer_offsets[1] + 50]  # two complete layers and part of the third
    path = tmp_path / "cut.gic"
    path.write_bytes(cut)
    r = gic("info", path, "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["partial"] is True and info["layers_present"] == 2
    assert info["incomplete_tail_bytes"] == 50
    assert "2 of 3 (partial)" in gic("info", path).stdout


# -- metrics ------------------------------------------------------------------------------------
def _dists_available() -> bool:
    try:
        from gic.codecs.metrics import weights

        return weights.dists_path().exists()
    except Exception:  # noqa: BLE001 - metrics package incomplete: then DISTS is not available
        return False


@pytest.mark.slow
def test_metrics_json_on_two_small_images(tmp_path):
    # MS-SSIM needs 161 px a side (5 scales): measure on the sample enlarged to 256x192.
    ref = tmp_path / "ref.png"
    Image.open(SAMPLE).resize((256, 192), Image.Resampling.LANCZOS).save(ref)
    dist = tmp_path / "d.jpg"
    assert gic("encode", ref, dist, "--codec", "jpeg", "--quality", "30").returncode == 0
    names = "psnr,ms-ssim,lpips" + (",dists" if _dists_available() else "")
    r = gic("metrics", ref, dist, "--json", "--metrics", names, "--device", "cpu", timeout=300)
    assert r.returncode == 0, r.stderr
    values = json.loads(r.stdout)
    assert set(values) == set(names.split(","))
    assert values["psnr"] == pytest.approx(psnr(load(ref), load(dist)), abs=0.01)
    assert 0.5 < values["ms-ssim"] < 1.0
    assert 0.0 < values["lpips"] < 1.0
    if "dists" in values:
        assert 0.0 < values["dists"] < 1.0

    text = gic("metrics", ref, dist, "--metrics", "psnr").stdout
    assert text.startswith("PSNR") and " dB" in text


@pytest.mark.slow
def test_metrics_undefined_for_a_tiny_image_are_null_not_an_error(tmp_path):
    dist = tmp_path / "d.jpg"
    assert gic("encode", SAMPLE, dist, "--codec", "jpeg", "--quality", "30").returncode == 0
    r = gic("metrics", SAMPLE, dist, "--json", "--metrics", "psnr,ms-ssim")
    assert r.returncode == 0, r.stderr
    values = json.loads(r.stdout)
    assert values["ms-ssim"] is None and values["psnr"] > 20
    assert "n/a" in gic("metrics", SAMPLE, dist, "--metrics", "ms-ssim").stdout


@pytest.mark.slow
def test_metrics_of_identical_images_gives_null_psnr_in_json():
    r = gic("metrics", SAMPLE, SAMPLE, "--json", "--metrics", "psnr")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"psnr": None}


@pytest.mark.slow
def test_metrics_refuses_images_of_different_sizes(tmp_path):
    small = tmp_path / "s.png"
    Image.open(SAMPLE).crop((0, 0, 32, 32)).save(small)
    assert_one_line_error(gic("metrics", SAMPLE, small, "--metrics", "psnr"), "differ in size")


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_bad_inputs_give_one_line_and_status_2(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("this is not an image\n")
    out = tmp_path / "o.avif"
    cases = [
        (("encode", tmp_path / "missing.png", out), ("missing.png", "no such file")),
        (("encode", text, out), ("notes.png", "not an image")),
        (("encode", tmp_path, SAMPLE), ("is not a folder",)),  # a folder IN needs a folder OUT
        (("encode", SAMPLE, out, "--codec", "nope"), ("unknown codec",)),
        (("encode", SAMPLE, out, "--codec", "jpeg", "--quality", "0"), ("quality",)),
        (("encode", SAMPLE, out, "--quality", "abc"), ("--quality",)),
        (("encode", SAMPLE, out, "--quality", "5", "--bpp", "0.1"), ("not allowed",)),
        (("encode", SAMPLE, out, "--bpp", "0"), ("--bpp",)),
        (("encode", SAMPLE, out, "--codec", "avif", "--background-quality", "3"), ("--roi",)),
        (("encode", SAMPLE, out, "--codec", "avif", "--roi", SAMPLE), ("region of interest",)),
        (("encode", SAMPLE, tmp_path / "no" / "dir.avif", "--codec", "avif"), ("cannot write",)),
        (("decode", tmp_path / "missing.gic", tmp_path / "o.png"), ("missing.gic",)),
        (("decode", text, tmp_path / "o.png"), ("not an image",)),
        (("decode", SAMPLE, tmp_path / "o.jpg"), (".png",)),
        (("decode", SAMPLE, tmp_path / "o.png", "--layers", "2"), ("not a progressive",)),
        (("info", text), ("not an image",)),
        (("info", tmp_path / "missing.png"), ("missing.png",)),
        (("metrics", SAMPLE, text), ("not an image",)),
        (("metrics", SAMPLE, SAMPLE, "--metrics", "psnr,vmaf"), ("--metrics",)),
        (("train", "--data", tmp_path, "--full-depth-fraction", "1.5"), ("--full-depth-fraction",)),
        (("train", "--data", tmp_path, "--out", tmp_path / "run", "--train-only", "enhancement"),
         ("invalid choice",)),
        (("train", "--data", tmp_path, "--out", tmp_path / "run", "--model", '{"split": 12}'),
         ("second latent",)),
        (("train", "--out", tmp_path / "run", "--export", tmp_path / "w.pt"), ("--model-id",)),
        (("train", "--family", "nope", "--data", tmp_path), ("trainable codec family 'nope'",)),
        (("frobnicate",), ("invalid choice",)),
        ((), ("required",)),
        (("encode", SAMPLE, out, "--wat"), ("unrecognized", "--wat")),
    ]
    for args, fragments in cases:
        assert_one_line_error(gic(*args), *fragments)
    assert not out.exists()


def test_corrupt_truncated_and_foreign_gic_files(tmp_path):
    data = make_gic()
    full = container.unpack(data)
    path = tmp_path / "x.gic"

    corrupt = bytearray(data)
    corrupt[full.layer_offsets[1] - 10] ^= 0xFF  # inside the second layer's payload
    path.write_bytes(bytes(corrupt))
    assert_one_line_error(gic("decode", path, tmp_path / "o.png"), "layer 2", "corrupt")
    assert_one_line_error(gic("info", path), "corrupt")

    path.write_bytes(data[:20])  # cut inside the header
    assert_one_line_error(gic("decode", path, tmp_path / "o.png"), "truncated")
    assert_one_line_error(gic("info", path, "--json"), "truncated")

    path.write_bytes(data)  # well-formed, but written by a codec this installation lacks
    assert_one_line_error(gic("decode", path, tmp_path / "o.png"), "unknown codec 'no-such-codec'")
    assert not (tmp_path / "o.png").exists()


def test_debug_shows_the_traceback(tmp_path):
    r = gic("--debug", "info", tmp_path / "missing.png")
    assert r.returncode != 0 and "Traceback" in r.stderr


# -- structure ----------------------------------------------------------------------------------
def test_info_and_decode_of_classical_files_import_neither_torch_nor_qt(tmp_path):
    out = tmp_path / "x.webp"
    code = (
        "import sys\n"
        "from gic.cli import main as cli\n"
        f"assert cli.main(['encode', {str(SAMPLE)!r}, {str(out)!r}, '--codec', 'webp']) == 0\n"
        f"assert cli.main(['info', {str(out)!r}]) == 0\n"
        f"assert cli.main(['decode', {str(out)!r}, {str(tmp_path / 'o.png')!r}]) == 0\n"
        "heavy = [m for m in ('torch', 'PySide6') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=120)
    assert r.returncode == 0, r.stderr


def _runs_without_torch(commands: list[list[str]], runtime: str | None = None) -> list[str]:
    """Run `gic` commands in one fresh interpreter; the heavy modules it imported."""
    code = (
        "import sys\n"
        "from gic.cli import main as cli\n"
        f"for argv in {commands!r}:\n"
        "    assert cli.main(argv) == 0, argv\n"
        "print([m for m in ('torch', 'PySide6') if m in sys.modules])\n"
    )
    env = {k: v for k, v in ENV.items() if k != "GIC_RUNTIME"}
    if runtime:
        env["GIC_RUNTIME"] = runtime
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1].replace("'", '"'))


def test_decode_info_and_encode_of_progic_files_run_without_torch(tmp_path):
    """With the shipped ONNX export, decoding a .gic (whole and a layer prefix), `info`, `codecs`,
    a ProGIC encode and a thumbnail never import torch; GIC_RUNTIME=torch brings it back."""
    from gic.codecs.learned import runtime
    from gic.resources import path

    weights = path("models", "progic-small.pt")
    if runtime.onnx_unavailable(weights, ("analysis", "synthesis")) is not None:
        pytest.skip(runtime.onnx_unavailable(weights, ("analysis", "synthesis")))
    sample = str(path("samples", "kodim23.gic"))
    commands = [["decode", sample, str(tmp_path / "a.png")],
                ["decode", sample, str(tmp_path / "b.png"), "--layers", "2"],
                ["info", sample], ["codecs"],
                ["encode", str(SAMPLE), str(tmp_path / "c.gic"), "--codec", "progic"],
                ["thumbnail", sample, str(tmp_path / "t.png")]]
    assert _runs_without_torch(commands) == []
    assert _runs_without_torch(commands[:1], runtime="torch") == ["torch"]
    a = np.asarray(Image.open(tmp_path / "a.png"), dtype=int)
    assert a.shape == (512, 768, 3) and a.std() > 10  # a picture


def test_codecs_lists_specs_without_importing_torch_or_building_a_codec():
    """`gic codecs` reads the registry's specs: no torch, no Qt, no weights, whatever is installed."""
    code = (
        "import sys\n"
        "from gic.cli import main as cli\n"
        "assert cli.main(['codecs']) == 0\n"
        "assert cli.main(['codecs', '--json']) == 0\n"
        "heavy = [m for m in ('torch', 'PySide6') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "family" in r.stdout and "learned" in r.stdout


def test_lazy_subcommands_show_their_own_options():
    r = gic("bench", "--help")
    if "unavailable" in (r.stdout + r.stderr):
        pytest.skip("gic bench is not available in this tree")
    assert r.returncode == 0 and "--data" in r.stdout


def test_a_missing_subcommand_module_fails_in_one_line(monkeypatch, capsys):
    monkeypatch.setitem(cli.LAZY_COMMANDS, "ghost", ("gic.app.no_such_module", "a ghost command"))
    assert cli.main(["ghost", "--anything"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'gic ghost' is unavailable" in err
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    assert "a ghost command (unavailable)" in capsys.readouterr().out


def test_ctrl_c_exits_130_with_one_line(monkeypatch, capsys):
    def interrupted(_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_codecs", interrupted)
    assert cli.main(["codecs"]) == 130
    err = capsys.readouterr().err
    assert err == "gic: interrupted\n"


@pytest.mark.slow
def test_metrics_without_dists_weights_skip_it_by_default_and_fail_when_asked(tmp_path):
    env = {**ENV, "GIC_WEIGHTS_DIR": str(tmp_path / "empty")}  # where DISTS would be converted to
    run = lambda *a: subprocess.run([sys.executable, "-m", "gic.cli", *map(str, a)],  # noqa: E731
                                    capture_output=True, text=True, env=env, timeout=300)
    r = run("metrics", SAMPLE, SAMPLE, "--json")
    assert r.returncode == 0, r.stderr
    assert set(json.loads(r.stdout)) == {"psnr", "ms-ssim", "lpips"}
    assert "gic: note: dists skipped" in r.stderr and "Traceback" not in r.stderr
    assert_one_line_error(run("metrics", SAMPLE, SAMPLE, "--metrics", "dists"), "dists", "not found")


# -- the learned codec, when this installation has it ------------------------------------------
@pytest.mark.slow
def test_progic_round_trip_layers_roi_and_partial_files(tmp_path):
    if "progic" not in builtin_names():
        pytest.skip("progic is not registered (its bundled weights are missing)")
    mask = np.zeros((48, 64), np.uint8)
    mask[8:24, 16:48] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    out = tmp_path / "x.gic"
    r = gic("encode", SAMPLE, out, "--codec", "progic", "--quality", "2", "--roi", tmp_path / "mask.png",
            "--background-quality", "1")
    assert r.returncode == 0, r.stderr
    info = json.loads(gic("info", out, "--json").stdout)
    assert info["codec"] == "progic" and info["num_layers"] == 2 and info["roi"]["pixels"] == 16 * 32
    split = (info["roi"]["inside_bits"], info["roi"]["outside_bits"])  # what the viewer shows too
    assert split == registry.create("progic").roi_bits(out.read_bytes())
    assert abs(sum(split) - 8 * sum(layer["bytes"] for layer in info["layers"])) <= 2
    assert info["metadata"]["source"] == SAMPLE.name and info["metadata"]["encoder"].startswith("gic")
    assert info["params"]["bg"] == 1

    bare = tmp_path / "bare.gic"
    r = gic("encode", SAMPLE, bare, "--codec", "progic", "--quality", "2", "--roi", tmp_path / "mask.png",
            "--background-quality", "1", "--no-metadata")
    assert r.returncode == 0, r.stderr
    assert json.loads(gic("info", bare, "--json").stdout)["metadata"] == {}
    assert container.unpack(bare.read_bytes()).layers == container.unpack(out.read_bytes()).layers

    r = gic("decode", out, tmp_path / "one.png", "--layers", "1")
    assert r.returncode == 0, r.stderr
    assert "layers 1 of 2" in r.stdout
    r = gic("decode", out, tmp_path / "all.png")
    assert r.returncode == 0 and "layers 2 of 2" in r.stdout
    assert load(tmp_path / "one.png").shape == load(tmp_path / "all.png").shape == (48, 64, 3)

    data = out.read_bytes()
    cut = tmp_path / "cut.gic"
    cut.write_bytes(data[: info["layers"][0]["end_offset"] + 3])
    r = gic("decode", cut, tmp_path / "cut.png")
    assert r.returncode == 0, r.stderr
    assert "layers 1 of 2" in r.stdout and "partial" in r.stderr
    assert np.array_equal(load(tmp_path / "cut.png"), load(tmp_path / "one.png"))


def _strict_json(text: str):
    def refuse(word: str):
        raise ValueError(f"{word} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_info_json_is_strict_json_and_a_non_finite_parameter_is_refused(tmp_path):
    """Issue 24: a PARM value of Infinity was accepted and printed back as `Infinity` (not JSON)."""
    good = tmp_path / "good.gic"
    good.write_bytes(make_gic())
    assert _strict_json(gic("info", good, "--json").stdout)["params"] == {"depth": 3}
    f = container.unpack(make_gic())
    forged = container.pack(f.header, f.layers, params={"depth": 3}, roi=f.roi)
    # Rewrite the PARM chunk with a CRC that matches: a deliberate forgery, not random damage.
    start = forged.index(b"PARM")
    length = int.from_bytes(forged[start + 4: start + 8], "little")
    payload = b'{"depth":Infinity}'
    chunk = b"PARM" + len(payload).to_bytes(4, "little") + payload + \
        zlib.crc32(payload, zlib.crc32(b"PARM")).to_bytes(4, "little")
    bad = tmp_path / "bad.gic"
    bad.write_bytes(forged[:start] + chunk + forged[start + 8 + length + 4:])
    assert_one_line_error(gic("info", bad, "--json"), "PARM", "not valid JSON")


@pytest.mark.parametrize("case", ["missing-folder", "read-only-folder", "quality", "folder-as-output"])
def test_bad_output_and_quality_are_reported_before_any_work(tmp_path, monkeypatch, capsys, case):
    """Issue 24, defect 5: both were reported only after the model loaded or the encode ran."""
    from gic.codecs import imageio

    def too_late(*_args, **_kwargs):
        raise AssertionError("reached the expensive part")

    monkeypatch.setattr(registry, "create", too_late)
    monkeypatch.setattr(imageio, "load_image", too_late)
    out, extra, expect = tmp_path / "x.gic", [], "cannot write"
    if case == "missing-folder":
        out = tmp_path / "nowhere" / "x.gic"
    elif case == "read-only-folder":
        if os.name != "posix" or os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        (tmp_path / "ro").mkdir()
        os.chmod(tmp_path / "ro", 0o500)
        out = tmp_path / "ro" / "x.gic"
    elif case == "quality":
        spec = registry.spec(registry.default_name())
        extra, expect = ["--quality", str(spec.quality_range[1] + 1)], "--quality"
    else:
        out.mkdir()
        out.with_suffix(".png").mkdir()
    assert cli.main(["encode", str(SAMPLE), str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gic: error: ") and expect in err and len(err.splitlines()) == 1
    if case != "quality":
        assert cli.main(["decode", str(SAMPLE), str(out.with_suffix(".png"))]) == 2
        assert "cannot write" in capsys.readouterr().err


def test_info_of_a_downscaled_file_reads_headers_only_and_the_pixel_limit_is_an_option(tmp_path):
    """Issue 24, defect 3: `gic info` on a 142 KB DS file decoded and upsampled to 45000x45000."""
    from gic.codecs import downscaled
    from gic.codecs.classical import JpegCodec

    inner = JpegCodec()._encode(np.full((1000, 1000, 3), 128, np.uint8), 30)
    f = tmp_path / "big.jpg-x15"
    f.write_bytes(downscaled.MAGIC + bytes([15, 0]) + inner)  # 15000x15000 once upsampled
    assert_one_line_error(gic("info", f), "15000x15000", "over the limit", "--max-pixels")
    assert_one_line_error(gic("decode", f, tmp_path / "out.png"), "over the limit")
    r = gic("--max-pixels", "300000000", "info", f, "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert (info["width"], info["height"], info["stored_width"]) == (15000, 15000, 1000)
    assert_one_line_error(gic("--max-pixels", "0", "info", f), "positive")


def test_version_is_printed_to_stdout_and_exits_zero():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "gic.cli.main", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("gic ") and not r.stderr
