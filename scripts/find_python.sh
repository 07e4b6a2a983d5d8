#!/usr/bin/env bash
# Print the path of a Python the project runs on: 3.10, else 3.9 (Rasa 3.6 takes 3.8-3.10; our
# code needs 3.9 for zoneinfo, asyncio.to_thread, str.removeprefix).
# Order: $PYTHON if set, pyenv's versions, then python3.X on PATH.
set -euo pipefail
ok() { "$1" -c 'import sys; sys.exit(0 if (3,9) <= sys.version_info[:2] <= (3,10) else 1)' 2>/dev/null; }
if [ -n "${PYTHON:-}" ] && ok "$PYTHON"; then echo "$PYTHON"; exit 0; fi
roots=()
command -v pyenv >/dev/null 2>&1 && roots+=("$(pyenv root)")
roots+=("${PYENV_ROOT:-$HOME/.pyenv}")
for minor in 10 9; do
  for root in "${roots[@]}"; do
    for py in $(ls -d "$root"/versions/3."$minor".*/bin/python 2>/dev/null | sort -V -r); do
      if ok "$py"; then echo "$py"; exit 0; fi
    done
  done
  if command -v "python3.$minor" >/dev/null 2>&1 && ok "$(command -v python3.$minor)"; then
    command -v "python3.$minor"; exit 0
  fi
done
echo "No Python 3.9-3.10 found (Rasa 3.6 and this code need one). Install one with pyenv, or set PYTHON=/path/to/python3.10." >&2
exit 1
