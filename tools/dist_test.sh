#!/usr/bin/env bash
# Usage: bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCESSES [test.py options]
# e.g. --resume continues the latest run of the work dir (docs/test.md).
# Runs one process per GPU, or, on a machine without CUDA, NUM_PROCESSES CPU
# processes that communicate over gloo.
# Several machines: run the script once on each with the same NNODES,
# MASTER_ADDR (the address of node 0) and PORT, and NODE_RANK = 0 .. NNODES-1.
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname "$0")/..":${PYTHONPATH:-} \
python -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    "$(dirname "$0")/test.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
