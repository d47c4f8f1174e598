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

start=$SECONDS
timeout 120 python3 benchmarks/core/ode_block.py --device cuda --batch 128 --out "$out/core"
timeout 240 python3 benchmarks/perf/perf.py --device cuda --repeats 5 --out "$out/perf"
timeout 90 python3 benchmarks/cifar10/throughput.py --device cuda --out "$out/cifar10_throughput.md"
echo "gpu_check: done in $((SECONDS - start)) s" | tee -a "$out/gpu.txt"
