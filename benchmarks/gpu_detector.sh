#!/usr/bin/env bash
# The detector's trainings on one CUDA GPU, side by side, mixed precision: the washers recipe on 600
# synthetic washers (synth seeds 7, 17, ..., 97) binary with and without `defect_polarity=0.5` (the
# labelled defects shown bright and dark), and with one output per kind; and, with TILES set, the
# magnetic tiles recipe binary and multi-class as bench_training.py trains and scores it. Results:
# $OUT/washers.tar.gz, $OUT/tiles.tar.gz; scored afterwards by defect_recall.py and evaluate.
#   OUT=/tmp/out MINUTES=6.5 TILES=path/to/magnetic-tile bash benchmarks/gpu_detector.sh
# A second round: INIT=wash_dp/best.pt LR=5e-4 continues the defect_polarity run from its checkpoint
# (no control run then, unless CONTROL names the settings it differs by, e.g. CONTROL="--scale 0.6"),
# KINDS_INIT=CKPT starts the multi-class run from a checkpoint (a binary one: its output split into
# the kinds), KINDS_SET="--set loss=bce_pos" adds settings to the multi-class run.
source "$(dirname "$0")/gpu_env.sh"
MINUTES=${MINUTES:-6.5}
TILE_MINUTES=${TILE_MINUTES:-7}
SEEDS=${SEEDS:-"7 17 27 37 47 57 67 77 87 97"}
COUNT=${COUNT:-60}
BATCH=${BATCH:-8}
TILES=${TILES:-}
INIT=${INIT:-}
KINDS_SET=${KINDS_SET:-}
KINDS_INIT=${KINDS_INIT:-}
CONTROL=${CONTROL:-}
W=${WORK:-/tmp/gpu_detector}
rm -rf "$W"; mkdir -p "$W/logs" "$W/many"
nvidia-smi -L 2>/dev/null || true
if [ -n "$TILES" ]; then
  for kinds in binary multiclass; do
    flag=(); [ "$kinds" = multiclass ] && flag=(--multiclass)
    $PY benchmarks/bench_training.py --skip-synth --data "$TILES" --real-recipe tiles --real-models iunet \
      --minutes "$TILE_MINUTES" --threads 2 --seed 0 "${flag[@]}" --work "$W/tiles_$kinds" \
      --json "$W/tiles_$kinds.json" >"$W/logs/tiles_$kinds.log" 2>&1 &
  done
fi
for s in $SEEDS; do
  $PY -m iunet_gui synth --out "$W/s$s" --count "$COUNT" --seed "$s" --prefix "w$s" >"$W/logs/synth_$s.log" 2>&1 &
done
sleep 2
while pgrep -f "iunet_gui synth" >/dev/null; do sleep 1; done
for s in $SEEDS; do ln -s "$W/s$s"/w* "$W/many/"; done
cp "$W/s${SEEDS%% *}/iunet_project.json" "$W/many/"
echo "washers: $(ls "$W/many" | grep -c '\.json$') labelled files"
common=(--data "$W/many" --time-limit "$MINUTES" "${SHIPPED[@]}" --device "$DEVICE" --threads 2 --seed 0
        --batch-size "$BATCH")
cont=(); [ -n "$INIT" ] && cont=(--init "$INIT" --lr "${LR:-5e-4}")
$PY -m iunet_gui train --out "$W/wash_dp" "${common[@]}" "${cont[@]}" --set defect_polarity=0.5 \
  >"$W/logs/wash_dp.log" 2>&1 &
if [ -z "$INIT" ]; then
  $PY -m iunet_gui train --out "$W/wash_ctl" "${common[@]}" >"$W/logs/wash_ctl.log" 2>&1 &
elif [ -n "$CONTROL" ]; then  # the continuation again, differing by CONTROL's settings
  # shellcheck disable=SC2086
  $PY -m iunet_gui train --out "$W/wash_ctl" "${common[@]}" "${cont[@]}" --set defect_polarity=0.5 $CONTROL \
    >"$W/logs/wash_ctl.log" 2>&1 &
fi
kinds_cont=(); [ -n "$KINDS_INIT" ] && kinds_cont=(--init "$KINDS_INIT" --lr "${LR:-5e-4}")
# shellcheck disable=SC2086
$PY -m iunet_gui train --out "$W/wash_kinds" "${common[@]}" "${kinds_cont[@]}" --set defect_polarity=0.5 \
  --set multiclass=true $KINDS_SET >"$W/logs/wash_kinds.log" 2>&1 &
wait
nvidia-smi --query-gpu=name,memory.used --format=csv 2>/dev/null || true
for f in "$W"/logs/wash_*.log "$W"/logs/tiles_*.log; do echo "== $f"; grep -a -v "^train " "$f" | tail -n 4; done
mkdir -p "${OUT:-$W}"
(cd "$W" && tar czf "${OUT:-$W}/washers.tar.gz" logs wash_*/config.json wash_*/metrics.csv wash_*/best.pt \
  wash_*/last.pt 2>/dev/null)
(cd "$W" && tar czf "${OUT:-$W}/tiles.tar.gz" tiles_*.json tiles_*/run_real_iunet/config.json \
  tiles_*/run_real_iunet/metrics.csv tiles_*/run_real_iunet/best.pt 2>/dev/null)
ls -la "${OUT:-$W}"
