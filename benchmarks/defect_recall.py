"""Which labelled defects a checkpoint finds on fresh synthetic washers: recall per kind, plainly
visible bright and dark defects apart, false alarms per image, beside the pixel figures.

    python benchmarks/defect_recall.py CKPT [--images 30] [--seed 2029] [--threads 1] [--list]

The washers are drawn by `iunet-gui synth` (core.synth.generate_dataset, 20 % defect-free) with the
given seed into a temporary folder and scored as `iunet-gui evaluate --checkpoint` scores them
(app.evaluate.evaluate_model: the app's default prediction, the washer crop and the flip mean on).
A labelled defect is found when a predicted pixel touches it; it is plainly visible when its mean grey
level is at least core.detection.VISIBLE_CONTRAST from a thin band around it (core.detection).
`--list` prints every labelled defect that was missed, with its kind, contrast and place.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def _share(found: int, labelled: int) -> str:
    return f"{found}/{labelled}" + (f" ({100 * found / labelled:.0f} %)" if labelled else "")


def report(summary: dict) -> list[str]:
    """The figures as lines of text."""
    s = summary
    lines = [f"{s['images']} images: MIoU {s['miou']:.3f}, defect IoU {s['iou_defect']:.3f}, length error mean "
             + (f"{s['length_error_mean']:.3f} {s['length_unit']}" if s["length_error_mean"] is not None else "-"),
             f"  labelled defects found {_share(s['defects_found'], s['defects_labelled'])}; plainly visible "
             f"{_share(s['found_visible'], s['defects_visible'])} (bright {_share(s['found_visible_bright'], s['defects_visible_bright'])}, "
             f"dark {_share(s['found_visible_dark'], s['defects_visible_dark'])}), faint {_share(s['found_faint'], s['defects_faint'])}",
             "  per kind: " + ", ".join(f"{k} {_share(v['found'], v['labelled'])}" for k, v in s["defect_kinds"].items()),
             f"  false alarms {s['false_alarms']} ({s['false_alarms_per_image']:.2f} per image); within "
             f"{s['tolerance_px']:g} px: precision {s['tolerance_precision']:.3f}, recall {s['tolerance_recall']:.3f}, "
             f"F1 {s['tolerance_f1']:.3f}"]
    return lines


def by_polarity(defects) -> dict:
    """{kind: {"visible bright" / "visible dark" / "faint": (found, labelled)}} of (image, LabelledDefect)."""
    out: dict = {}
    for _, d in defects:
        if d.visibility is None:
            continue
        group = "faint" if d.visibility == "faint" else ("visible bright" if d.contrast > 0 else "visible dark")
        groups = out.setdefault(d.kind, {"visible bright": (0, 0), "visible dark": (0, 0), "faint": (0, 0)})
        found, total = groups[group]
        groups[group] = (found + d.found, total + 1)
    return dict(sorted(out.items()))


def invert_detail(folder: Path, out: Path, sigma: float) -> Path:
    """A copy of the labelled washers of `folder` in `out` with each photo's brightness detail finer than
    `sigma` px mirrored about its local mean (training.augment.polarity at full size); labels unchanged."""
    import shutil

    import numpy as np

    from iunet_gui.core.images import load_image, save_image
    from iunet_gui.inference.preprocess import prepare_input
    from iunet_gui.training.augment import polarity

    out.mkdir(parents=True, exist_ok=True)
    for f in folder.iterdir():
        if f.suffix == ".json":
            shutil.copy(f, out / f.name)
    for img in sorted(folder.glob("*.jpg")):
        x = polarity(prepare_input(load_image(img, "rgb"), 3), np.random.default_rng(0), 1.0, sigma)
        rgb = np.clip((np.transpose(x, (1, 2, 0)) * 0.25 + 0.5) * 255, 0, 255).round().astype(np.uint8)
        save_image(out / img.with_suffix(".png").name, rgb)
        for j in out.glob(img.stem + ".json"):  # the labels name the PNG
            j.write_text(j.read_text().replace(img.name, img.with_suffix(".png").name))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("--images", type=int, default=30, help="washers to draw (default 30)")
    ap.add_argument("--seed", type=int, default=2029, help="the generator's seed (default 2029)")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads for inference")
    ap.add_argument("--threshold", type=float, default=None, help="default: the checkpoint's own")
    ap.add_argument("--folder", type=Path, default=None,
                    help="keep the washers here (drawn once; a folder with labels is scored as it is)")
    ap.add_argument("--invert-detail", type=float, default=None, metavar="SIGMA",
                    help="a probe: score the washers with their brightness detail finer than SIGMA px mirrored about "
                         "the local mean (bright thin lines turned dark and back, shading kept; "
                         "training.augment.polarity), drawn into their own folder")
    ap.add_argument("--list", action="store_true", help="list the missed labelled defects")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args()

    from iunet_gui.app.inspect import inspect_images
    from iunet_gui.app.settings import InspectSettings, open_predictor
    from iunet_gui.core.synth import generate_dataset
    from iunet_gui.training.data import labelled_images

    with tempfile.TemporaryDirectory() as tmp:
        data = args.folder or Path(tmp)
        if not any(data.glob("*.json")):
            generate_dataset(data, args.images, args.seed)
        if args.invert_detail:
            data = invert_detail(data, Path(tmp) / "inverted", args.invert_detail)
        settings = InspectSettings(threads=args.threads, threshold=args.threshold)
        project, images = labelled_images(data)
        run = inspect_images(open_predictor(args.checkpoint, settings), images, settings, project=project)
    summary = {**run.summary, "threshold": run.threshold}
    missed = [(name, d) for name, d in run.defects if not d.found]
    if args.json:
        print(json.dumps(summary, indent=1, default=float))
        return 0
    print(f"{args.checkpoint} on {args.images} synthetic washers, seed {args.seed}, threshold {summary['threshold']:g}")
    print("\n".join(report(summary)))
    print("  by kind and polarity (found/labelled): " + "; ".join(
        f"{kind} " + ", ".join(f"{group} {found}/{total}" for group, (found, total) in groups.items())
        for kind, groups in by_polarity(run.defects).items()))
    if args.list:
        for name, d in missed:
            c = "?" if d.contrast is None else f"{d.contrast:+.0f}"
            print(f"  missed {name}: {d.kind}, contrast {c}, {d.area_px} px at ({d.centroid[0]:.0f}, {d.centroid[1]:.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
