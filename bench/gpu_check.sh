#!/usr/bin/env bash
# The GPU check, in one run on a machine with a CUDA GPU (a few minutes):
#   1. what the GPU is;  2. the CUDA tests (fp32/bf16/fp16 training, data on the
#   device, channels_last, blocks, GPU checkpoint resumed on the CPU);
#   3. throughput against hand-written loops: seed CNN at batch 32 and 256, and the
#   ResNet sample at batch 512 with bf16 and channels_last (data on the GPU).
# Usage: bash bench/gpu_check.sh [python]   (default: python from PATH)
set -u
PY=${1:-python}
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD QT_QPA_PLATFORM=offscreen
echo "== GPU"; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'bf16', torch.cuda.is_bf16_supported())"
echo "== CUDA tests"; timeout 240 "$PY" -m pytest -q -p no:cacheprovider tests/train/test_cuda.py 2>&1 | tail -15
echo "== seed CNN, batch 32";  timeout 120 "$PY" bench/train_throughput.py --device cuda --model cnn --batch 32 --images 16384 --rounds 3 2>&1 | tail -12
echo "== seed CNN, batch 256"; timeout 120 "$PY" bench/train_throughput.py --device cuda --model cnn --batch 256 --images 32768 --rounds 3 2>&1 | tail -12
echo "== ResNet sample, batch 512"; timeout 180 "$PY" bench/train_throughput.py --device cuda --model resnet --batch 512 --images 16384 --rounds 3 2>&1 | tail -12
