"""iunet-gui models: every registered network, its presets, parameters and GFLOP."""
from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--size", default="1280x1024", help="image size for GFLOP (WxH, default 1280x1024)")


def run(args) -> int:
    from iunet_gui.cli._common import print_json, print_table
    from iunet_gui.core.errors import IunetError
    from iunet_gui.models.registry import DESCRIPTIONS, PRESETS, build_preset, count_parameters, gflop

    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise IunetError(f"--size must look like 1280x1024, not {args.size!r}") from None
    rows = []
    for name, presets in PRESETS.items():
        for preset in presets:
            model, cfg = build_preset(name, preset)
            rows.append({"model": name, "preset": preset, "parameters": count_parameters(model),
                         "gflop": round(gflop(model, h, w), 2), "config": cfg, "description": DESCRIPTIONS[name]})
    if args.json:
        print_json(rows)
        return 0
    print_table(["model", "preset", "parameters", f"GFLOP @{w}x{h}"],
                [[r["model"], r["preset"], f"{r['parameters']:,}", r["gflop"]] for r in rows])
    print("\npaper (Table 2): IU-Net 3,061,680 parameters, U-Net 3,836,213")
    return 0
