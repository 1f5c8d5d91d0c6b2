#!/usr/bin/env bash
# Headless Chromium for the console's browser tests: Debian's `chromium` package (never
# `playwright install`, which downloads its own build) and the Python `playwright` package.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! [ -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo -n"; fi
  echo "installing Debian chromium (apt-get)..."
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null | head -n1
.venv/bin/python -c "import playwright.sync_api" 2>/dev/null \
  || { echo "error: the Python package playwright is missing from .venv (make app)" >&2; exit 1; }
echo "browser ready: /usr/bin/chromium + playwright"
