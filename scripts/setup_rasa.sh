#!/usr/bin/env bash
# Creates .venv-rasa (Python 3.10 + Rasa 3.6.21), kept apart from the app's environment
# because Rasa pins old SQLAlchemy/APScheduler and Python < 3.11.
set -euo pipefail
cd "$(dirname "$0")/.."
RASA_VERSION=3.6.21
if [ -x .venv-rasa/bin/rasa ] && .venv-rasa/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('rasa') != '$RASA_VERSION')" 2>/dev/null; then
  exit 0
fi
PY=$(bash scripts/find_python310.sh)
echo "Creating .venv-rasa with $PY (Rasa $RASA_VERSION, about 2 minutes)..."
rm -rf .venv-rasa
"$PY" -m venv .venv-rasa
.venv-rasa/bin/pip install --quiet --upgrade "pip<25" 2>&1 | grep -v "is ignored" || true
.venv-rasa/bin/pip install --quiet "rasa==$RASA_VERSION" 2>&1 | grep -v "is ignored" || true
.venv-rasa/bin/rasa --version >/dev/null
echo ".venv-rasa ready."
