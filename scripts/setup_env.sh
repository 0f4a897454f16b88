#!/usr/bin/env bash
# Create .venv and install braindecode-augnet with everything its tests,
# examples and benchmarks need. Needs only Python >= 3.11 on the machine.
#   bash scripts/setup_env.sh          # runtime + test dependencies
#   EXTRAS=test,docs bash scripts/setup_env.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
EXTRAS=${EXTRAS:-test}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
# The torch/torchaudio pair first, then the package constrained to that pair so
# that no second torch is pulled in by a dependency.
python -m pip install --quiet -r requirements-torch.txt
python -m pip install --quiet -c requirements-torch.txt -e ".[${EXTRAS}]"
python -c "import braindecode, torch, torchaudio, braindecode_augnet; print('torch', torch.__version__, '| torchaudio', torchaudio.__version__, '| braindecode', braindecode.__version__, '| braindecode-augnet', braindecode_augnet.__version__)"
