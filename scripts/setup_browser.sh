#!/usr/bin/env bash
# Headless Chromium for the browser tests: Debian's `chromium` package (never
# `playwright install`, which downloads its own build), the Python `playwright` package, and
# the test-only JavaScript tools of tests/browser_tools (axe-core, pinned by its lockfile).
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
TOOLS=tests/browser_tools
STAMP=$TOOLS/node_modules/.frontdesk-lock.sha256
want=$(sha256sum "$TOOLS/package-lock.json" | cut -d' ' -f1)
if [ -f "$TOOLS/node_modules/axe-core/axe.min.js" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
  echo "browser tools current ($TOOLS/node_modules)"
else
  command -v npm >/dev/null \
    || { echo "error: npm is missing: install Node.js with npm (Debian: apt-get install npm)" >&2; exit 1; }
  npm ci --prefix "$TOOLS" --no-audit --no-fund
  echo "$want" >"$STAMP"
fi
echo "browser ready: /usr/bin/chromium + playwright + axe-core"
