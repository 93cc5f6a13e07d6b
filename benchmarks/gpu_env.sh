# Sourced by the gpu_*.sh scripts: the environment of a run on a CUDA machine and the training
# settings of the shipped checkpoint (docs/benchmarks.md). DEVICE, PY: overridable, e.g. DEVICE=cpu.
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD"
DEVICE=${DEVICE:-cuda}
PY=${PY:-python3}
SHIPPED=(--scale 0.5 --model-config depth=4 --set grey_share=0.3 --set region_weight=0)
