#!/usr/bin/env bash
# The powered accuracy comparison of issue 27 (item 3) on a lent GPU, after
# scripts/device_check.sh, as one call of the device tool:
#   run(command="bash scripts/device_accuracy.sh", carry=[".whl"], timeout_s=560)
# Runs the sleep-staging comparison one seed per process (PARALLEL processes
# at once share the GPU: the models are small), each into its own report
# folder under $OUT/accuracy; a seed that would start with under a minute of
# BUDGET_S left is not started, and a running one is stopped (Ctrl-C: it
# writes no scores) when the budget ends. The finished seeds are then
# merged into one paired report (python -m braindecode_augnet --merge):
# $OUT/accuracy/merged/report.md. Runs are deterministic per seed, so a
# later call with FIRST_SEED=N adds seeds that merge with these. OUT must be
# new or empty (the tool's $OUT is); only the seeds this call ran to the end
# are merged, and a failed merge prints nothing.
#
# A dry run here, on CPU, with a tiny design:
#   DEVICE=cpu SEEDS=2 PARALLEL=2 DESIGN="--n-subjects 4 --n-hours 0.25 \
#   --epochs 1 --folds 2 --n-copies 2 --methods none augnet" \
#   OUT=/tmp/dry bash scripts/device_accuracy.sh
set -uo pipefail
OUT=${OUT:-/tmp/device_out}
DEVICE=${DEVICE:-cuda}
FIRST_SEED=${FIRST_SEED:-0}
SEEDS=${SEEDS:-16}
PARALLEL=${PARALLEL:-4}
BUDGET_S=${BUDGET_S:-500}
# the results page's design (docs/results.rst): 10 subjects x 1 h, 5 folds,
# 2 training subjects per fold; the random policy is the baseline to beat
DESIGN=${DESIGN:---n-subjects 10 --n-hours 1.0 --folds 5 --train-sizes 0.25 \
--methods none random fixed augnet}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$((16 / PARALLEL))}
source scripts/_device_env.sh
dir="$OUT/accuracy"
if [[ -e "$dir" ]] && [[ -n "$(ls -A "$dir")" ]]; then
    # its seed folders would be merged as if this call had made them
    echo "$dir holds an earlier call's runs: pass a new or empty OUT" >&2
    exit 1
fi
mkdir -p "$dir"
start=$SECONDS
declare -A pids=()
for ((seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++)); do
    while (($(jobs -rp | wc -l) >= PARALLEL)); do wait -n; done
    left=$((BUDGET_S - (SECONDS - start)))
    if ((left < 60)); then
        echo "seed $seed and later: not started (${BUDGET_S} s budget spent)"
        break
    fi
    echo "seed $seed: started at $((SECONDS - start)) s"
    # shellcheck disable=SC2086
    timeout --signal=INT "$left" python3 -m braindecode_augnet $DESIGN \
        --device "$DEVICE" --first-seed "$seed" --seeds 1 --quiet \
        --out "$dir/seed$seed" >"$dir/seed$seed.log" 2>&1 &
    pids[$seed]=$!
done
# the seeds of this call that ran to the end (a stopped or failed one is
# said, with its log, and left out of the merge)
finished=()
for seed in $(printf '%s\n' "${!pids[@]}" | sort -n); do
    if wait "${pids[$seed]}" && [[ -f "$dir/seed$seed/scores.json" ]]; then
        finished+=("$dir/seed$seed")
    else
        echo "seed $seed: did not finish (see $dir/seed$seed.log)"
    fi
done
echo "finished seeds: ${#finished[@]} in $((SECONDS - start)) s"
((${#finished[@]})) || exit 1
python3 -m braindecode_augnet --merge "${finished[@]}" --out "$dir/merged" --quiet ||
    exit 1
sed -n '/^## Paired/,/^## Test/p' "$dir/merged/report.md"
