#!/usr/bin/env bash
# Every GPU check as one short run, for a machine with a CUDA GPU (CI has none): the tests that train
# on the GPU (fit's device 'auto' takes it), then the training step of each chapter's full-scale
# config there, eager and compiled, recorded in data/results/benchmarks.json. From the repository's
# root, about 10 minutes on an H100:
#
#     bash benchmarks/gpu_check.sh OUTDIR
#
# It needs PyTorch with CUDA. The package runs from src/; where the machine cannot reach a package
# index, its pure-Python dependencies travel as wheels in .whl/ (benchmarks/README.md), installed here
# into a folder of their own. Logs and the recorded benchmarks.json go to OUTDIR.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bash benchmarks/gpu_check.sh OUTDIR}
mkdir -p "$out"
py=${PYTHON:-python3}
if [ -d .whl ]; then
    $py -m pip install -q --no-index --no-deps --no-build-isolation --no-cache-dir --target /tmp/gpu-site .whl/* || exit 1
    export PYTHONPATH=/tmp/gpu-site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
$py -c 'import torch; assert torch.cuda.is_available(), "no CUDA GPU here"
print(torch.__version__, torch.cuda.get_device_name(), "cuDNN", torch.backends.cudnn.version())' |
    tee "$out/gpu.txt" || exit 1

rc=0  # the worst step's status: a failed test or benchmark fails the whole check
# 1. Exact resume on the GPU, compiled against eager steps, every chapter's step on one device.
timeout 300 $py -m pytest -q -m "not book" tests/core tests/ntm tests/act \
    tests/programmer/test_programmer_compile.py 2>&1 | tee "$out/tests.log"
rc=$((rc | $?))
# 2. The chapters' training steps on the GPU (half the CPU table's steps, two rounds each).
(cd benchmarks && timeout 240 $py train_step.py --device cuda --rounds 2 --scale-steps 0.5 --record) 2>&1 |
    tee "$out/train_step.log"
rc=$((rc | $?))
(cd benchmarks && timeout 60 $py ntm_step.py --device cuda --seconds 3) 2>&1 | tee "$out/ntm_step.log"
rc=$((rc | $?))
cp data/results/benchmarks.json "$out/"
exit $rc
