#!/usr/bin/env bash
# The washers recipe trained binary and multi-class side by side on one CUDA GPU, same data, seed and
# time limit (the shipped checkpoint's settings). DATA: a labelled folder (default: 60 washers of
# `iunet-gui synth --seed 7`, rendered here). Results: $OUT/kinds_results.tar.gz.
#   OUT=/tmp/out MINUTES=2.5 DATA=train_washers bash benchmarks/gpu_kinds.sh
source "$(dirname "$0")/gpu_env.sh"
MINUTES=${MINUTES:-2.5}
W=${WORK:-/tmp/gpu_kinds}
rm -rf "$W"; mkdir -p "$W/logs"
DATA=${DATA:-}
if [ -z "$DATA" ]; then DATA="$W/s7"; $PY -m iunet_gui synth --out "$DATA" --count 60 --seed 7 >"$W/logs/synth.log" 2>&1; fi
common=(--data "$DATA" --time-limit "$MINUTES" "${SHIPPED[@]}" --device "$DEVICE" --threads 2 --seed 0)
$PY -m iunet_gui train --out "$W/binary" "${common[@]}" >"$W/logs/binary.log" 2>&1 &
$PY -m iunet_gui train --out "$W/multiclass" "${common[@]}" --set multiclass=true >"$W/logs/multiclass.log" 2>&1 &
wait
tail -n 2 "$W"/logs/*.log
mkdir -p "${OUT:-$W}"
(cd "$W" && tar czf "${OUT:-$W}/kinds_results.tar.gz" logs binary/config.json binary/metrics.csv binary/last.pt \
  binary/best.pt multiclass/config.json multiclass/metrics.csv multiclass/last.pt multiclass/best.pt)
ls -la "${OUT:-$W}"
