#!/usr/bin/env bash
# Regenerate the pictures of docs/visualization.md from a briefly trained
# demo model: demo data, a short CPU training run with the
# CorrespondenceVisualizationHook, then every visualisation tool.
#
# Usage (from the repository root):
#   bash tools/analysis_tools/make_doc_figures.sh
# Environment overrides: PYTHON, CONFIG (training config), DATA, WORK,
# ITERS (training iterations), OUT (figure folder).
set -euo pipefail

PYTHON=${PYTHON:-python}
CONFIG=${CONFIG:-configs/hvc/hvc_r18_demo.py}
DATA=${DATA:-data/demo_davis_vis}
WORK=${WORK:-work_dirs/vis_demo}
ITERS=${ITERS:-30}
OUT=${OUT:-docs/figures}
PROPAGATION=configs/propagation/demo_davis_r18.py
SEQ=${DATA}/JPEGImages/480p/demo00

mkdir -p "${OUT}"

"${PYTHON}" tools/dataset_converters/make_demo_davis.py "${DATA}" \
    --seed 0 --train-images 100 --overwrite

# 64-pixel crops keep the run to a few minutes on two CPU cores; the hook
# draws every 10 iterations (views shown at 128 pixels).
"${PYTHON}" tools/train.py "${CONFIG}" --work-dir "${WORK}" --cfg-options \
    train_dataloader.dataset.data_root="${DATA}" \
    train_cfg.max_iters="${ITERS}" \
    train_dataloader.dataset.pipeline.1.size=64 \
    custom_hooks.0.interval=10 custom_hooks.0.display_size=128 \
    default_hooks.checkpoint.interval="${ITERS}" \
    default_hooks.logger.interval=5

RUN=$(ls -d "${WORK}"/2*/ | sort | tail -n 1)
CKPT="${WORK}/iter_${ITERS}.pth"
# copy the hook's last pictures, re-encoded at the highest PNG compression
for NAME in train_crop_pairs train_pseudo_flow; do
    "${PYTHON}" -c 'import sys, cv2
cv2.imwrite(sys.argv[2], cv2.imread(sys.argv[1]),
            [cv2.IMWRITE_PNG_COMPRESSION, 9])' \
        "${RUN}vis_data/vis_image/${NAME}_${ITERS}.png" "${OUT}/${NAME}.png"
done

"${PYTHON}" tools/analysis_tools/analyze_logs.py plot_curve \
    "${RUN}vis_data/scalars.json" \
    --keys loss loss_spatial loss_temporal lr ema_momentum \
    --legend "demo, ${ITERS} iters" --out "${OUT}/training_curves.png" \
    --dpi 60
"${PYTHON}" tools/analysis_tools/analyze_logs.py cal_train_time \
    "${RUN}vis_data/scalars.json"

"${PYTHON}" tools/analysis_tools/vis_correspondence.py "${PROPAGATION}" \
    "${CKPT}" --video "${SEQ}" --frames 0 5 \
    --points 42,40 90,75 55,6 130,40 \
    --out "${OUT}/correspondence_demo00.png"

"${PYTHON}" tools/analysis_tools/vis_features.py "${PROPAGATION}" \
    "${CKPT}" --random-init --labels "HVC, ${ITERS} iters" "random init" \
    --input "${SEQ}" --rows 3 \
    --out "${OUT}/features_demo00.png" "${WORK}/features_demo00.gif" \
    "${WORK}/features_demo00.mp4"

ls -l "${OUT}"
