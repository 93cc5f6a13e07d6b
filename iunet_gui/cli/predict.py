"""iunet-gui predict: defect masks, probabilities and lengths for images."""
from __future__ import annotations

import argparse

from iunet_gui.cli._common import add_backend_argument


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="images or folders of images")
    p.add_argument("--checkpoint", required=True, help="a .pt checkpoint or an exported .onnx model")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--threshold", type=float, default=None, help="probability threshold (default: the model's, 0.5)")
    p.add_argument("--labelme", action="store_true", help="also write stem.json as labelme polygons (editable)")
    p.add_argument("--report", metavar="CSV", default=None,
                   help="also write one CSV row per defect: found / false alarm / missed where an image is labelled, "
                        "else predicted, with lengths and errors")
    p.add_argument("--mm-per-px", type=float, default=None, help="calibration (default: per image / project)")
    add_backend_argument(p)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--no-crop", action="store_true", help="run the whole image, not only the washer's box")
    p.add_argument("--merge-gap", type=float, default=None, metavar="PX",
                   help="predicted pieces closer than this are measured as one defect (default 8; 0 = each region)")
    p.add_argument("--chain-gap", type=float, default=None, metavar="PX",
                   help="with merging on, pieces of a line up to PX apart along it are one defect (default 80; "
                        "0 = only --merge-gap)")
    p.add_argument("--tile", type=int, default=None, metavar="PX",
                   help="predict in overlapping tiles of PX pixels (bounds memory for large networks)")
    p.add_argument("--no-tta", dest="tta", action="store_false",
                   help="run the network once per image, not over the image and its three flips (2x faster, "
                        "about 1 MIoU point lower)")


def run(args) -> int:
    import time

    from iunet_gui.app.inspect import collect_images, inspect_images, save_report
    from iunet_gui.app.output import check_output_folder
    from iunet_gui.app.settings import open_predictor
    from iunet_gui.cli._common import EXIT_STOPPED, ProgressLine, ctrl_c_cancels, inspect_settings
    from iunet_gui.core.progress import Cancelled, CancelToken

    settings = inspect_settings(args)
    images = collect_images(args.inputs)
    check_output_folder(args.out, images)
    pred = open_predictor(args.checkpoint, settings)
    if pred.notice:
        print(f"notice: {pred.notice}")
    bar = ProgressLine("predict")

    def report(ev) -> None:
        item = ev.result
        if item is not None:
            res = item.prediction
            print(f"{item.image.name}: {len(res.defects)} defect(s)"
                  + "".join(f"  [{d.length_mm:.2f} mm]" if d.length_mm else f"  [{d.length_px:.1f} px]"
                            for d in res.defects[:8]) + f"  ({res.timing_ms['total']:.0f} ms)")
        bar(ev)

    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    token = CancelToken()
    try:
        with ctrl_c_cancels(token, "stopping after this image; the files written so far are kept"):
            run = inspect_images(pred, images, settings, score=args.report is not None, out=args.out,
                                 labelme=args.labelme, progress=report, cancel=token)
    except Cancelled as stop:
        run = stop.partial
    if args.report:
        save_report(args.report, run, {"model": str(args.checkpoint), "threshold": round(pred.threshold, 4),
                                       "folder": "; ".join(args.inputs), "created": started})
        print(f"report: {len(run.rows)} row(s) in {args.report}")
    for line in run.failures:
        print(f"skipped: {line}")
    for line in run.unsaved:
        print(f"not saved: {line}")
    times = run.times_ms
    if times:
        print(f"{len(times)} image(s) in {sum(times) / 1e3:.1f} s, median {sorted(times)[len(times) // 2]:.0f} ms/image "
              f"({pred.backend}); results in {run.out}")
    if run.cancelled:
        print(f"stopped: {run.predicted} of {run.images} image(s) predicted")
        return EXIT_STOPPED
    return 0 if not (run.failures or run.unsaved) else 2
