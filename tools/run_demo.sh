#!/usr/bin/env bash
# Set up the environment (idempotent), generate the demo data, train HVC on
# the demo images on the CPU, then evaluate label propagation on the demo
# videos with a randomly initialised and with the trained encoder, and end
# with one table: J&F, J and F of both, the gain, the time of each step and
# where the masks, the overlays and the training pictures are.
#
# The console shows each step's progress; the complete output of every step
# goes to WORK_DIR/logs/<step>.log (and is shown, from its end, when the step
# fails). The table is also written to WORK_DIR/summary.md.
# Usage: bash tools/run_demo.sh [WORK_DIR]   (default work_dirs/demo)
set -eo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
source tools/setup_env.sh

WORK_DIR=${1:-work_dirs/demo}
DATA=data/demo_davis
TRAIN_CONFIG=configs/hvc/hvc_r18_demo.py
TEST_CONFIG=configs/propagation/demo_davis_r18.py
LOG_DIR=$WORK_DIR/logs
TIMES=$LOG_DIR/step_times.tsv

mkdir -p "$LOG_DIR"
: > "$TIMES"
if [ -t 1 ]; then TTY=1; else TTY=0; fi

log() { echo "[mmhvc demo] $*"; }

# Turns MMEngine's "Iter(train) [ 10/240] ... loss: -1.2" lines into one
# progress line (rewritten in place on a terminal, one line per update
# otherwise). Reads line by line, so the progress shows as it happens.
show_progress() {
    local line text last='' shown=0
    local step='(Iter|Epoch)\((train|val|test)\) *\[ *([0-9]+/[0-9]+)\]'
    local loss=' loss: (-?[0-9.]+)'
    while IFS= read -r line; do
        [[ $line =~ $step ]] || continue
        text="    ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"
        if [[ $line =~ $loss ]]; then text+=", loss ${BASH_REMATCH[1]}"; fi
        # The closing line of a test run repeats the last step.
        [ "$text" != "$last" ] || continue
        last=$text
        if [ "$TTY" -eq 1 ]; then printf '\r%-60s' "$text"; else echo "$text"; fi
        shown=1
    done
    if [ "$shown" -eq 1 ] && [ "$TTY" -eq 1 ]; then echo; fi
}

# run_step NAME DESCRIPTION COMMAND...: runs COMMAND with its output in
# $LOG_DIR/NAME.log, shows its progress and records its time in $TIMES.
run_step() {
    local name=$1 description=$2
    shift 2
    local step_log="$LOG_DIR/$name.log" status=0 start end
    log "$description (log: $step_log)"
    start=$(date +%s.%N)
    PYTHONUNBUFFERED=1 "$@" 2>&1 | tee "$step_log" | show_progress || status=$?
    end=$(date +%s.%N)
    if [ "$status" -ne 0 ]; then
        log "$description failed (exit status $status); the end of $step_log:"
        tail -n 30 "$step_log"
        exit "$status"
    fi
    awk -v name="$name" -v start="$start" -v end="$end" \
        'BEGIN { printf "%s\t%.1f\n", name, end - start }' >> "$TIMES"
}

generate_data() {
    python tools/dataset_converters/make_demo_davis.py "$DATA" --seed 0 \
        --train-images 200
}

evaluate_random_init() {
    python tools/analysis_tools/random_init_checkpoint.py "$TEST_CONFIG" \
        "$WORK_DIR/random_init.pth" --seed 0 &&
        python tools/test.py "$TEST_CONFIG" "$WORK_DIR/random_init.pth" \
            --work-dir "$WORK_DIR/test_random_init"
}

if [ ! -f "$DATA/ImageSets/2017/val.txt" ]; then
    run_step data "generating the demo data in $DATA" generate_data
fi
run_step train "training $TRAIN_CONFIG on the CPU" \
    python tools/train.py "$TRAIN_CONFIG" --work-dir "$WORK_DIR/train"
CKPT=$(cat "$WORK_DIR/train/last_checkpoint")
ITERS=$(basename "$CKPT" .pth)
ITERS=${ITERS#iter_}

run_step test_random_init "evaluating a randomly initialised encoder" \
    evaluate_random_init
run_step test_trained "evaluating the trained encoder ($CKPT)" \
    python tools/test.py "$TEST_CONFIG" "$CKPT" \
    --work-dir "$WORK_DIR/test_trained" --show-dir vis

log "results (complete logs in $LOG_DIR):"
python tools/analysis_tools/summarize_demo.py "$WORK_DIR" \
    --train-label "HVC, $ITERS demo iterations" --out "$WORK_DIR/summary.md"
