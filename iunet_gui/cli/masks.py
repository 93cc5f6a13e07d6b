"""iunet-gui masks: labelme JSON -> binary mask PNG (255 = defect)."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="ANNOTATION_OR_DIR", help="a labelme JSON file or a folder of them")
    p.add_argument("--out", required=True, help="output folder for stem.png masks")
    p.add_argument("--labels", nargs="+", default=None, metavar="LABEL",
                   help="only these classes count as defect (default: all)")


def run(args) -> int:
    from iunet_gui.core.annotation import Annotation
    from iunet_gui.core.errors import IunetError
    from iunet_gui.core.geometry import shapes_to_mask
    from iunet_gui.core.images import image_size, save_mask

    src = Path(args.source)
    if src.is_dir():
        files = sorted(p for p in src.glob("*.json") if not p.name.startswith(".") and p.name != "iunet_project.json")
        if not files:
            raise IunetError(f"{src}: no labelme JSON files in this folder")
    elif src.exists():
        files = [src]
    else:
        raise IunetError(f"{src}: no such file or folder")
    out = Path(args.out)
    failed: list[str] = []
    for f in files:
        try:
            ann = Annotation.load(f)
            for w in ann.warnings:
                print(f"warning: {w}")
            w, h = ann.image_width, ann.image_height
            img = f.parent / ann.image_path if ann.image_path else None
            if not (w and h):
                if img is None or not img.is_file():
                    raise IunetError(f"{f}: no imageWidth/imageHeight and the image is not found")
                w, h = image_size(img)
            target = out / f"{f.stem}.png"
            if img is not None and target.exists() and img.exists() and target.resolve() == img.resolve():
                raise IunetError(f"{f}: the mask would overwrite its own image {img}; choose another --out")
            mask = shapes_to_mask(ann.shapes, (h, w), args.labels)
            save_mask(target, mask)
        except IunetError as exc:
            if len(files) == 1:
                raise
            failed.append(str(exc))
            print(f"skipped: {exc}")
            continue
        print(f"{target}: {int(mask.sum())} defect pixels, {len(ann.shapes)} shapes")
    if failed:
        raise IunetError(f"{len(failed)} of {len(files)} annotations could not be converted (first: {failed[0]})")
    return 0
