"""iunet-gui calibrate: find the washer's outer circle and derive mm per pixel."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", help="a photo of a washer")
    p.add_argument("--outer-diameter-mm", type=float, required=True, help="the washer's nominal outer diameter")
    p.add_argument("--save", action="store_true", help="store mm_per_px in the folder's iunet_project.json")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args) -> int:
    from iunet_gui.cli._common import print_json
    from iunet_gui.core.calibration import find_washer
    from iunet_gui.core.errors import IunetError
    from iunet_gui.core.images import load_image
    from iunet_gui.core.project import Project

    if not args.outer_diameter_mm > 0:
        raise IunetError(f"--outer-diameter-mm must be positive, not {args.outer_diameter_mm}")
    img = load_image(args.image, mode="gray")
    c = find_washer(img)
    mm = args.outer_diameter_mm / (2 * c.r_outer)
    if args.save:
        proj = Project.open(Path(args.image).parent)
        if proj.settings_error:  # never replace a settings file we could not read
            raise IunetError(f"{proj.settings_error}; not saved (fix or remove the file, then run again)")
        proj.settings.mm_per_px = mm
        proj.settings.washer_outer_diameter_mm = args.outer_diameter_mm
        proj.save_settings()
    res = {"image": str(args.image), "center": [round(c.cx, 2), round(c.cy, 2)], "r_outer_px": round(c.r_outer, 2),
           "r_inner_px": None if c.r_inner is None else round(c.r_inner, 2), "mm_per_px": mm}
    if args.json:
        print_json(res)
    else:
        print(f"washer at ({c.cx:.1f}, {c.cy:.1f}), outer radius {c.r_outer:.1f} px"
              + (f", inner radius {c.r_inner:.1f} px" if c.r_inner else "")
              + f" -> {mm:.6g} mm/px" + (" (saved)" if args.save else ""))
    return 0
