#!/usr/bin/env bash
# Download into .whl/ the wheels that a lent GPU machine (the device tool's
# 'cuda' image: Python 3.12, torch 2.11, torchaudio 2.11, scikit-learn,
# accelerate, ... but no braindecode, MNE or skorch) needs to run the CUDA
# tests and benchmarks of this repo, at the versions installed in .venv.
# Run it here (it needs the package registry), then carry .whl with the
# device tool and start the command there with scripts/device_check.sh.
#   bash scripts/device_wheels.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
# .whl/ travels with the working tree only when carried: keep it out of git
grep -qxF '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >>.git/info/exclude
rm -rf .whl && mkdir .whl
# braindecode-augnet's dependencies that the image lacks (with theirs),
# pinned to the versions tested here
MISSING="braindecode mne mne-bids skorch docstring-inheritance torchinfo wfdb
soundfile cffi pycparser pooch platformdirs decorator pydantic pydantic-core
annotated-types typing-inspection linear-attention-transformer
axial-positional-embedding colt5-attention hyper-connections linformer
local-attention product-key-memory torch-einops-utils"
PINNED=$("$PY" - $MISSING <<'PY'
import sys
from importlib.metadata import version
print(" ".join(f"{name}=={version(name)}" for name in sys.argv[1:]))
PY
)
PLATFORMS=""
for n in 17 24 27 28 31 34; do PLATFORMS="$PLATFORMS --platform manylinux_2_${n}_x86_64"; done
# shellcheck disable=SC2086
"$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp $PLATFORMS --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 --platform any -d .whl $PINNED
du -sh .whl
ls .whl | wc -l
