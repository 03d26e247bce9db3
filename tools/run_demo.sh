#!/usr/bin/env bash
# Set up the environment (idempotent), generate the demo data, train HVC on
# the demo images on the CPU, then evaluate label propagation on the demo
# videos with the trained and with a randomly initialised encoder and print
# the J&F tables.
# Usage: bash tools/run_demo.sh [WORK_DIR]   (default work_dirs/demo)
set -eo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
source tools/setup_env.sh

WORK_DIR=${1:-work_dirs/demo}
DATA=data/demo_davis
TRAIN_CONFIG=configs/hvc/hvc_r18_demo.py
TEST_CONFIG=configs/propagation/demo_davis_r18.py

if [ ! -f "$DATA/ImageSets/2017/val.txt" ]; then
    echo "[mmhvc demo] generating demo data in $DATA"
    python tools/dataset_converters/make_demo_davis.py "$DATA" --seed 0 \
        --train-images 200
fi

echo "[mmhvc demo] training $TRAIN_CONFIG"
python tools/train.py "$TRAIN_CONFIG" --work-dir "$WORK_DIR/train"
CKPT=$(cat "$WORK_DIR/train/last_checkpoint")

echo "[mmhvc demo] evaluating a randomly initialised encoder"
python tools/analysis_tools/random_init_checkpoint.py "$TEST_CONFIG" \
    "$WORK_DIR/random_init.pth" --seed 0
python tools/test.py "$TEST_CONFIG" "$WORK_DIR/random_init.pth" \
    --work-dir "$WORK_DIR/test_random_init"

echo "[mmhvc demo] evaluating the trained encoder ($CKPT)"
python tools/test.py "$TEST_CONFIG" "$CKPT" --work-dir "$WORK_DIR/test_trained"
