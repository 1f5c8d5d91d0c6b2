#!/usr/bin/env bash
# Creates .venv (Python >= 3.11) with the app and its dev tools; reinstalls when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.installed
if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then exit 0; fi
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; }
PY=""
for cand in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
  [ -n "$cand" ] || continue
  if command -v "$cand" >/dev/null 2>&1 && ok "$cand"; then PY=$(command -v "$cand"); break; fi
done
if [ -z "$PY" ]; then
  echo "error: the app needs Python >= 3.11 (apt install python3.11, pyenv install 3.11, or uv python install 3.11; or set PYTHON=/path/to/python)" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true
.venv/bin/pip install --quiet -e '.[dev]' 2>&1 | grep -v "is ignored" || true
.venv/bin/python -c "import bot, fastapi, telegram, twilio" || { echo "error: app install failed" >&2; exit 1; }
touch "$stamp"
