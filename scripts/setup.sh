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
# The classroom layout needs only the runtime; its stamp is the runtime's.
mode="${1:-runtime}"
[ "$mode" = "--classroom" ] && mode="runtime"
stamp=".venv/.installed-$(cat pyproject.toml requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)-${mode}"
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
# The classroom layout (make classroom) and its test (make test) put nginx in front of the replicas.
apt_install() {
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "note: install $* with your package manager" >&2
    return 1
  fi
}
if { [ "${1:-}" = "--dev" ] || [ "${1:-}" = "--classroom" ]; } && ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  apt_install nginx || true
  # Debian starts the packaged site on port 80; the layout runs its own nginx with its own config.
  { service nginx stop || pkill -x nginx; } >/dev/null 2>&1 || true
fi
