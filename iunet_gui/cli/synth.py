"""iunet-gui synth: render synthetic washer photos with labelme ground truth."""
from __future__ import annotations

import argparse
import time


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument("--count", type=int, default=12, help="number of images (default 12)")
    p.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same files")
    p.add_argument("--defect-free-ratio", type=float, default=0.2,
                   help="share of images without defects (default 0.2)")
    p.add_argument("--prefix", default="washer", help="file name prefix (default 'washer')")
    p.add_argument("--quality", type=int, default=92, help="JPEG quality (default 92)")


def run(args) -> int:
    from iunet_gui.cli._common import ProgressLine
    from iunet_gui.core.errors import IunetError
    from iunet_gui.core.synth import generate_dataset

    if args.count < 1:
        raise IunetError(f"--count must be at least 1, not {args.count}")
    if not 0.0 <= args.defect_free_ratio <= 1.0:
        raise IunetError(f"--defect-free-ratio must be between 0 and 1, not {args.defect_free_ratio}")
    if not 1 <= args.quality <= 100:
        raise IunetError(f"--quality must be between 1 and 100, not {args.quality}")
    t0 = time.perf_counter()
    paths = generate_dataset(args.out, args.count, args.seed, args.defect_free_ratio,
                             progress=ProgressLine("synth"), prefix=args.prefix, quality=args.quality)
    dt = time.perf_counter() - t0
    print(f"wrote {len(paths)} images with labelme JSON to {args.out} in {dt:.1f} s ({dt / len(paths):.2f} s/image)")
    return 0
