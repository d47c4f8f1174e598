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
python3 -m pip install -q --no-deps --no-build-isolation -e . >/dev/null
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$out/gpu.txt"

# run LIMIT_SECONDS SCRIPT ARGS...: one benchmark; a failure is recorded and the suite goes on.
run() {
    local limit=$1
    shift
    timeout "$limit" python3 "$@" || echo "gpu_check: FAILED or out of time: $*" | tee -a "$out/gpu.txt"
}

start=$SECONDS
run 100 benchmarks/core/ode_block.py --device cuda --batch 128 --out "$out/core"
run 300 benchmarks/perf/perf.py --device cuda --repeats 3 --nt 2 50 --resnet-batch 256 --out "$out/perf"  # fixed, interleaved ratios, Revolve, ResNet-10, adaptive
run 70 benchmarks/cifar10/throughput.py --device cuda --batch-size 256 --steps 20 --report "$out/cifar10_throughput.md"
echo "gpu_check: done in $((SECONDS - start)) s" | tee -a "$out/gpu.txt"
