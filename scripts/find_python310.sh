#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter for Rasa, or explains how to get one.
set -euo pipefail
is310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; }
for cand in "${PYTHON310:-}" python3.10 "$HOME/.pyenv/versions/"3.10*/bin/python /root/.pyenv/versions/3.10*/bin/python /usr/bin/python3.10 /usr/local/bin/python3.10; do
  [ -n "$cand" ] || continue
  if command -v "$cand" >/dev/null 2>&1 && is310 "$cand"; then command -v "$cand"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep '^3\.10' || true); do
    p="$(pyenv root)/versions/$v/bin/python"; if is310 "$p"; then echo "$p"; exit 0; fi
  done
fi
if command -v uv >/dev/null 2>&1; then
  p=$(uv python find 3.10 2>/dev/null || true)
  if [ -n "$p" ] && is310 "$p"; then echo "$p"; exit 0; fi
fi
cat >&2 <<'MSG'
error: Rasa 3.6 needs Python 3.10, and none was found.
Install one of: `apt install python3.10 python3.10-venv`, `pyenv install 3.10`, or `uv python install 3.10`;
or point PYTHON310=/path/to/python3.10 at an existing interpreter, then run the command again.
MSG
exit 1
