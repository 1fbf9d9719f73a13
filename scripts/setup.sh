#!/usr/bin/env bash
# Create .venv (if missing) and install harness with the given extras (comma-separated, e.g. dev,local).
# Needs python3 + pip only. The `local` extra (hf: models) needs torch, installed first as
# ${HARNESS_TORCH:-torch==2.13.0}: a plain `torch` requirement would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip 2>/dev/null || true
case ",$extras," in
  *,local,*)
    if ! .venv/bin/python -c "import torch" 2>/dev/null; then
      .venv/bin/python -m pip install --quiet "${HARNESS_TORCH:-torch==2.13.0}"
    fi
    ;;
esac
if [ -n "$extras" ]; then
  .venv/bin/python -m pip install --quiet -e ".[${extras}]"
else
  .venv/bin/python -m pip install --quiet -e .
fi
