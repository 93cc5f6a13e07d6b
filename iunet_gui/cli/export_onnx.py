"""iunet-gui export-onnx: a checkpoint as an ONNX model (BN folded, dynamic height and width)."""
from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", help="a .pt checkpoint")
    p.add_argument("--out", required=True, help="the .onnx file to write")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--check", action="store_true", help="compare ONNX Runtime with torch on a random image")
    p.add_argument("--project", metavar="DIR", help="register the checkpoint and its ONNX file in this project's "
                                                   "model registry (see 'iunet-gui models --project DIR')")


def run(args) -> int:
    from iunet_gui.inference.onnx_export import export_onnx
    from iunet_gui.models.checkpoint import load_checkpoint

    ckpt = load_checkpoint(args.checkpoint)
    path = export_onnx(ckpt, args.out, opset=args.opset)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB, {ckpt.arch})")
    if args.project:
        from iunet_gui.app.registry import ModelRegistry

        with ModelRegistry(args.project) as registry:
            entry = registry.register_onnx(registry.register(args.checkpoint).id, path)
        print(f"registered {entry.id}: {entry.name}")
    if args.check:
        import numpy as np

        from iunet_gui.inference.predictor import Predictor

        img = np.random.default_rng(0).integers(0, 255, (203, 317, 3), dtype=np.uint8)
        a = Predictor.from_path(args.checkpoint, backend="torch", crop_to_part=False).predict(img).prob
        b = Predictor.from_path(path, crop_to_part=False).predict(img).prob
        print(f"max |p_onnx - p_torch| = {float(np.abs(a - b).max()):.2e} on a 317x203 image")
    return 0
