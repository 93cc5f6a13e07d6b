"""The paper's Table 2 on a CUDA GPU: milliseconds per 1280x1024 image for each network, batch 1.

Eager PyTorch with BN folded, channels_last, cudnn.benchmark and inference_mode; fp32 and fp16
(autocast). Each figure is the median of --repeats timed runs after --warmup runs, each run
synchronised with the device. Peak MB is torch's peak allocated GPU memory for the row.

    python benchmarks/bench_gpu.py                         # on cuda, the default rows
    python benchmarks/bench_gpu.py --device cpu --size 256x256 --repeats 2   # a quick check of the script
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROWS = ["iunet:paper", "unet:paper", "iunet:paper-a", "fcn8s:paper", "segnet:paper",
        "iunet:default", "unet:default", "shipped"]


def build(spec: str):
    """(model, parameters) of a name:preset row, or of the shipped checkpoint's network."""
    from iunet_gui.models.registry import build_preset, count_parameters

    if spec == "shipped":
        from iunet_gui.models.checkpoint import load_checkpoint
        from iunet_gui.resources import DEFAULT_CHECKPOINT

        model = load_checkpoint(DEFAULT_CHECKPOINT).model
    else:
        model, _ = build_preset(*spec.split(":"))
    return model.eval(), count_parameters(model)


def time_ms(fn, sync, repeats: int, warmup: int) -> float:
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def row(spec: str, device, h: int, w: int, repeats: int, warmup: int) -> dict:
    import torch

    from iunet_gui.models.blocks import fuse_conv_bn

    model, params = build(spec)
    fused = fuse_conv_bn(model).to(device=device, memory_format=torch.channels_last)
    x = torch.randn(1, 3, h, w, device=device).contiguous(memory_format=torch.channels_last)
    cuda = device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    out = {"spec": spec, "params": params}
    for name, dtype in (("fp32", None), ("fp16", torch.float16)):
        if dtype is not None and not cuda:
            continue
        if cuda:
            torch.cuda.reset_peak_memory_stats()

        def run(dtype=dtype):
            with torch.inference_mode(), torch.autocast(device.type, dtype=dtype or torch.float32,
                                                          enabled=dtype is not None):
                fused(x)

        out[f"{name}_ms"] = round(time_ms(run, sync, repeats, warmup), 2)
        if cuda:
            out[f"{name}_peak_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--size", default="1280x1024", help="WIDTHxHEIGHT")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rows", nargs="*", default=ROWS)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    import torch

    torch.backends.cudnn.benchmark = True
    device = torch.device(args.device)
    w, h = (int(v) for v in args.size.split("x"))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device {name}, torch {torch.__version__}, input {w}x{h}, batch 1")
    rows = []
    for spec in args.rows:
        try:
            r = row(spec, device, h, w, args.repeats, args.warmup)
        except Exception as exc:  # one failing row (memory, a missing file) does not hide the others
            r = {"spec": spec, "error": f"{type(exc).__name__}: {exc}"}
        rows.append(r)
        print(json.dumps(r), flush=True)
    speed = {r["spec"]: r for r in rows if "fp32_ms" in r}
    if "iunet:paper" in speed and "unet:paper" in speed:
        for key in ("fp32_ms", "fp16_ms"):
            if key in speed["iunet:paper"]:
                ratio = speed["iunet:paper"][key] / speed["unet:paper"][key]
                print(f"IU-Net / U-Net at the paper presets, {key[:-3]}: {ratio:.2f}x (paper, GTX 1080: 0.89x)")
    if args.json:
        args.json.write_text(json.dumps({"device": name, "torch": torch.__version__, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
