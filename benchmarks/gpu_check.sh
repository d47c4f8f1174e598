#!/usr/bin/env bash
# The GPU suite, for a session lent a GPU: every benchmark that has a CUDA path, on CUDA, in
# under 8 minutes on one H200. Run it from the repository root as one prepared command, e.g.
#     bash benchmarks/gpu_check.sh
# Results (markdown + plots) go to $OUT when set (the device tool's folder), else
# benchmarks/gpu-results/. Needs PyTorch with CUDA, torchdiffeq, h5py, matplotlib, tqdm.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-benchmarks/gpu-results}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
# Install only what this machine lacks: torch is preinstalled, so only missing runtime
# dependencies (without their dependencies, which could replace torch), then physode itself.
installed=$(python3 -m pip list --format=freeze 2>/dev/null | cut -d= -f1 | tr 'A-Z_' 'a-z-')
missing=""
for package in numpy scipy h5py h5netcdf xarray matplotlib tqdm torchdiffeq; do
    grep -qx "$package" <<<"$installed" || missing="$missing $package"
done
if [ -n "$missing" ]; then
    python3 -m pip install -q --no-deps $missing || echo "gpu_check: could not install$missing" >&2
fi
python3 -m pip install -q --no-deps --no-build-isolation -e . >/dev/null
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$out/gpu.txt"

# run LIMIT_SECONDS MODULE ARGS...: one benchmark (python3 -m MODULE); a failure is recorded and
# the suite goes on.
run() {
    local limit=$1
    shift
    timeout "$limit" python3 -m "$@" || echo "gpu_check: FAILED or out of time: $*" | tee -a "$out/gpu.txt"
}

start=$SECONDS
run 100 benchmarks.core.ode_block --device cuda --batch 128 --out "$out/core"
run 300 benchmarks.perf.perf --device cuda --repeats 3 --nt 2 50 --resnet-batch 256 --out "$out/perf"  # fixed, interleaved ratios, Revolve, ResNet-10, adaptive
run 70 benchmarks.cifar10.throughput --device cuda --batch-size 256 --steps 20 --report "$out/cifar10_throughput.md"
echo "gpu_check: done in $((SECONDS - start)) s" | tee -a "$out/gpu.txt"

# CIFAR-10 quick protocol (benchmarks/cifar10/gpu_quick): every variant of ResNet-10 and
# ResNet-4 on all 50,000 images, epochs fitted to a deadline. It gets what this 10-minute command
# has left (580 s from the start, less 30 s for the interpreter and the write-out), at most 480 s;
# run it alone for its full 8-minute protocol.
quick_budget=$((580 - SECONDS - 30))
if ((quick_budget > 480)); then quick_budget=480; fi
if ((quick_budget >= 60)); then
    run $((quick_budget + 30)) benchmarks.cifar10.gpu_quick --device cuda --budget-s "$quick_budget" --out "$out"
else
    echo "gpu_check: gpu_quick not run, only ${quick_budget} s of the 10 minutes left" | tee -a "$out/gpu.txt"
fi
echo "gpu_check: all done in $SECONDS s" | tee -a "$out/gpu.txt"
