#!/usr/bin/env bash
# One session on a CUDA machine: the paper's Table 2 on the GPU (bench_gpu.py), then four trainings
# of the shipped network side by side on the GPU (mixed precision: precision "auto" is float16 with a
# gradient scaler on CUDA). Results go to $OUT/gpu_results.tar.gz (runs' config, metrics, checkpoints).
#   OUT=/tmp/out MINUTES=4.5 bash benchmarks/gpu_session.sh
source "$(dirname "$0")/gpu_env.sh"
MINUTES=${MINUTES:-4.5}
W=${WORK:-/tmp/gpu_session}
rm -rf "$W"; mkdir -p "$W/d180" "$W/logs"
nvidia-smi -L 2>/dev/null || true
# The training washers: seed 7 is the shipped checkpoint's set; seeds 17 and 27 add 120 more.
for s in 7 17 27; do
  $PY -m iunet_gui synth --out "$W/s$s" --count 60 --seed "$s" --prefix "w$s" >"$W/logs/synth_$s.log" 2>&1 &
done
$PY benchmarks/bench_gpu.py --device "$DEVICE" --json "$W/table2.json" ${TABLE2_ARGS:-} 2>&1 | tee "$W/logs/table2.log"
wait
for s in 7 17 27; do ln -s "$W/s$s"/w* "$W/d180/"; done
cp "$W/s7/iunet_project.json" "$W/d180/"
$PY -c "import torch; from iunet_gui.training.network import Precision as P; p = P('auto', torch.device('$DEVICE')); \
print('training precision on $DEVICE:', p.enabled and p.dtype, 'gradient scaler:', p.scaler is not None)"
common=(--time-limit "$MINUTES" "${SHIPPED[@]}" --device "$DEVICE" --threads 2 --seed 0)
flip=(--set polarity=0.5)  # half of the crops with their fine detail inverted
$PY -m iunet_gui train --data "$W/s7" --out "$W/runA_pol05_60" "${common[@]}" "${flip[@]}" >"$W/logs/runA.log" 2>&1 &
$PY -m iunet_gui train --data "$W/s7" --out "$W/runC_pol0_60" "${common[@]}" --set polarity=0 >"$W/logs/runC.log" 2>&1 &
$PY -m iunet_gui train --data "$W/d180" --out "$W/runB_pol05_180" "${common[@]}" "${flip[@]}" >"$W/logs/runB.log" 2>&1 &
$PY -m iunet_gui train --data "$W/d180" --out "$W/runD_pol05_180_b8" "${common[@]}" "${flip[@]}" --batch-size 8 >"$W/logs/runD.log" 2>&1 &
wait
nvidia-smi --query-gpu=name,memory.used --format=csv 2>/dev/null || true
for r in "$W"/run*; do echo "== $r"; tail -n 3 "$r/metrics.csv" 2>/dev/null; done
tail -n 4 "$W"/logs/run*.log
mkdir -p "${OUT:-$W}"; (cd "$W" && tar czf "${OUT:-$W}/gpu_results.tar.gz" --exclude='*/raw*' table2.json logs run*/config.json \
  run*/metrics.csv run*/best.pt run*/last.pt 2>/dev/null)
ls -la "${OUT:-$W}"
