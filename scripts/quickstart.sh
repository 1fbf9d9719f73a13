#!/usr/bin/env bash
# The README's main job: set up .venv, then run the offline example suite (no API key, no network).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/harness run suites/support-predictions.yaml "$@"
