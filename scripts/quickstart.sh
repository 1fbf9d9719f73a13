#!/usr/bin/env bash
# The README's main job: set up .venv with the local-model extra, then run the offline quickstart:
# a tiny base model against its LoRA fine-tune, both generated on this machine (no API key, no network).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh local
echo "quickstart: running suites/quickstart.yaml (two local models, about a minute on a laptop CPU)" >&2
HF_HUB_OFFLINE=1 .venv/bin/harness run suites/quickstart.yaml "$@"
