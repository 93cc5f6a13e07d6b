"""Pooled defect IoU of trained checkpoints over a grid of thresholds, on each run's own validation
images (rebuilt from its config.json: the trainer's split, same seed and cap) and on a test folder.

The threshold a user can pick fairly is the validation-best one; the test column shows what it gives.
Beside the pixels, the defect level: labelled defects found and false alarms per image, and the
threshold the `threshold_rule=recall` setting picks on the validation images (the most defects found
at no more than --max-false-alarms per image). Prediction as `predict` runs it (the mean over the
image and its flips), whole images, no washer crop:

    python benchmarks/threshold_sweep.py RUN/best.pt [RUN2/best.pt ...] --test WORK/real_test
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from iunet_gui.core.metrics import confusion, pooled_iou_interval, scores
from iunet_gui.training.data import labelled_images, load_items, split_items
from iunet_gui.training.validation import defect_counts, pick_threshold

GRID = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7)


def probabilities(predictor, folder, names=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(probability map, ground-truth mask) of every labelled image of `folder` (only `names` if given)."""
    project, images = labelled_images(folder)
    return [(predictor.predict_path(img).prob, project.ground_truth_mask(img) > 0)
            for img in images if names is None or img.name in names]


def pooled_iou(rows, threshold: float) -> float:
    total = np.zeros(4, np.int64)
    for prob, gt in rows:
        total += confusion(prob > threshold, gt)
    return scores(*total)["iou_defect"]


def defect_level(rows, threshold: float) -> tuple[float, float]:
    """(labelled defects found / labelled, false alarms per image) at `threshold`."""
    counts = np.sum([defect_counts(prob > threshold, gt) for prob, gt in rows], axis=0)
    return counts[1] / max(counts[0], 1), counts[2] / max(len(rows), 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("--test", default=None, help="test folder (default: real_test beside the run folder, "
                                                 "the layout bench_training.py writes)")
    ap.add_argument("--grid", type=float, nargs="+", default=list(GRID))
    ap.add_argument("--max-false-alarms", type=float, default=0.1, help="per image, for the recall rule")
    args = ap.parse_args()

    from iunet_gui.inference.predictor import Predictor

    print("checkpoint: pooled defect IoU at each threshold; * = the validation-best threshold")
    for ck in map(Path, args.checkpoints):
        cfg = json.loads((ck.parent / "config.json").read_text())["train"]
        if cfg.get("val"):
            val_folder, names = cfg["val"], None
        else:
            _, val = split_items(load_items(cfg["data"]), cfg["val_fraction"], cfg["seed"], cfg["max_val_images"])
            val_folder, names = cfg["data"], {it.name for it in val}
        pred = Predictor.from_path(ck, crop_to_part=False)
        val_rows = probabilities(pred, val_folder, names)
        test_rows = probabilities(pred, args.test or ck.parents[1] / "real_test")
        v = [pooled_iou(val_rows, t) for t in args.grid]
        te = [pooled_iou(test_rows, t) for t in args.grid]
        k = int(np.argmax(v))
        lo, hi = pooled_iou_interval([dict(zip(("tp", "fp", "fn", "tn"), confusion(p > args.grid[k], g)))
                                      for p, g in test_rows])
        print(f"{ck} ({len(val_rows)} validation / {len(test_rows)} test images)")
        print("  threshold  " + " ".join(f"{t:>6g}{'*' if i == k else ' '}" for i, t in enumerate(args.grid)))
        print("  validation " + " ".join(f"{x:7.3f}" for x in v))
        print("  test       " + " ".join(f"{x:7.3f}" for x in te))
        print(f"  -> validation-best {args.grid[k]:g}: test {te[k]:.3f} (90 % interval over the test "
              f"images {lo:.3f}-{hi:.3f}; at 0.5: "
              f"{pooled_iou(test_rows, 0.5):.3f})", flush=True)
        dv = [defect_level(val_rows, t) for t in args.grid]
        dt = [defect_level(test_rows, t) for t in args.grid]
        for name, rows in (("val found", [r for r, _ in dv]), ("val FA/img", [f for _, f in dv]),
                           ("test found", [r for r, _ in dt]), ("test FA/img", [f for _, f in dt])):
            print(f"  {name:11}" + " ".join(f"{x:7.3f}" for x in rows))
        r = pick_threshold(v, [x for x, _ in dv], [f for _, f in dv], "recall", args.max_false_alarms)
        print(f"  -> recall rule (<= {args.max_false_alarms:g} false alarms per validation image) {args.grid[r]:g}: "
              f"test defect IoU {te[r]:.3f}, found {dt[r][0]:.1%}, {dt[r][1]:.2f} false alarms per image",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
