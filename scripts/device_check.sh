#!/usr/bin/env bash
# The GPU checks of issue 27 (item 3), as one command for a lent GPU machine
# (the device tool's image), from the repo's root there, with .whl carried
# (made here by scripts/device_wheels.sh):
#   run(command="bash scripts/device_check.sh", carry=[".whl"], timeout_s=540)
# Installs the carried wheels beside the image's torch, then runs the CUDA
# tests (tests/test_compile.py: the training step and the inference pass
# under torch.compile(mode="reduce-overhead"), CUDA graphs, without
# recompilation), bench_transforms (batch 64 and 256) and
# bench_training_step (batch 64 and 256, eager and compiled with CUDA
# graphs, the trunk timed in the same run) on the device; logs and JSON
# results go to $OUT (what the tool brings back). Each step runs even if an
# earlier one failed; a step that would start after BUDGET_S seconds is
# skipped (and said so), so that what ran comes back within the call.
# OUT must be new or empty (the tool's $OUT is): an earlier call's results
# there would pass for this one's.
# The powered accuracy comparison is a second call: scripts/device_accuracy.sh.
#
# A dry run here, on CPU, checks every command of the script (tiny sizes):
#   DEVICE=cpu SIZE=--smoke OUT=/tmp/dry bash scripts/device_check.sh
set -uo pipefail
OUT=${OUT:-/tmp/device_out}
DEVICE=${DEVICE:-cuda}
SIZE=${SIZE:---quick}      # --quick on the device; --smoke for a dry run
BUDGET_S=${BUDGET_S:-480}  # start no step after this many seconds
if [[ -e "$OUT" ]] && [[ -n "$(ls -A "$OUT")" ]]; then
    # a skipped or failed step would leave an earlier call's results there
    echo "$OUT holds an earlier call's results: pass a new or empty OUT" >&2
    exit 1
fi
mkdir -p "$OUT"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-8}
source scripts/_device_env.sh
status=0
start=$SECONDS
step() {  # step NAME COMMAND...: run, log to $OUT/NAME.log, remember failures
    local name=$1
    shift
    if ((SECONDS - start > BUDGET_S)); then
        echo "== $name: skipped (${BUDGET_S} s spent; run it alone)"
        status=1
        return
    fi
    echo "== $name ($((SECONDS - start)) s): $*"
    "$@" >"$OUT/$name.log" 2>&1 || { echo "   failed ($?)"; status=1; }
    tail -n 25 "$OUT/$name.log"
}
step versions python3 -c "import torch, braindecode, braindecode_augnet as b; \
print(torch.__version__, torch.cuda.is_available() and \
torch.cuda.get_device_name(), braindecode.__version__, b.__version__)"
step tests python3 -m pytest -q -p no:cacheprovider tests/test_model.py \
    tests/test_functional.py tests/test_layers.py tests/test_compile.py
bench() {  # bench NAME MODULE ARGS...: one benchmark on the device
    local name=$1 module=$2
    shift 2
    step "$name" python3 -m "benchmarks.$module" "$SIZE" --device "$DEVICE" \
        --out-dir "$OUT/$name" "$@"
}
bench step_b64 bench_training_step --no-memory
bench transforms_b64 bench_transforms
bench step_b64_cudagraphs bench_training_step --no-memory --sequence-models \
    --compile inductor --compile-mode reduce-overhead
bench step_b256 bench_training_step --no-memory --batch 256 --sequence-models
bench transforms_b256 bench_transforms --batch 256
bench step_b256_cudagraphs bench_training_step --no-memory --batch 256 \
    --sequence-models --compile inductor --compile-mode reduce-overhead
echo "== done in $((SECONDS - start)) s, status $status"
exit $status
