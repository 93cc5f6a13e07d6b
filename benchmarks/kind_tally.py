"""Where a checkpoint's pooled defect IoU is won and lost, kind by kind: over the test images of each
kind (the part of the file name before "__", as bench_training.py names the magnetic tiles), the
defect pixels found (tp), the false ones (fp), the missed ones (fn), the kind's own pooled IoU, and
what the pooled figure over all test images would be were that kind segmented perfectly.

    python benchmarks/kind_tally.py RUN/best.pt [--test WORK/real_test] [--threshold T]

Prediction as `predict` runs it (the mean over the image and its flips), whole images, no washer crop;
the threshold is the checkpoint's own unless given.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from iunet_gui.core.metrics import confusion


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("--test", type=Path, default=None, help="test folder (default: real_test beside the run folder)")
    ap.add_argument("--threshold", type=float, default=None)
    args = ap.parse_args()

    from iunet_gui.inference.predictor import Predictor
    from iunet_gui.training.data import labelled_images

    pred = Predictor.from_path(args.checkpoint, crop_to_part=False, threshold=args.threshold)
    project, images = labelled_images(args.test or args.checkpoint.parents[1] / "real_test")
    tally: dict[str, np.ndarray] = {}
    for img in images:
        tp, fp, fn, _ = confusion(pred.predict_path(img).mask, project.ground_truth_mask(img) > 0)
        kind = img.name.split("__")[0] if "__" in img.name else "(all)"
        tally[kind] = tally.get(kind, 0) + np.array((tp, fp, fn), np.int64)
    total = sum(tally.values())
    print(f"{args.checkpoint}, threshold {pred.threshold:g}: pooled defect IoU {total[0] / max(total.sum(), 1):.3f} "
          f"on {len(images)} images")
    print(f"  {'kind':<14}{'found':>9}{'false':>9}{'missed':>9}  kind's IoU  pooled IoU were it perfect")
    for kind, (tp, fp, fn) in sorted(tally.items()):
        rest = total - (tp, fp, fn)
        perfect = (rest[0] + tp + fn) / max(rest.sum() + tp + fn, 1)
        print(f"  {kind:<14}{tp:>9}{fp:>9}{fn:>9}  {tp / max(tp + fp + fn, 1):>10.3f}  {perfect:>10.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
