#!/usr/bin/env bash
# Set up the environment (idempotent) and run the test suite.
# Usage: bash tools/run_tests.sh [pytest options]
set -eo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
source tools/setup_env.sh
python -m pytest tests "$@"
