#!/usr/bin/env bash
# Prepare a Python environment for mmhvc on a CPU machine (idempotent).
#
# Uses the active virtual environment, or creates and activates `.venv` in
# the repository root. Installs the CPU build of torch, mmengine, full mmcv
# (with CPU ops, compiled once from its source distribution; the wheel is kept
# in $MMHVC_WHEEL_CACHE), mmsegmentation, and mmhvc itself in editable mode.
# Source this file (`source tools/setup_env.sh`) so that the environment stays
# active for the commands that follow.

set -euo pipefail

MMHVC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MMHVC_WHEEL_CACHE="${MMHVC_WHEEL_CACHE:-$HOME/.cache/mmhvc/wheels}"
TORCH_VERSION="${TORCH_VERSION:-2.13.0}"
MMCV_VERSION="2.1.0"

log() { echo "[mmhvc setup] $*"; }

if [ -z "${VIRTUAL_ENV:-}" ]; then
    if [ ! -x "$MMHVC_ROOT/.venv/bin/python" ]; then
        log "creating virtual environment $MMHVC_ROOT/.venv"
        python3 -m venv "$MMHVC_ROOT/.venv"
    fi
    # shellcheck disable=SC1091
    source "$MMHVC_ROOT/.venv/bin/activate"
fi
PY=python
# pip, without the notices about absent local index folders.
pip_quiet() {
    python -m pip --disable-pip-version-check "$@" 2>&1 | \
        { grep -v "^WARNING: Location '" || true; }
    return "${PIPESTATUS[0]}"
}
PIP=pip_quiet

has() { $PY -c "$1" >/dev/null 2>&1; }

if ! has "import torch, sys; sys.exit(not torch.__version__.startswith('${TORCH_VERSION%.*}'))"; then
    log "installing torch==$TORCH_VERSION"
    $PIP install -q "torch==$TORCH_VERSION"
fi

# mmcv's build imports pkg_resources, which setuptools dropped in release 81.
if ! has "import pkg_resources, wheel"; then
    log "installing setuptools with pkg_resources and wheel"
    $PIP install -q "setuptools>=69.5,<81" wheel 2>&1 | grep -v "requires setuptools" || true
fi

log "installing runtime and test requirements"
$PIP install -q -r "$MMHVC_ROOT/requirements/runtime.txt" \
    -r "$MMHVC_ROOT/requirements/tests.txt" "mmengine==0.10.7"

if ! has "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'"; then
    mkdir -p "$MMHVC_WHEEL_CACHE"
    wheel=$(ls "$MMHVC_WHEEL_CACHE"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
    if [ -z "$wheel" ]; then
        log "building mmcv==$MMCV_VERSION with CPU ops from source (once per machine, ~15 min on 2 cores)"
        build_log="$MMHVC_WHEEL_CACHE/mmcv-build.log"
        # Report progress as the number of compiled extension sources.
        MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" FORCE_CUDA=0 \
            $PIP wheel -v --no-deps --no-build-isolation "mmcv==$MMCV_VERSION" \
            -w "$MMHVC_WHEEL_CACHE" 2>&1 | tee "$build_log" | \
            awk '/\.(cpp|cu|c)( |$)/ && /(g\+\+|c\+\+|gcc|nvcc)/ { n++; if (n % 10 == 0) { printf "[mmhvc setup]   compiled %d sources\n", n; fflush() } }
                 /Successfully built|Saved / { print "[mmhvc setup]   " $0; fflush() }'
        wheel=$(ls "$MMHVC_WHEEL_CACHE"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
        if [ -z "$wheel" ]; then
            log "building mmcv failed; the full log is in $build_log"
            exit 1
        fi
    fi
    log "installing $(basename "$wheel")"
    $PIP install -q "$wheel"
fi

# mmseg.models imports ftfy and regex, which mmsegmentation does not declare.
if ! has "import mmseg.models"; then
    log "installing mmsegmentation"
    $PIP install -q "mmsegmentation==1.2.2" ftfy regex
fi

# The web demo's Gradio (requirements/optional.txt) and selenium for its
# browser test (tests/test_demo/test_web_demo.py skips without them).
if ! has "import gradio, selenium"; then
    log "installing the optional requirements and selenium"
    $PIP install -q -r "$MMHVC_ROOT/requirements/optional.txt" selenium
fi

# Checked from another folder, so that the source tree itself does not count.
if ! (cd / && has "import mmhvc, sys; sys.exit(not mmhvc.__file__.startswith('$MMHVC_ROOT/'))"); then
    log "installing mmhvc (editable)"
    $PIP install -q --no-deps --no-build-isolation -e "$MMHVC_ROOT"
fi
log "environment ready: $(command -v python)"
set +euo pipefail
