"""Export a torch module to an ONNX graph that `learned.runtime` runs (torch is needed here only).

Three choices, each measured (docs/architecture.md, "Runtimes"):
- The TorchScript-based exporter (`dynamo=False`) with named dynamic axes. The torch.export-based
  one refuses symbolic image sizes in the window attention (stride/contiguity guards on the window
  count) and silently falls back to the example's fixed size; `check_dynamic` catches that.
- No constant folding at export: the initialisers stay the weights themselves, which ship as fp16
  and so convert to fp16 storage losslessly (`store_fp16`); ONNX Runtime folds the casts (and
  anything else constant) back to fp32 when it opens the session. Half the file size, same values.
- Metadata `gic.model_hash` ties the graph to the weight file it came from.
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import CodecError
from .runtime import HASH_KEY

OPSET = 17


def export_graph(module: Any, args: tuple, path: str | Path, input_names: Sequence[str],
                 output_names: Sequence[str], dynamic_axes: dict[str, dict[int, str]],
                 model_hash: bytes, metadata: dict[str, str] | None = None) -> int:
    """Write `module(*args)` as an ONNX graph with fp16-stored weights (atomically); its size."""
    import onnx
    import torch

    buf = io.BytesIO()
    with warnings.catch_warnings():
        # the legacy exporter's deprecation notice, and its warnings about Python-level branches on
        # shapes (each one is taken the same way for every input size; the parity tests check it)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(module.eval(), args, buf, dynamo=False, opset_version=OPSET,
                          do_constant_folding=False, input_names=list(input_names),
                          output_names=list(output_names), dynamic_axes=dynamic_axes)
    model = onnx.load_from_string(buf.getvalue())
    check_dynamic(model, dynamic_axes)
    store_fp16(model)
    for key, value in {HASH_KEY: model_hash.hex(), "gic.torch": torch.__version__, **(metadata or {})}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return len(data)


def check_dynamic(model: Any, dynamic_axes: dict[str, dict[int, str]]) -> None:
    """Every axis meant to be dynamic is symbolic in the graph (not the example input's size)."""
    values = {v.name: v for v in list(model.graph.input) + list(model.graph.output)}
    for name, axes in dynamic_axes.items():
        dims = values[name].type.tensor_type.shape.dim
        fixed = [i for i in axes if dims[i].HasField("dim_value")]
        if fixed:
            raise CodecError(f"export fixed the size of {name!r} along axes {fixed}: the graph would "
                             "only run at the example's size")


def store_fp16(model: Any) -> int:
    """Store every float32 initialiser that fp16 holds exactly as fp16, cast back to float32 at the
    graph's start. Returns how many were converted; values are unchanged by construction."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    casts, kept = [], []
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT:
            a = numpy_helper.to_array(init)
            half = a.astype(np.float16)
            if a.size > 1 and np.array_equal(half.astype(np.float32), a):
                stored = init.name + "_fp16"
                kept.append(numpy_helper.from_array(half, stored))
                casts.append(helper.make_node("Cast", [stored], [init.name], to=TensorProto.FLOAT,
                                              name=init.name + "_to_fp32"))
                continue
        kept.append(init)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    # the converted names are no longer initialisers: drop them from the inputs if listed there
    names = {c.output[0] for c in casts}
    inputs = [i for i in graph.input if i.name not in names]
    del graph.input[:]
    graph.input.extend(inputs)
    return len(casts)
