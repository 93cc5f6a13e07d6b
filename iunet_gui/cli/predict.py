"""iunet-gui predict: defect masks, probabilities and lengths for images."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="images or folders of images")
    p.add_argument("--checkpoint", required=True, help="a .pt checkpoint or an exported .onnx model")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--threshold", type=float, default=None, help="probability threshold (default: the model's, 0.5)")
    p.add_argument("--labelme", action="store_true", help="also write stem.json as labelme polygons (editable)")
    p.add_argument("--mm-per-px", type=float, default=None, help="calibration (default: per image / project)")
    p.add_argument("--backend", default="auto", choices=["auto", "torch", "onnx"])
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


def collect_images(inputs) -> list[Path]:
    from iunet_gui.core.errors import IunetError
    from iunet_gui.core.images import is_image_file
    from iunet_gui.core.project import Project

    out = []
    for raw in inputs:
        p = Path(raw)
        if p.is_dir():
            proj = Project.open(p)
            out.extend(proj.images)
        elif p.exists():
            if not is_image_file(p):
                raise IunetError(f"{p}: not an image file")
            out.append(p)
        else:
            raise IunetError(f"{p}: no such file or folder")
    if not out:
        raise IunetError("no images to predict")
    return out


def run(args) -> int:
    from iunet_gui.cli._common import ProgressLine
    from iunet_gui.core.errors import IunetError
    from iunet_gui.core.project import Project
    from iunet_gui.inference.predictor import Predictor, check_output_folder, save_prediction

    if args.threshold is not None and not 0 < args.threshold < 1:
        raise IunetError("--threshold must be between 0 and 1")
    images = collect_images(args.inputs)
    check_output_folder(args.out, images)
    pred = Predictor.from_path(args.checkpoint, backend=args.backend, device=args.device, threads=args.threads,
                               threshold=args.threshold, crop_to_part=not args.no_crop)
    if args.merge_gap is not None:
        if args.merge_gap < 0:
            raise IunetError("--merge-gap must be >= 0")
        pred.merge_gap_px = args.merge_gap
    if args.chain_gap is not None:
        if args.chain_gap < 0:
            raise IunetError("--chain-gap must be >= 0")
        pred.chain_gap_px = args.chain_gap
    pred.tile = args.tile
    pred.tta = args.tta
    if pred.notice:
        print(f"notice: {pred.notice}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    projects: dict[Path, Project] = {}

    def mm_for(img: Path):
        if args.mm_per_px:
            return args.mm_per_px
        proj = projects.setdefault(img.parent, Project.open(img.parent))
        return proj.mm_per_px_for(img)

    failures, times = 0, []
    for img, res in pred.predict_many(images, mm_per_px=mm_for, progress=ProgressLine("predict")):
        if isinstance(res, str):
            failures += 1
            print(f"skipped: {res}")
            continue
        times.append(res.timing_ms["total"])
        save_prediction(out, img, res, pred, mm_for(img), labelme=args.labelme)
        print(f"{img.name}: {len(res.defects)} defect(s)"
              + "".join(f"  [{d.length_mm:.2f} mm]" if d.length_mm else f"  [{d.length_px:.1f} px]"
                        for d in res.defects[:8]) + f"  ({res.timing_ms['total']:.0f} ms)")
    if times:
        print(f"{len(times)} image(s) in {sum(times) / 1e3:.1f} s, median {sorted(times)[len(times) // 2]:.0f} ms/image "
              f"({pred.backend}); results in {out}")
    return 0 if not failures else 2

