#!/usr/bin/env bash
# Install what the tests need (into .venv) and run them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
. .venv/bin/activate
ruff check braindecode_augnet tests examples benchmarks
ruff format --check braindecode_augnet tests examples benchmarks
python -m pytest tests "$@"
