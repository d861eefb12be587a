#!/usr/bin/env bash
# Builds the PyInstaller one-folder bundle of gic into dist/bundle/gic/ (run from a checkout after
# packaging/setup.sh). CPU torch and PySide6-Essentials come from the running environment; the
# DISTS weights are converted first when they are missing (one download from PyPI) and shipped.
# GIC_BUNDLE_TORCH=0 builds the torch-free flavour (the viewer, decode/encode/info on ONNX Runtime;
# no training, LPIPS/DISTS or CUDA) into dist/bundle-notorch/gic/ instead.
#   bash packaging/build_bundle.sh            # -> dist/bundle/gic/gic
#   GIC_BUNDLE_TORCH=0 bash packaging/build_bundle.sh   # -> dist/bundle-notorch/gic/gic
#   GIC_BUNDLE_OUT=/tmp/b bash packaging/build_bundle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export GIC_BUNDLE_TORCH=${GIC_BUNDLE_TORCH:-1}
case "$GIC_BUNDLE_TORCH" in
  1) FLAVOUR=bundle ;;
  0) FLAVOUR=bundle-notorch ;;
  *) echo "build_bundle.sh: GIC_BUNDLE_TORCH must be 0 or 1, got '$GIC_BUNDLE_TORCH'" >&2; exit 2 ;;
esac
OUT=${GIC_BUNDLE_OUT:-dist/$FLAVOUR}
WORK=${GIC_BUNDLE_WORK:-build/$FLAVOUR}
rm -rf "$WORK/stage" "$WORK/wheel"
mkdir -p "$WORK" "$OUT"
# 1. The package as a wheel would install it (the checkout's editable import hook is invisible to PyInstaller).
"$PY" -m build --wheel --no-isolation --outdir "$WORK/wheel" . >"$WORK/wheel.log" 2>&1 \
  || { tail -20 "$WORK/wheel.log"; exit 1; }
"$PY" -m pip install -q --no-deps --no-index --target "$WORK/stage" "$WORK"/wheel/gic-*.whl
VERSION=$("$PY" -c "import sys; sys.path.insert(0, '$WORK/stage'); from importlib.metadata import version; print(version('gic'))" 2>/dev/null || echo 0.0.0)
# 2. DISTS weights (optional: the bundle works without them, `gic metrics` then skips DISTS).
EXTRA=""
if [ "$GIC_BUNDLE_TORCH" = 1 ]; then  # without torch DISTS cannot run: neither converted nor shipped
  DISTS=$("$PY" -c "from gic.codecs.metrics import weights; print(weights.dists_path())")
  if [ ! -f "$DISTS" ]; then
    "$PY" -m gic.codecs.metrics.convert --dists --if-missing || echo "warning: DISTS weights not converted; the bundle will lack them" >&2
  fi
  [ -f "$DISTS" ] && EXTRA="$DISTS"
fi
# 3. The bundle.
GIC_STAGE="$(cd "$WORK/stage" && pwd)" GIC_VERSION="$VERSION" GIC_EXTRA_WEIGHTS="$EXTRA" \
  "$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$OUT" --workpath "$WORK/pyinstaller" packaging/gic.spec
du -sh "$OUT/gic"
