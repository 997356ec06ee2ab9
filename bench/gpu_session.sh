#!/usr/bin/env bash
# One call on a lent GPU machine (PyTorch installed, no package registry): install the rest, run the
# trainer and sampler benchmarks and the rehearsal, leave a handful of files in $OUT (such machines
# return few files).
#   Either a wheelhouse:  make wheelhouse PYTHONS=3.12   (here, with internet), carry wheelhouse/
#   or a ready site-packages tarball (SITE=path.tgz): the wheels unpacked for the node's Python, minus
#   what the node already has (python envs/wheelhouse.py --present LIST), smaller to carry.
#   Then:  bash bench/gpu_session.sh
# Knobs: BENCH_SECONDS, BENCH_ARGS, SDXL_SECONDS, REHEARSAL_SECONDS, REHEARSAL_OVERLAY (an extra config file merged
# over config/rehearsal.yaml, e.g. fewer images and steps for a short lease).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-gpu-out}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
if [[ -n "${SITE:-}" ]]; then
  mkdir -p /tmp/mame-site && tar -xzf "$SITE" -C /tmp/mame-site
  export PYTHONPATH="/tmp/mame-site:$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
  echo "site from $SITE" > "$OUT/install.log"
else
  # torch stays as the machine has it; everything else from the wheelhouse
  "$PYTHON" -m pip install --quiet --no-index --find-links wheelhouse -e '.[gpu]' > "$OUT/install.log" 2>&1 \
    || "$PYTHON" -m pip install --quiet --no-index --find-links wheelhouse -e . >> "$OUT/install.log" 2>&1
fi
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  nproc
  "$PYTHON" -c "import torch, diffusers, transformers, snakemake; print('torch', torch.__version__, 'cuda', \
torch.version.cuda, 'diffusers', diffusers.__version__, 'transformers', transformers.__version__)"
  "$PYTHON" -c "import bitsandbytes; print('bitsandbytes', bitsandbytes.__version__)"
} > "$OUT/machine.txt" 2>&1
# shellcheck disable=SC2086
timeout "${BENCH_SECONDS:-420}" "$PYTHON" bench/bench_train_gpu.py ${BENCH_ARGS:---steps 40} \
  --out "$OUT/train_gpu.json" > "$OUT/bench_train_gpu.log" 2>&1
echo "bench_train_gpu exit $?" >> "$OUT/machine.txt"
# SDXL at 1024 px for the sizing table: the 24 GB recipe (8-bit Adam, checkpointing) at batch 4, and bf16
timeout "${SDXL_SECONDS:-300}" "$PYTHON" bench/bench_train_gpu.py --family sdxl --batch 4 --steps 20 \
  --images 32 --recipes thesis,bf16 --no-reference --out "$OUT/train_gpu_sdxl.json" > "$OUT/bench_sdxl.log" 2>&1
echo "bench_train_gpu sdxl exit $?" >> "$OUT/machine.txt"
# the sweep's sampler (plain diffusers call as the reference) and the latent stage, projected to the study
timeout "${SAMPLE_SECONDS:-300}" "$PYTHON" bench/bench_sample_gpu.py --out "$OUT/sample_gpu.json" \
  > "$OUT/bench_sample_gpu.log" 2>&1
echo "bench_sample_gpu exit $?" >> "$OUT/machine.txt"
nvidia-smi --query-gpu=timestamp,memory.used,utilization.gpu --format=csv -l 2 > "$OUT/gpu_use.csv" 2>&1 &
monitor=$!
overlay=()
[[ -n "${REHEARSAL_OVERLAY:-}" ]] && overlay=("$REHEARSAL_OVERLAY")
timeout "${REHEARSAL_SECONDS:-600}" "$PYTHON" -m snakemake --configfile config/rehearsal.yaml "${overlay[@]}" \
  --cores all --keep-going results/report.html > "$OUT/rehearsal.log" 2>&1
echo "rehearsal exit $?" >> "$OUT/machine.txt"
kill "$monitor" 2>/dev/null
# one archive: tables, report, each model's phases and training log, Snakemake's per-job benchmarks, logs
tar -czf "$OUT/rehearsal.tgz" --ignore-failed-read results/tables results/report.html \
  results/models/*/phases.csv results/models/*/training_log.csv benchmarks logs 2>/dev/null
echo done >> "$OUT/machine.txt"
