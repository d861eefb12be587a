"""Write the seed corpus (small real files of every registered codec) and the fuzzing dictionary.

    .venv/bin/python fuzz/make_corpus.py            # rewrites fuzz/corpus/ and fuzz/gic.dict

Why generated, not hand-made: every codec the registry lists (learned .gic families, classical,
downscaled) contributes a file of its own, so a new family is fuzzed from its first commit. The
image is a 32x24 crop of the test sample (`tests/data/kodim23_64x48.png`): a few hundred bytes a
file, the whole corpus well under 200 KB. Learned files depend on the shipped weights; they are
committed so a run reproduces without re-encoding.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "tests" / "data" / "kodim23_64x48.png"


def image() -> np.ndarray:
    from gic.codecs.imageio import load_image

    return np.ascontiguousarray(load_image(SAMPLE)[8:32, 16:48])


def corpus_files() -> dict[str, bytes]:
    """name -> bytes: each codec at its lowest and default quality, plus ROI, META, cut and odd
    Pillow files (grey, alpha, EXIF-rotated)."""
    from gic.codecs import container, provenance, registry
    from gic.codecs.errors import GicError

    img = image()
    roi = np.zeros(img.shape[:2], bool)
    roi[4:16, 8:24] = True
    out: dict[str, bytes] = {}
    for spec in registry.specs():
        try:
            codec = registry.create(spec.name)
        except GicError as exc:  # a codec whose weights or library is missing here
            print(f"skipped {spec.name}: {exc}", file=sys.stderr)
            continue
        for q in sorted({spec.quality_range[0], spec.default_quality}):
            out[f"{spec.name}-q{q}"] = provenance.encode(codec, img, quality=q, source="seed.png").data
        if spec.roi:
            out[f"{spec.name}-roi"] = codec.encode(img, spec.default_quality, roi=roi)
    for name in [n for n, d in out.items() if container.is_gic(d) and n.endswith("-roi")]:
        data = out[name]
        f = container.unpack(data)
        if len(f.layer_offsets) > 1:  # a file cut one byte into its second layer
            out[name.replace("-roi", "-cut")] = data[: f.layer_offsets[0] + 1]
    pil = Image.fromarray(img)
    for fmt, mode, extra in (("PNG", "L", {}), ("PNG", "RGBA", {}), ("PNG", "P", {}),
                             ("GIF", "P", {}), ("BMP", "RGB", {}), ("TIFF", "RGB", {})):
        buf = io.BytesIO()
        pil.convert(mode).save(buf, fmt, **extra)
        out[f"pillow-{fmt.lower()}-{mode}"] = buf.getvalue()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°
    buf = io.BytesIO()
    pil.save(buf, "JPEG", quality=50, exif=exif)
    out["pillow-jpeg-exif6"] = buf.getvalue()
    return out


def dictionary() -> list[tuple[str, bytes]]:
    """Tokens: magics, chunk tags, codec names and the parameter keys the seed files use."""
    from gic.codecs import container, registry

    tokens = [("gic_magic", container.MAGIC), ("ds_magic", b"DS"), ("png", b"\x89PNG\r\n\x1a\n"),
              ("jpeg_soi", b"\xff\xd8\xff"), ("riff", b"RIFF"), ("webp", b"WEBP"),
              ("avif", b"ftypavif"), ("jxl", b"\xff\x0a"), ("jxl_box", b"\x00\x00\x00\x0cJXL \r\n\x87\n"),
              ("jp2", b"\x00\x00\x00\x0cjP  \r\n\x87\n"), ("ihdr", b"IHDR"), ("idat", b"IDAT"),
              ("exif", b"Exif\x00\x00")]
    tokens += [(f"chunk_{t.decode().lower()}", t) for t in
               (container.PARM, container.ROIM, container.META, container.LAYR, container.IEND)]
    tokens += [("ancillary", b"tEXt"), ("critical", b"ZZZZ")]
    tokens += [(f"codec_{s.name.replace('-', '_')}", s.name.encode()) for s in registry.specs()]
    keys = set()
    for data in corpus_files().values():
        if container.is_gic(data):
            f = container.unpack(data)
            keys |= set(f.params) | set(f.metadata)
    tokens += [(f"key_{k}", f'"{k}"'.encode()) for k in sorted(keys)]
    tokens += [("json_big", b"1e400"), ("json_neg", b"-1"), ("json_nan", b"NaN"), ("json_list", b"[]")]
    return tokens


def escape(token: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\x{b:02x}" for b in token)


def main() -> int:
    corpus = HERE / "corpus"
    corpus.mkdir(exist_ok=True)
    for old in corpus.iterdir():
        old.unlink()
    files = corpus_files()
    for name, data in files.items():
        (corpus / name).write_bytes(data)
    lines = ["# libFuzzer dictionary for gic (written by fuzz/make_corpus.py)"]
    lines += [f'{name}="{escape(tok)}"' for name, tok in dictionary()]
    (HERE / "gic.dict").write_text("\n".join(lines) + "\n")
    print(f"{len(files)} files, {sum(map(len, files.values()))} bytes in {corpus}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
