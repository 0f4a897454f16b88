#!/usr/bin/env bash
# Build the HTML documentation offline, warnings as errors.
#   bash docs/build.sh                 # from anywhere; output in docs/_build/html
# Needs the 'docs' extra: pip install -c requirements-torch.txt -e ".[docs]"
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIRTUAL_ENV:-}" ] && [ -x .venv/bin/python ]; then
    . .venv/bin/activate
fi
python -m sphinx -W --keep-going -b html docs docs/_build/html "$@"
