#!/usr/bin/env bash
# Create .venv (if missing) and install harness with the given extras (comma-separated, e.g. dev,local).
# Needs python3 + pip only. The `local` extra (hf: models) needs torch, installed first as
# ${HARNESS_TORCH:-torch==2.13.0}: a plain `torch` requirement would pull a multi-GB CUDA build.
# One line per step on stderr; pip itself stays quiet unless something fails.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
step() { echo "setup: $*" >&2; }
if [ ! -x .venv/bin/python ]; then
  step "creating the virtual environment .venv ($(python3 --version 2>&1))"
  python3 -m venv .venv
fi
step "updating pip in .venv"
.venv/bin/python -m pip install --quiet --upgrade pip 2>/dev/null || true
case ",$extras," in
  *,local,*)
    if ! .venv/bin/python -c "import torch" 2>/dev/null; then
      step "installing ${HARNESS_TORCH:-torch==2.13.0} (CPU build, for hf: models; the largest download)"
      .venv/bin/python -m pip install --quiet "${HARNESS_TORCH:-torch==2.13.0}"
    fi
    ;;
esac
if [ -n "$extras" ]; then
  step "installing harness (editable) with extras [$extras] and its dependencies"
  .venv/bin/python -m pip install --quiet -e ".[${extras}]"
else
  step "installing harness (editable) and its dependencies"
  .venv/bin/python -m pip install --quiet -e .
fi
step "ready: harness $(.venv/bin/python -c "import harness; print(harness.__version__)") in .venv"
