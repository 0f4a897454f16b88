#!/usr/bin/env bash
# The GPU checks of issues 10 and 27, as one command for a lent GPU machine (the
# device tool's 'cuda' image), from the repo's root there, with .whl carried
# (made here by scripts/device_wheels.sh):
#   run(command="bash scripts/device_check.sh", carry=[".whl"], timeout_s=540)
# Installs the carried wheels beside the image's torch, then runs the CUDA
# tests (tests/test_compile.py: the training step and the inference pass
# under torch.compile(mode="reduce-overhead"), CUDA graphs, without
# recompilation), bench_transforms and bench_training_step (batch 64 and
# 256, eager; batch 64 compiled with CUDA graphs too) with --device cuda;
# logs and JSON results go to $OUT (what the tool brings back). Each step
# runs even if an earlier one failed.
set -uo pipefail
OUT=${OUT:-/tmp/device_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=8
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH="/tmp/site:$PWD"
status=0
step() {  # step NAME COMMAND...: run, log to $OUT/NAME.log, remember failures
    local name=$1
    shift
    echo "== $name: $*"
    "$@" >"$OUT/$name.log" 2>&1 || { echo "   failed ($?)"; status=1; }
    tail -n 25 "$OUT/$name.log"
}
step versions python3 -c "import torch, braindecode, braindecode_augnet as b; \
print(torch.__version__, torch.cuda.get_device_name(), braindecode.__version__, b.__version__)"
step tests python3 -m pytest -q -p no:cacheprovider tests/test_model.py \
    tests/test_functional.py tests/test_layers.py tests/test_compile.py
step transforms python3 -m benchmarks.bench_transforms --quick --device cuda \
    --out-dir "$OUT"
step step_b64 python3 -m benchmarks.bench_training_step --quick --device cuda \
    --no-memory --out-dir "$OUT/b64"
step step_b256 python3 -m benchmarks.bench_training_step --quick --device cuda \
    --no-memory --batch 256 --out-dir "$OUT/b256"
step step_b64_cudagraphs python3 -m benchmarks.bench_training_step --quick \
    --device cuda --no-memory --sequence-models --compile inductor \
    --compile-mode reduce-overhead --out-dir "$OUT/b64_cudagraphs"
exit $status
