#!/usr/bin/env bash
# Set up (idempotently) the virtual environment; with --dev also the test tools and Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 is required, found {sys.version.split()[0]}"'
# The project installs in editable mode (its `rnndemo` command included); --dev adds the test tools.
target="."
[ "${1:-}" = "--dev" ] && target=".[dev]"
stamp=".venv/.installed-$(cat pyproject.toml requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)-${1:-runtime}"
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.txt
  .venv/bin/python -m pip install --quiet -e "$target"
  touch "$stamp"
fi
if [ "${1:-}" = "--dev" ] && [ ! -x /usr/bin/chromium ]; then
  # Browser tests drive Debian's Chromium (playwright cannot download its own browser here).
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: /usr/bin/chromium is missing; browser tests will try 'playwright install chromium'" >&2
    .venv/bin/python -m playwright install chromium || true
  fi
fi
