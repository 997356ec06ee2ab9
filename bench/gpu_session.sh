#!/usr/bin/env bash
# One call on a lent GPU machine (PyTorch installed, no package registry): install the rest from the
# wheelhouse carried along, run the trainer benchmark and the rehearsal, leave everything in $OUT.
#   make wheelhouse            # here, with internet (PYTHONS=3.x to match the GPU machine's Python)
#   then carry wheelhouse/ and run:  bash bench/gpu_session.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-gpu-out}"
mkdir -p "$OUT"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
} > "$OUT/machine.txt" 2>&1
# torch stays as the machine has it; everything else from the wheelhouse
python -m pip install --quiet --no-index --find-links wheelhouse -e '.[gpu]' > "$OUT/install.log" 2>&1 \
  || python -m pip install --quiet --no-index --find-links wheelhouse -e . >> "$OUT/install.log" 2>&1
timeout "${BENCH_SECONDS:-420}" python bench/bench_train_gpu.py --steps "${STEPS:-40}" \
  --out "$OUT/train_gpu.json" > "$OUT/bench_train_gpu.log" 2>&1
echo "bench_train_gpu exit $?" >> "$OUT/machine.txt"
timeout "${REHEARSAL_SECONDS:-600}" snakemake --configfile config/rehearsal.yaml --cores all \
  results/report.html > "$OUT/rehearsal.log" 2>&1
echo "rehearsal exit $?" >> "$OUT/machine.txt"
cp -r results/tables results/report.html "$OUT/" 2>/dev/null
mkdir -p "$OUT/phases"
for phases in results/models/*/phases.csv; do cp "$phases" "$OUT/phases/$(basename "$(dirname "$phases")").csv"; done
find benchmarks -name '*.tsv' -exec cp --parents {} "$OUT/" \; 2>/dev/null
echo done >> "$OUT/machine.txt"
