"""The paper's Table 2 on this machine: every network, same input and threads.

Prints parameters, GFLOP per image, peak memory and median ms per image for eager PyTorch
(channels_last, BN folded, inference_mode) and ONNX Runtime, then the whole detection of one
image (load, predict, threshold, measure) with the default model as the app runs it.

    python benchmarks/bench_models.py                   # 1280x1024, all presets below
    python benchmarks/bench_models.py --quick           # smaller input, fewer runs
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_ROWS = ["iunet:default", "iunet:fast", "unet:default", "iunet:paper", "unet:paper", "iunet:paper-a",
                "fcn8s:default", "segnet:default", "fcn8s:paper", "segnet:paper"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_fn(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def bench_row(spec: str, h: int, w: int, threads: int, repeats: int, skip_torch_over: float) -> dict:
    """Run in a child process so that each row's peak memory is its own."""
    import subprocess

    code = f"""
import json, sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from benchmarks.bench_models import _row
print("ROW" + json.dumps(_row({spec!r}, {h}, {w}, {threads}, {repeats}, {skip_torch_over})))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        if line.startswith("ROW"):
            import json

            return json.loads(line[3:])
    return {"spec": spec, "error": (r.stderr.strip().splitlines() or ["failed"])[-1]}


def _row(spec, h, w, threads, repeats, skip_torch_over):
    import torch

    torch.set_num_threads(threads)
    from iunet_gui.inference.onnx_export import export_onnx
    from iunet_gui.models.blocks import fuse_conv_bn
    from iunet_gui.models.checkpoint import load_checkpoint, save_checkpoint
    from iunet_gui.models.registry import build_preset, conv_output_gb, count_parameters, gflop

    name, preset = spec.split(":")
    model, cfg = build_preset(name, preset)
    model.eval()
    out = {"spec": spec, "params": count_parameters(model), "gflop": gflop(model, h, w),
           "conv_gb": conv_output_gb(model, h, w)}
    x = torch.randn(1, 3, h, w)
    base_rss = peak_rss_mb()
    if out["gflop"] <= skip_torch_over:
        fused = fuse_conv_bn(model).to(memory_format=torch.channels_last)
        xc = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            out["torch_ms"] = time_fn(lambda: fused(xc), repeats)
        out["torch_peak_mb"] = peak_rss_mb()
    try:
        import onnxruntime as ort

        with tempfile.TemporaryDirectory() as d:
            ck = Path(d) / "m.pt"
            save_checkpoint(ck, model, arch=name, config=cfg)
            onnx_path = export_onnx(load_checkpoint(ck), Path(d) / "m.onnx")
            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
            xn = x.numpy()
            out["ort_ms"] = time_fn(lambda: sess.run(None, {"image": xn}), repeats)
            out["ort_peak_mb"] = peak_rss_mb()
    except ImportError:
        pass
    out["base_mb"] = base_rss
    return out


def detection(h, w, threads, repeats, data: Path | None):
    """Whole detection of one photo with the default IU-Net as the app runs it (Predictor)."""
    import numpy as np

    from iunet_gui.core.images import save_image
    from iunet_gui.core.synth import WasherSpec, render_washer
    from iunet_gui.inference.predictor import Predictor
    from iunet_gui.models.checkpoint import save_checkpoint
    from iunet_gui.models.registry import build_preset
    from iunet_gui.resources import DEFAULT_CHECKPOINT as shipped

    results = {}
    with tempfile.TemporaryDirectory() as d:
        img_path = Path(d) / "washer.jpg"
        save_image(img_path, render_washer(np.random.default_rng(1), WasherSpec(width=w, height=h)).image)
        for name in ("iunet", "iunet-1pass", "iunet-fast", "unet"):
            if name in ("iunet", "iunet-1pass") and shipped.exists():  # 1pass: one run, not the mean over flips
                ck = shipped
            elif name == "iunet-fast" and shipped.exists():  # the shipped weights read from the x(0,2) head
                import torch

                blob = torch.load(shipped, weights_only=True)
                blob["config"]["prune"] = 2
                ck = Path(d) / "fast.pt"
                torch.save(blob, ck)
            else:
                arch = name.removesuffix("-1pass")
                model, cfg = build_preset(*arch.split("-")) if "-" in arch else build_preset(arch, "default")
                ck = Path(d) / f"{arch}.pt"
                save_checkpoint(ck, model.eval(), arch=arch, config=cfg)
            for crop in (True, False):
                p = Predictor.from_path(ck, threads=threads, crop_to_part=crop)
                p.tta = not name.endswith("-1pass")
                runs = []
                for _ in range(repeats + 1):
                    runs.append(p.predict_path(img_path, 0.035).timing_ms)
                runs = runs[1:]
                results[(name, crop)] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                results[(name, crop)]["backend"] = p.backend
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="1280x1024")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--models", nargs="*", default=DEFAULT_ROWS, help="name:preset rows")
    ap.add_argument("--skip-torch-over", type=float, default=150.0,
                    help="skip eager PyTorch for rows above this many GFLOP (minutes per image)")
    ap.add_argument("--quick", action="store_true", help="640x512, 2 repeats")
    ap.add_argument("--data", type=Path, default=None, help="unused; accepted for symmetry with bench_training")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    if args.quick:
        w, h, args.repeats = w // 2, h // 2, 2
    print(f"# Table 2 on this machine: {w}x{h} input, {args.threads} threads, median of {args.repeats} runs "
          f"after warm-up ({os.cpu_count()} cores, no GPU)")
    print(f"{'network':<16}{'parameters':>12}{'GFLOP':>9}{'conv out GB':>12}{'torch ms':>10}{'ORT ms':>9}"
          f"{'ORT GFLOP/s':>12}{'peak MB':>9}")
    for spec in args.models:
        r = bench_row(spec, h, w, args.threads, args.repeats, args.skip_torch_over)
        if "error" in r:
            print(f"{spec:<16} error: {r['error']}")
            continue
        ort = r.get("ort_ms")
        print(f"{spec:<16}{r['params']:>12,}{r['gflop']:>9.1f}{r['conv_gb']:>12.2f}"
              f"{r.get('torch_ms', float('nan')):>10.0f}"
              f"{ort if ort else float('nan'):>9.0f}{(r['gflop'] / (ort / 1e3)) if ort else float('nan'):>12.1f}"
              f"{max(r.get('ort_peak_mb', 0), r.get('torch_peak_mb', 0)):>9.0f}", flush=True)
    print("\n# Whole detection of one photo (load JPEG, predict, threshold, measure), Predictor, "
          "median ms")
    res = detection(h, w, args.threads, args.repeats, args.data)
    print(f"{'model':<11}{'washer crop':>12}{'backend':>13}{'load':>7}{'roi':>6}{'infer':>7}{'post':>6}{'total':>7}")
    for (name, crop), t in res.items():
        print(f"{name:<11}{'yes' if crop else 'no':>12}{t['backend']:>13}{t['load']:>7.0f}{t['roi']:>6.0f}"
              f"{t['infer']:>7.0f}{t['postprocess']:>6.0f}{t['total']:>7.0f}")
    print("\npaper (GTX1080): IU-Net 717 ms, U-Net 807 ms per 1280x1024 image")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
