"""iunet-gui inspect: the QA station headless. Predict, measure, judge each part by the project's
specification, log it to the project's inspection log, write the reports; one line per part."""
from __future__ import annotations

import argparse
from pathlib import Path

from iunet_gui.cli._common import add_backend_argument

EXIT_NG = 3  # --fail-on-ng and a part is NG


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="FOLDER_OR_IMAGES", help="a project folder or image files")
    p.add_argument("--model", required=True, metavar="CKPT", help="a .pt checkpoint or an exported .onnx model")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="write each part's prediction files and the reports here "
                        "(default: reports in PROJECT/iunet_reports, no prediction files)")
    p.add_argument("--report", default=None, metavar="KINDS", help="reports to write: html,pdf,csv (any of them)")
    p.add_argument("--fail-on-ng", action="store_true", help=f"exit {EXIT_NG} when a part is NG")
    p.add_argument("--project", default=None, metavar="DIR",
                   help="the project whose specification judges and whose log records "
                        "(default: the folder given, or the first image's folder)")
    p.add_argument("--threshold", type=float, default=None, help="probability threshold (default: the model's)")
    p.add_argument("--mm-per-px", type=float, default=None, help="calibration (default: per image / project)")
    add_backend_argument(p)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None,
                   help="network threads per image (default 1: the images run side by side, one per core)")
    p.add_argument("--no-tta", dest="tta", action="store_false",
                   help="run the network once per image, not over the image and its three flips (2x faster)")


def run(args) -> int:
    import time

    from iunet_gui.app.inspect import collect_images, inspect_images
    from iunet_gui.app.pipeline import NETWORK_THREADS
    from iunet_gui.app.records import InspectionLog
    from iunet_gui.app.reports import parse_kinds
    from iunet_gui.app.reports.thumbs import small_mask
    from iunet_gui.app.settings import open_predictor
    from iunet_gui.cli._common import EXIT_STOPPED, ctrl_c_cancels, inspect_settings
    from iunet_gui.core.progress import Cancelled, CancelToken
    from iunet_gui.core.project import Project

    kinds = parse_kinds(args.report) if args.report else []
    if args.threads is None:  # the pipeline runs images side by side, each on one thread
        args.threads = NETWORK_THREADS
    settings = inspect_settings(args)
    images = collect_images(args.inputs)
    first = Path(args.inputs[0])
    project = Project.open(Path(args.project) if args.project else first if first.is_dir() else first.parent)
    spec = project.specification  # a nonsense one stops here, before any work (exit 2)
    predictor = open_predictor(args.model, settings)
    if predictor.notice:
        print(f"notice: {predictor.notice}")
    masks: dict[str, object] = {}

    def line(ev) -> None:
        item = ev.result
        if item is None:
            return
        v = item.verdict
        print(f"{item.image.name} {v.status}" + (f" {'; '.join(v.reasons)}" if v.reasons else ""), flush=True)
        if kinds:
            masks[str(Path(item.image).resolve())] = small_mask(item.prediction.mask)

    token = CancelToken()
    started = time.perf_counter()
    with InspectionLog(project.folder) as log:
        try:
            with ctrl_c_cancels(token, "stopping after this part; what was inspected is logged"):
                result = inspect_images(predictor, images, settings, project=project,
                                        out=args.out, spec=spec, log=log, model_id=str(args.model),
                                        pipeline=True, progress=line, cancel=token)
        except Cancelled as stop:
            result = stop.partial
        seconds = time.perf_counter() - started
        for failure in result.failures:
            print(f"skipped: {failure}")
        counts = ", ".join(f"{result.verdicts.get(s, 0)} {s}" for s in ("OK", "NG", "check", "uncalibrated"))
        print(f"{result.predicted} part(s): {counts} ({result.predicted / max(seconds, 1e-9):.1f} parts/s); "
              f"log: {log.path}")
        if kinds:
            from iunet_gui.app.reports import write_reports
            from iunet_gui.cli.qt_pdf import qt_pdf

            out = Path(args.out) if args.out else project.folder / "iunet_reports"
            written = write_reports(log, out, kinds, folder=str(project.folder), masks=masks, pdf_fallback=qt_pdf)
            print("reports: " + ", ".join(str(p) for p in written.values()))
    if result.cancelled:
        return EXIT_STOPPED
    if args.fail_on_ng and result.verdicts.get("NG"):
        return EXIT_NG
    return 2 if result.failures else 0
