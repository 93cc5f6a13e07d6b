"""iunet-gui measure: every defect's minimum rotated rectangle, in px and mm."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="MASK_OR_JSON", help="a mask image (>= 128 is defect) or a labelme JSON")
    p.add_argument("--mm-per-px", type=float, default=None,
                   help="calibration; default: the JSON's mm_per_px, else the project settings beside the file")
    p.add_argument("--min-area", type=int, default=1, help="ignore mask regions smaller than this (px)")
    p.add_argument("--merge-gap", type=float, default=0.0, metavar="PX",
                   help="mask regions closer than this are one defect (predict uses 8; default 0: each region)")
    p.add_argument("--json", action="store_true", help='print {"mm_per_px": F, "defects": [...]}')


def measure_source(path: Path, mm_per_px: float | None, min_area: int = 1, merge_gap_px: float = 0.0):
    """Defects of a mask image (one per region) or a labelme JSON (one per shape)."""
    from iunet_gui.core.annotation import Annotation
    from iunet_gui.core.images import read_mask
    from iunet_gui.core.measure import measure_mask, measure_shape
    from iunet_gui.core.project import Project

    warnings: list[str] = []
    if path.suffix.lower() == ".json":
        ann = Annotation.load(path)
        warnings = ann.warnings
        if mm_per_px is None:
            mm_per_px = ann.mm_per_px
        if mm_per_px is None:
            mm_per_px = Project.open(path.parent).settings.mm_per_px
        defects = []
        for s in ann.shapes:
            if s.is_degenerate or not s.points:
                continue
            if s.shape_type == "mask":  # a pixel mask inside its box: measure its pixels
                from iunet_gui.core.geometry import shape_to_mask

                h = ann.image_height or int(max(p[1] for p in s.points)) + 2
                w = ann.image_width or int(max(p[0] for p in s.points)) + 2
                m = shape_to_mask(s.points, "mask", (h, w), s.mask)
                for d in measure_mask(m, mm_per_px):
                    d.label = s.label
                    defects.append(d)
            else:
                defects.append(measure_shape(s, mm_per_px))
    else:
        if mm_per_px is None:
            mm_per_px = _sibling_mm_per_px(path)
        if mm_per_px is None and path.parent.is_dir():
            mm_per_px = Project.open(path.parent).settings.mm_per_px
        defects = measure_mask(read_mask(path), mm_per_px, min_area_px=min_area, merge_gap_px=merge_gap_px)
    return mm_per_px, defects, warnings


def _sibling_mm_per_px(mask_path: Path) -> float | None:
    """"mm_per_px" of the JSON beside a mask (a labelme sidecar or a predict report), if usable."""
    import json

    side = mask_path.with_suffix(".json")
    try:
        v = json.loads(side.read_text(encoding="utf-8")).get("mm_per_px") if side.is_file() else None
    except (OSError, ValueError, AttributeError):
        return None
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 1e12 else None


def run(args) -> int:
    from iunet_gui.cli._common import print_json, print_table
    from iunet_gui.core.errors import IunetError

    path = Path(args.source)
    if not path.exists():
        raise IunetError(f"{path}: no such file")
    if args.mm_per_px is not None and not args.mm_per_px > 0:
        raise IunetError(f"--mm-per-px must be a positive number, not {args.mm_per_px}")
    if args.merge_gap < 0:
        raise IunetError(f"--merge-gap must be >= 0, not {args.merge_gap}")
    mm, defects, warnings = measure_source(path, args.mm_per_px, args.min_area, args.merge_gap)
    if args.json:
        print_json({"source": str(path), "mm_per_px": mm, "defects": [d.to_dict() for d in defects],
                    "warnings": warnings})
        return 0
    for w in warnings:
        print(f"warning: {w}")
    print(f"{path}: {len(defects)} defect(s), " + (f"{mm:.6g} mm/px" if mm else "uncalibrated (px only)"))
    rows = [[i + 1, d.label or "", d.length_px, d.width_px, d.length_mm, d.width_mm, d.angle_deg, d.area_px,
             f"({d.centroid[0]:.1f}, {d.centroid[1]:.1f})"] for i, d in enumerate(defects)]
    if rows:
        print_table(["#", "label", "length_px", "width_px", "length_mm", "width_mm", "angle_deg", "area_px",
                     "centroid"], rows)
    return 0
