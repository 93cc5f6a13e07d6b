"""iunet-gui evaluate: score predicted masks against ground truth (the paper's Tables 3 and 4)."""
from __future__ import annotations

import argparse

from iunet_gui.cli._common import add_backend_argument


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
    add_backend_argument(p, "inference backend (with a checkpoint; auto = ONNX Runtime on the CPU when installed)")
    p.add_argument("--iou-threshold", "--threshold-iou", dest="iou_threshold", type=float, default=0.5,
                   help="an image counts as accurately segmented when its defect IoU reaches this (default 0.5)")
    p.add_argument("--tolerance", type=float, default=2.0, metavar="PX",
                   help="thin-defect scores: a predicted pixel is right, and a labelled one found, when the other "
                        "lies within PX (precision, recall and F1 as crack detection is scored; default 2)")
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


def print_report(records, summary, title: str = "") -> None:
    from iunet_gui.cli._common import print_table

    unit = summary.get("length_unit") or "mm"
    if records:
        print_table(["image", "IoU defect", "IoU bg", "MIoU", "pixel acc", "Dice", "accurate", "defects gt/pred",
                     "found", "false alarms", f"len err max ({unit})"],
                    [[r["name"], r["iou_defect"], r["iou_background"], r["miou"], r["pixel_accuracy"], r["dice"],
                      r["accurate"], f"{r['defects_gt']}/{r['defects_pred']}",
                      f"{r['defects_found']}/{r['defects_labelled']}", r["false_alarms"], r["length_error_max"]]
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
    print_defect_figures(s)
    if s.get("kinds"):
        print_kind_figures(s)


def _share(found: int, labelled: int) -> str:
    return f"{found} of {labelled}" + (f" ({100 * found / labelled:.1f} %)" if labelled else "")


def print_defect_figures(s: dict) -> None:
    """The defect-level lines (core.detection): labelled defects found, per visibility and kind,
    false alarms per image, and the thin-defect tolerance scores."""
    line = f"  labelled defects found: {_share(s['defects_found'], s['defects_labelled'])}"
    if s["defects_visible"] or s["defects_faint"]:
        line += (f"; plainly visible (|contrast| >= {s['visible_contrast']:g} grey levels) "
                 f"{_share(s['found_visible'], s['defects_visible'])}, faint {_share(s['found_faint'], s['defects_faint'])}")
    print(line)
    if s["defects_visible"]:
        print(f"  plainly visible bright {_share(s['found_visible_bright'], s['defects_visible_bright'])}, "
              f"dark {_share(s['found_visible_dark'], s['defects_visible_dark'])}")
    if s["defect_kinds"]:
        print("  per kind: " + ", ".join(f"{kind} {_share(v['found'], v['labelled'])}"
                                         for kind, v in s["defect_kinds"].items()))
    per_image = s["false_alarms_per_image"]
    print(f"  false alarms: {s['false_alarms']}" + (f" ({per_image:.2f} per image)" if per_image is not None else "")
          + f"   within {s['tolerance_px']:g} px: precision {s['tolerance_precision']:.4f}, recall "
            f"{s['tolerance_recall']:.4f}, F1 {s['tolerance_f1']:.4f}")


def print_kind_figures(s: dict) -> None:
    """A multi-class model's figures per kind (core.kinds): pixel IoU, labelled defects found, false
    alarms and length error of each kind, the MIoU over all classes, and the confusion matrix of
    kinds over matched defects (rows: labelled kind, columns: predicted kind)."""
    from iunet_gui.cli._common import print_table

    unit = s.get("length_unit") or "px"
    accuracy = s["kind_accuracy"]
    print(f"  per kind: MIoU over background and {len(s['kinds'])} kinds {s['kind_miou']:.4f}; matched defects of "
          f"the right kind {'-' if accuracy is None else f'{100 * accuracy:.1f} %'}")
    print_table(["kind", "IoU", "found", "false alarms", f"length error mean ({unit})"],
                [[name, v["iou"], _share(v["found"], v["labelled"]), v["false_alarms"], v["length_error_mean"]]
                 for name, v in s["kinds"].items()])
    labels = s["kind_confusion"]["labels"]
    print("  kinds of matched defects (rows labelled, columns predicted):")
    print_table(["labelled \\ predicted", *labels[1:]],
                [[label, *row[1:]] for label, row in zip(labels[1:], s["kind_confusion"]["matrix"][1:])])


def print_comparison(results) -> None:
    """The paper's Table 3 (accuracy, MIoU, defect IoU, pixel accuracy) and Table 4 (max / mean length
    error) side by side, with the share of labelled defects found and the false alarms per image
    (app.compare.comparison_table: the window's comparison view shows the same figures)."""
    from iunet_gui.app.compare import comparison_table
    from iunet_gui.cli._common import print_table

    print_table(*comparison_table(results))


def run(args) -> int:
    from iunet_gui.cli._common import EXIT_STOPPED, ctrl_c_cancels
    from iunet_gui.core.progress import Cancelled, CancelToken

    token = CancelToken()
    try:
        with ctrl_c_cancels(token, "stopping after this image"):
            return _run(args, token)
    except Cancelled as stop:
        done = stop.partial.predicted if stop.partial is not None else 0
        print(f"stopped after {done} image(s) of the model being scored: no figures")
        return EXIT_STOPPED


def _run(args, cancel) -> int:
    from iunet_gui.app.evaluate import compare_models, evaluate_dirs, evaluate_model
    from iunet_gui.cli._common import ProgressLine, inspect_settings, print_json
    from iunet_gui.core.errors import IunetError

    settings = inspect_settings(args)
    if args.compare:
        if not args.data:
            raise IunetError("--compare needs --data DIR (labelled images to score on)")
        results = compare_models(args.compare, args.data, settings, progress=ProgressLine("evaluate"), cancel=cancel)
        if args.json:
            print_json([{"model": n, **s} for n, s in results])
        else:
            print_comparison(results)
        return 0
    missing = []
    if args.checkpoint:
        if not args.data:
            raise IunetError("--checkpoint needs --data DIR (labelled images to score on)")
        records, summary = evaluate_model(args.checkpoint, args.data, settings, progress=ProgressLine("evaluate"),
                                          cancel=cancel)
    else:
        if not (args.pred and args.gt):
            raise IunetError("give --pred DIR and --gt DIR, or --checkpoint CKPT --data DIR, or --compare ... --data DIR")
        records, summary, missing = evaluate_dirs(args.pred, args.gt, settings)
    if args.json:
        print_json({"images": records, "summary": summary, "missing_ground_truth": missing})
    else:
        print_report(records, summary)
        if missing:
            print(f"  no ground truth for {len(missing)} prediction(s): {', '.join(missing[:10])}")
    return 0
