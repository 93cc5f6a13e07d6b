"""iunet-gui models: every network architecture, its presets, parameters and GFLOP; with --project DIR
the project's model registry (app.registry): its models, the one in use marked, their golden-set figures."""
from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--size", default="1280x1024", help="image size for GFLOP (WxH, default 1280x1024)")
    p.add_argument("--project", metavar="DIR", help="list the models registered in this project instead")
    p.add_argument("--register", nargs="+", metavar="FILE", default=[],
                   help="with --project: register checkpoint or ONNX files (kept where they are)")
    p.add_argument("--use", type=int, metavar="ID", help="with --project: make this model the model in use")
    p.add_argument("--add-golden", nargs="+", metavar="IMAGE", default=[],
                   help="with --project: add labelled images (names in the project, or a folder holding "
                        "copies of them) to the golden set")


def run(args) -> int:
    if args.project:
        return run_registry(args)
    if args.register or args.use is not None or args.add_golden:
        from iunet_gui.core.errors import IunetError

        raise IunetError("--register, --use and --add-golden need --project DIR")
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


def run_registry(args) -> int:
    import contextlib
    from pathlib import Path

    from iunet_gui.app.golden import GoldenSets
    from iunet_gui.app.registry import COLUMNS, ModelRegistry, cell
    from iunet_gui.cli._common import print_json, print_table
    from iunet_gui.core.errors import IunetError

    if not Path(args.project).is_dir():
        raise IunetError(f"{args.project}: not a folder")
    with ModelRegistry(args.project) as registry:
        for f in args.register:
            e = registry.register(f, "onnx" if f.lower().endswith(".onnx") else "file")
            print(f"registered {e.id}: {e.name}")
        if args.use is not None:
            print(f"in use: {registry.set_in_use(args.use).name}")
        if args.add_golden:
            golden = GoldenSets(registry)
            added = []
            for n in args.add_golden:  # an image name of the project, or a folder: its images' names
                added += golden.add_folder(n) if Path(n).is_dir() else golden.add([Path(args.project) / n])
            print(f"golden set: {len(added)} image(s) added, {len(golden.images())} in all")
        for e in registry.models():
            if e.arch is None:  # registered by the window, which reads the details later
                with contextlib.suppress(IunetError):  # a file gone since: listed without its details
                    registry.describe(e.id)
        rows = [e.row() for e in registry.models()]
        golden = [p.name for p in GoldenSets(registry).images()]
    if args.json:
        print_json({"models": rows, "golden_set": golden})
        return 0
    if not rows:
        print(f"no models registered in {args.project}")
    else:
        print_table([h for h, _ in COLUMNS], [[cell(r, k) for _, k in COLUMNS] for r in rows])
    print(f"golden set: {len(golden)} image(s)" + (f" ({', '.join(golden[:8])}{' ...' if len(golden) > 8 else ''})"
                                                   if golden else ""))
    return 0
