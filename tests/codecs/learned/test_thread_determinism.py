"""Every learned codec decodes to the same pixels with 1 and with 2 threads (issue 24, defect 2).

Each decode runs in a child process with its thread count fixed before torch or ONNX Runtime starts
(OMP_NUM_THREADS and torch.set_num_threads), on both runtimes a codec has here. The inputs are the
bundled 768x512 sample (where 1 vs 2 threads used to differ in 6-19 pixels) and a wide crop that
the decoder cuts into tiles (run on a pool of threads).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from gic.codecs import registry
from gic.codecs.imageio import load_image
from gic.resources import path

LEARNED = [s.name for s in registry.specs() if s.learned]
CHILD = textwrap.dedent("""
    import hashlib, sys
    threads, name, runtime, src = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    if runtime == "torch":
        import torch
        torch.set_num_threads(threads)
    from gic.codecs import registry
    codec = registry.create(name, runtime=runtime)
    assert codec.runtime == runtime, codec.runtime
    print(hashlib.sha256(codec.decode(open(src, "rb").read()).tobytes()).hexdigest())
""")


def _runtimes(name: str) -> list[str]:
    codec = registry.create(name, runtime="torch")
    out = ["torch"]
    graphs = getattr(codec, "onnx_graphs", ())
    if graphs:
        from gic.codecs.learned import runtime

        if runtime.onnx_unavailable(codec.default_weights(), graphs) is None:
            out.append("onnx")
    return out


def _decode_in_child(threads: int, name: str, runtime: str, src) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    r = subprocess.run([sys.executable, "-c", CHILD, str(threads), name, runtime, str(src)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()[-1]


@pytest.mark.slow
@pytest.mark.skipif(not LEARNED, reason="no learned codec installed")
@pytest.mark.parametrize("name", LEARNED)
def test_decoded_pixels_do_not_depend_on_the_thread_count(name, tmp_path):
    codec = registry.create(name, runtime="torch")
    kodim = load_image(path("samples", "kodim23.png"))
    wide = np.ascontiguousarray(np.concatenate([kodim[200:296], kodim[200:296, ::-1]], 1)[:, :1200])
    files = {"sample": tmp_path / "sample.gic", "wide": tmp_path / "wide.gic"}
    files["sample"].write_bytes(codec.encode(kodim))
    files["wide"].write_bytes(codec.encode(wide))
    for runtime in _runtimes(name):
        for what, src in files.items():
            one, two = (_decode_in_child(n, name, runtime, src) for n in (1, 2))
            assert one == two, f"{name} on {runtime}: {what} decodes differently with 1 and 2 threads"
            if runtime == "torch":  # and the same as in this process, whatever its thread count
                assert one == hashlib.sha256(codec.decode(src.read_bytes()).tobytes()).hexdigest()
