# Sourced by scripts/device_*.sh: the carried wheels (.whl/, made here by
# scripts/device_wheels.sh) installed beside the device image's torch, or,
# without .whl/ (a dry run in this repo's environment), the installed
# packages; the repo on PYTHONPATH either way.
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH="/tmp/site:$PWD"
else
    echo "no .whl/ here: using the installed packages"
    export PYTHONPATH="$PWD"
fi
export PYTHONUNBUFFERED=1
