#!/usr/bin/env bash
# One-command check of mmhvc on a CUDA machine, in about ten minutes:
#   1. a few AMP training steps of configs/hvc/hvc_r18_coco.py at batch 128
#      (256x256 crops) through tools/train.py, on generated images: time per
#      step and peak GPU memory;
#   2. tools/analysis_tools/benchmark_train.py at batch 128: the training
#      step and the hybrid loss alone, chunked vs. the dense reference;
#   3. tools/analysis_tools/benchmark_propagation.py on the GPU: the dense
#      and the windowed propagation backend on every frame of 480p videos
#      (the real clips of ../shared/data/real/videos when present, else the
#      generated demo videos), in float32 and under float16 autocast;
# then prints one markdown table for docs/benchmarks.md that names the GPU
# and says which backend `backend='auto'` should pick on it.
# Uses the active Python environment (with a CUDA build of torch). Without a
# CUDA device it says so and exits with status 0.
# Usage: bash tools/analysis_tools/gpu_check.sh [OUT_DIR]
#        (default work_dirs/gpu_check; every step's log is kept there)
set -o pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
OUT_DIR=$(realpath -m "${1:-$REPO/work_dirs/gpu_check}")
cd "$REPO"

CONFIG=configs/hvc/hvc_r18_coco.py
BATCH=128
TRAIN_IMAGES=768   # six steps of 128

log() { echo "[mmhvc gpu check] $*"; }

if ! python -c "import torch, sys; sys.exit(not torch.cuda.is_available())" \
    2>/dev/null; then
    log "no CUDA device is available to PyTorch" \
        "($(python -c 'import torch; print("torch", torch.__version__)' \
            2>/dev/null || echo 'torch not importable')); nothing to measure."
    log "Run this on a machine with an NVIDIA GPU and a CUDA build of torch."
    exit 0
fi

mkdir -p "$OUT_DIR"
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
log "GPU: $(python -c 'import torch; print(torch.cuda.get_device_name(0))')"

# step NAME SECONDS COMMAND...: runs COMMAND with its output in
# $OUT_DIR/NAME.log, stopped after SECONDS; a failure is reported and the
# check goes on with the next step.
step() {
    local name=$1 limit=$2 start=$SECONDS
    shift 2
    log "$name (log: $OUT_DIR/$name.log)"
    timeout "$limit" "$@" > "$OUT_DIR/$name.log" 2>&1
    local status=$?
    if [ "$status" -eq 124 ]; then
        log "  $name stopped after ${limit} s"
    elif [ "$status" -ne 0 ]; then
        log "  $name failed (exit status $status): $(tail -n 1 "$OUT_DIR/$name.log")"
    else
        log "  done in $((SECONDS - start)) s"
    fi
}

# generate_images DIR N: N smooth random 320x320 JPEG images in DIR.
generate_images() {
    python - "$1" "$2" <<'EOF'
import os
import sys

import cv2
import numpy as np

out_dir, num = sys.argv[1], int(sys.argv[2])
os.makedirs(out_dir, exist_ok=True)
rng = np.random.default_rng(0)
for i in range(num):
    coarse = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    image = cv2.resize(coarse, (320, 320), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(os.path.join(out_dir, f'{i:06d}.jpg'), image)
EOF
}

if [ ! -d "$OUT_DIR/data/train_images" ]; then
    log "generating $TRAIN_IMAGES images in $OUT_DIR/data/train_images"
    generate_images "$OUT_DIR/data/train_images" "$TRAIN_IMAGES"
fi

step train 110 \
    python tools/train.py "$CONFIG" --amp --work-dir "$OUT_DIR/train" \
    --cfg-options "train_dataloader.dataset.dataset.data_root=$OUT_DIR/data" \
    train_dataloader.dataset.dataset.data_prefix.img_path=train_images \
    train_dataloader.batch_size="$BATCH" train_cfg.max_epochs=1 \
    default_hooks.logger.interval=1

step benchmark_train 70 \
    python tools/analysis_tools/benchmark_train.py "$CONFIG" \
    --batch-size "$BATCH" --device cuda --warmup 2 --iters 5

PROPAGATION=(python tools/analysis_tools/benchmark_propagation.py
    --mode backends --device cuda --dense-stride 1)
if [ -d ../shared/data/real/videos ]; then
    PROPAGATION+=(--data ../shared/data/real/videos)
fi
step benchmark_propagation_fp32 240 "${PROPAGATION[@]}"
step benchmark_propagation_fp16 240 "${PROPAGATION[@]}" --fp16

python tools/analysis_tools/gpu_check_table.py "$OUT_DIR" --config "$CONFIG" \
    --batch-size "$BATCH" | tee "$OUT_DIR/table.md"
