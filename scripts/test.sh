#!/usr/bin/env bash
# The README's test command: set up .venv with the dev and local extras, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev,local
# The HTML report tests drive Debian's chromium through Playwright (Playwright cannot download
# its own browsers here). Install it when missing, quietly; CI runs this as root on a fresh machine.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium for the report tests (apt-get)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: /usr/bin/chromium is missing and cannot be installed here (needs root and apt-get);" \
         "the report browser tests will fail" >&2
  fi
fi
set +e
echo "tests: running pytest" >&2
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$status"
