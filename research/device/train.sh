#!/usr/bin/env bash
# Train one learned family on the GPU machine for a fixed wall-clock budget and send back a shippable
# fp16 export, the training log and the machine's facts. Runs on the device (see README.md); tested
# on CPU with DEVICE=cpu SKIP_WHEELS=1 PYTHON=.venv/bin/python OUT=/tmp/dev MINUTES=0.5.
#
# Environment: FAMILY (mcdh | progic | uigc), MINUTES (training wall clock, default 7),
# INIT (weights to start from, default resources/models/$FAMILY-small.pt), ARGS (more `gic train`
# options), OUT (set by the device tool), DEVICE (default cuda), PYTHON (default python3).
set -u -o pipefail
FAMILY=${FAMILY:-mcdh}
MINUTES=${MINUTES:-7}
INIT=${INIT:-resources/models/${FAMILY}-small.pt}
ARGS=${ARGS:-}
DEVICE=${DEVICE:-cuda}
PYTHON=${PYTHON:-python3}
OUT=${OUT:?OUT must name the folder whose files come back}
export PYTHONUNBUFFERED=1 TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1

if [ -z "${SKIP_WHEELS:-}" ]; then  # packages the device image lacks travel as wheels in .whl/
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
# `gic` without installing: a package folder whose sub-packages are the checkout's folders
mkdir -p /tmp/gicpkg/gic
for d in codecs cli app resources; do ln -sfn "$PWD/$d" "/tmp/gicpkg/gic/$d"; done
export PYTHONPATH=/tmp/gicpkg:${PYTHONPATH:-}

RUN=/tmp/devrun-$FAMILY
{ date -u; nvidia-smi 2>&1 | head -15; "$PYTHON" -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"; } > "$OUT/info.txt" 2>&1
EVAL=()
[ -d .device_data/kodak ] && EVAL=(--eval-dir .device_data/kodak --eval-every 1000)
# SIGTERM makes the trainer finish its step and write its checkpoint (codecs/learned/train.py)
timeout -s TERM -k 60 "$(awk "BEGIN{print int($MINUTES*60)}")" \
  "$PYTHON" -m gic.cli.main train --family "$FAMILY" --data .device_data/train --out "$RUN" \
      --init "$INIT" --device "$DEVICE" --no-progress --log-every 100 --checkpoint-every 500 \
      "${EVAL[@]}" $ARGS > "$OUT/train.out" 2>&1
echo "train exit $?" >> "$OUT/info.txt"
cp "$RUN/train.log" "$OUT/train.log" 2>/dev/null
STEP=$("$PYTHON" -c "import torch,sys; print(torch.load(sys.argv[1], map_location='cpu', weights_only=False)['step'])" "$RUN/last.pt")
"$PYTHON" -m gic.cli.main train --family "$FAMILY" --out "$RUN" --data .device_data/train \
    --export "$OUT/$FAMILY-gpu.pt" --model-id "$FAMILY-small-gpu-s$STEP" >> "$OUT/info.txt" 2>&1
ls -la "$OUT" >> "$OUT/info.txt"
