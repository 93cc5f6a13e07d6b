"""iunet-gui evaluate: score predicted masks against ground truth (the paper's Tables 3 and 4)."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pred", help="folder of predicted mask PNGs (stem.png, 255 = defect)")
    p.add_argument("--gt", help="ground truth: folder of mask PNGs, labelme JSON, or image+mask pairs")
    p.add_argument("--checkpoint", help="predict with this checkpoint (or .onnx) on --data, then score")
    p.add_argument("--compare", nargs="+", metavar="CKPT", help="score several models on --data side by side")
    p.add_argument("--data", help="labelled project or image+mask folder (with --checkpoint/--compare)")
    p.add_argument("--threshold", type=float, default=None,
                   help="probability threshold (with a checkpoint; default: the one stored in the checkpoint)")
    p.add_argument("--no-crop", action="store_true",
                   help="predict the whole photo instead of only the washer's ring (with a checkpoint)")
    p.add_argument("--backend", choices=["auto", "onnxruntime", "torch"], default="auto",
                   help="inference backend (with a checkpoint; auto = ONNX Runtime when installed)")
    p.add_argument("--iou-threshold", "--threshold-iou", dest="iou_threshold", type=float, default=0.5,
                   help="an image counts as accurately segmented when its defect IoU reaches this (default 0.5)")
    p.add_argument("--mm-per-px", type=float, default=None, help="calibration for length errors (default: per image)")
    p.add_argument("--merge-gap", type=float, default=None, metavar="PX",
                   help="predicted pieces closer than this are one defect when lengths are compared "
                        "(default 8, as the app measures; 0 = every connected region on its own)")
    p.add_argument("--chain-gap", type=float, default=None, metavar="PX",
                   help="with merging on, pieces of a line up to PX apart along it are one defect (default 80; "
                        "0 = only --merge-gap)")
    p.add_argument("--no-tta", dest="tta", action="store_false",
                   help="with a checkpoint: one pass of the network per image instead of the mean over the image "
                        "and its three flips (predict's default as well)")
    p.add_argument("--json", action="store_true", help="print per-image records and the summary as JSON")


def evaluate_dirs(pred_dir, gt_dir, iou_threshold: float = 0.5, mm_per_px: float | None = None,
                  merge_gap_px: float | None = None, chain_gap_px: float | None = None):
    """Score every predicted mask `stem.png` in pred_dir against the ground truth of that stem.

    Ground truth per stem: a labelme `stem.json` (rasterised the labelme way), a mask
    `stem.png`, or an image+mask pair folder. Returns (records, summary, missing stems).
    """
    from iunet_gui.core.annotation import Annotation
    from iunet_gui.core.errors import IunetError
    from iunet_gui.core.geometry import shapes_to_mask
    from iunet_gui.core.images import read_mask
    from iunet_gui.core.metrics import Evaluator
    from iunet_gui.core.project import Project

    pred_dir, gt_dir = Path(pred_dir), Path(gt_dir)
    for d in (pred_dir, gt_dir):
        if not d.is_dir():
            raise IunetError(f"{d}: not a folder")
    preds = {p.stem: p for p in sorted(pred_dir.glob("*.png")) if not p.stem.endswith("_prob")}
    if not preds:
        raise IunetError(f"{pred_dir}: no predicted mask PNGs")
    project = Project.open(gt_dir)
    pair_masks = {img.stem: m for img, m in project.masks.items()}
    # A folder with labelme sidecars is a labelled project: its PNGs without a sidecar are
    # unlabelled photos, not masks. A folder without any JSON holds ground-truth mask PNGs.
    labelme_project = any(p.name != "iunet_project.json" for p in gt_dir.glob("*.json"))
    from iunet_gui.core.measure import DEFAULT_MERGE_GAP_PX

    ev = Evaluator(iou_threshold=iou_threshold,
                   merge_gap_px=DEFAULT_MERGE_GAP_PX if merge_gap_px is None else merge_gap_px,
                   chain_gap_px=chain_gap_px)
    missing = []
    for stem, pred_path in preds.items():
        pred = read_mask(pred_path)
        mm = mm_per_px
        if (gt_dir / f"{stem}.json").exists():
            ann = Annotation.load(gt_dir / f"{stem}.json")
            h, w = ann.image_height or pred.shape[0], ann.image_width or pred.shape[1]
            gt = shapes_to_mask(ann.shapes, (h, w))
            mm = mm or ann.mm_per_px or project.settings.mm_per_px
        elif stem in pair_masks:
            gt = read_mask(pair_masks[stem])
        elif (gt_dir / f"{stem}.png").exists() and not labelme_project:
            gt = read_mask(gt_dir / f"{stem}.png")
        else:
            missing.append(stem)
            continue
        mm = mm or project.settings.mm_per_px
        if gt.shape != pred.shape:
            raise IunetError(f"{pred_path}: size {pred.shape[1]}x{pred.shape[0]} differs from its ground truth "
                             f"{gt.shape[1]}x{gt.shape[0]}")
        ev.add(stem, pred, gt, mm)
    if not ev.records:
        raise IunetError(f"no predicted mask in {pred_dir} has a ground truth in {gt_dir}")
    return ev.records, ev.summary(), missing


def print_report(records, summary, title: str = "") -> None:
    from iunet_gui.cli._common import print_table

    unit = summary.get("length_unit") or "mm"
    if records:
        print_table(["image", "IoU defect", "IoU bg", "MIoU", "pixel acc", "Dice", "accurate", "defects gt/pred",
                     f"len err max ({unit})"],
                    [[r["name"], r["iou_defect"], r["iou_background"], r["miou"], r["pixel_accuracy"], r["dice"],
                      r["accurate"], f"{r['defects_gt']}/{r['defects_pred']}", r["length_error_max"]]
                     for r in records])
        print()
    s = summary
    print((title + ": " if title else "") + f"{s['images']} images")
    print(f"  IoU defect {s['iou_defect']:.4f}   IoU background {s['iou_background']:.4f}   MIoU {s['miou']:.4f}")
    print(f"  pixel accuracy {s['pixel_accuracy']:.4f}   Dice {s['dice']:.4f}   "
          f"accuracy (defect IoU >= {s['accuracy_iou_threshold']}) {s['accuracy']:.4f}")
    if s["length_error_max"] is not None:
        px_only = s.get("matched_defects_uncalibrated", 0) if unit == "mm" else 0
        print(f"  length error over {s['matched_defects'] - px_only} matched defects: max {s['length_error_max']:.3f} "
              f"{unit}, mean {s['length_error_mean']:.3f} {unit}   (defects gt {s['defects_gt']}, predicted "
              f"{s['defects_pred']})")
        if px_only:
            print(f"  {px_only} more matched defects on uncalibrated images: max {s['length_error_max_px']:.2f} px, "
                  f"mean {s['length_error_mean_px']:.2f} px")
    else:
        print(f"  no matched defects (gt {s['defects_gt']}, predicted {s['defects_pred']})")


def print_comparison(results) -> None:
    """The paper's Table 3 (accuracy, MIoU) and Table 4 (max / mean length error) side by side."""
    from iunet_gui.cli._common import print_table

    print_table(["model", "Accuracy %", "MIoU %", "IoU defect %", "Max error (mm)", "Average error (mm)"],
                [[name, 100 * s["accuracy"], 100 * s["miou"], 100 * s["iou_defect"], s["length_error_max"],
                  s["length_error_mean"]] for name, s in results])


def run(args) -> int:
    from iunet_gui.cli._common import ProgressLine, print_json
    from iunet_gui.core.errors import IunetError

    if not 0 <= args.iou_threshold <= 1:
        raise IunetError("--iou-threshold must be between 0 and 1")
    if args.merge_gap is not None and args.merge_gap < 0:
        raise IunetError("--merge-gap must be >= 0")
    if args.chain_gap is not None and args.chain_gap < 0:
        raise IunetError("--chain-gap must be >= 0")
    if args.threshold is not None and not 0 < args.threshold < 1:
        raise IunetError("--threshold must be between 0 and 1 (exclusive)")
    if args.compare:
        if not args.data:
            raise IunetError("--compare needs --data DIR (labelled images to score on)")
        from iunet_gui.training.evaluation import compare_checkpoints

        results = compare_checkpoints(args.compare, args.data, threshold=args.threshold,
                                      progress=ProgressLine("evaluate"), backend=args.backend,
                                      crop_to_part=not args.no_crop, iou_threshold=args.iou_threshold,
                                      merge_gap_px=args.merge_gap, tta=args.tta,
                                      chain_gap_px=args.chain_gap)
        if args.json:
            print_json([{"model": n, **s} for n, s in results])
        else:
            print_comparison(results)
        return 0
    if args.checkpoint:
        if not args.data:
            raise IunetError("--checkpoint needs --data DIR (labelled images to score on)")
        from iunet_gui.training.evaluation import evaluate_checkpoint

        records, summary = evaluate_checkpoint(args.checkpoint, args.data, threshold=args.threshold,
                                               progress=ProgressLine("evaluate"), backend=args.backend,
                                               iou_threshold=args.iou_threshold, crop_to_part=not args.no_crop,
                                               merge_gap_px=args.merge_gap, tta=args.tta,
                                               chain_gap_px=args.chain_gap)
        missing = []
    else:
        if not (args.pred and args.gt):
            raise IunetError("give --pred DIR and --gt DIR, or --checkpoint CKPT --data DIR, or --compare ... --data DIR")
        records, summary, missing = evaluate_dirs(args.pred, args.gt, args.iou_threshold, args.mm_per_px,
                                                  args.merge_gap, args.chain_gap)
    if args.json:
        print_json({"images": records, "summary": summary, "missing_ground_truth": missing})
    else:
        print_report(records, summary)
        if missing:
            print(f"  no ground truth for {len(missing)} prediction(s): {', '.join(missing[:10])}")
    return 0
