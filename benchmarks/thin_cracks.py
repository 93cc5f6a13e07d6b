"""Thin real defects: networks side by side on CrackForest road cracks, scored as cracks are scored.

Splits the image + mask pairs of --data deterministically (every fifth name, sorted, is a test image),
leaving out the pairs whose mask fills an area rather than tracing cracks (more than --area-share of
the photo marked: three of the 81, where a patch of alligator cracking is filled in whole; one such
test mask holds more labelled pixels than the other fifteen together and would decide the scores),
trains each network given with `iunet-gui train` at input scale 1 under the same time limit, seed and
one thread each, all at once (one process per network), then scores each best.pt on the test images
with `iunet-gui evaluate --tolerance 2 --no-crop --json`: precision, recall and F1 with a 2-px
tolerance beside pixel IoU.

    python benchmarks/thin_cracks.py --data ../shared/datasets/crackforest --minutes 12 --seed 1 \\
        --run iunet --run unet --run "iunet depth=4"
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def area_masks(images: list[Path], share: float) -> list[Path]:
    """The images whose mask marks more than `share` of the photo: a filled area, not traced cracks."""
    import cv2

    out = []
    for img in images:
        mask = cv2.imread(str(img.with_suffix(".png")), cv2.IMREAD_GRAYSCALE)
        if mask is not None and (mask > 127).mean() > share:
            out.append(img)
    return out


def split(data: Path, work: Path, area_share: float = 0.1) -> tuple[Path, Path]:
    """(train folder, test folder) of links to the pairs of `data` whose masks trace cracks (area_masks
    left out, named on stdout): every fifth sorted name is a test image."""
    train, test = work / "train", work / "test"
    train.mkdir(parents=True, exist_ok=True)
    test.mkdir(parents=True, exist_ok=True)
    images = sorted(p for p in data.glob("*.jpg") if p.with_suffix(".png").is_file())
    left_out = area_masks(images, area_share) if area_share < 1 else []
    if left_out:
        print(f"left out, masks that fill an area (> {area_share:.0%} of the photo): "
              + ", ".join(p.name for p in left_out))
    images = [p for p in images if p not in left_out]
    for i, img in enumerate(images):
        dest = test if i % 5 == 4 else train
        for p in (img, img.with_suffix(".png")):
            (dest / p.name).symlink_to(p.resolve())
    return train, test


def command(run: str, train: Path, out: Path, minutes: float, seed: int, extra: list[str]) -> list[str]:
    """The train command of one run: 'NETWORK [KEY=VALUE model options ...] [--set KEY=VALUE ...]'."""
    words = run.split()
    model, model_cfg, flags = words[0], [], []
    for w in words[1:]:
        if flags and flags[-1].startswith("--") and "=" not in flags[-1] and not w.startswith("--"):
            flags.append(w)  # the value of the flag before it (--set KEY=VALUE)
        elif "=" in w and not w.startswith("--"):
            model_cfg.append(w)
        else:
            flags.append(w)
    cmd = [sys.executable, "-m", "iunet_gui", "train", "--data", str(train), "--out", str(out), "--model", model,
           "--scale", "1", "--time-limit", str(minutes), "--seed", str(seed), "--threads", "1"] + extra + flags
    return cmd + (["--model-config", *model_cfg] if model_cfg else [])


def score(checkpoint: Path, test: Path) -> dict:
    r = subprocess.run([sys.executable, "-m", "iunet_gui", "evaluate", "--checkpoint", str(checkpoint), "--data",
                        str(test), "--tolerance", "2", "--no-crop", "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        return {"error": (r.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(r.stdout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="CrackForest folder (name.jpg + name.png)")
    ap.add_argument("--run", action="append", required=True, help="NETWORK [model KEY=VALUE ...] [--set K=V]")
    ap.add_argument("--minutes", type=float, default=12)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="for every run")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--area-share", type=float, default=0.1,
                    help="leave out pairs whose mask marks more than this share of the photo (1 = keep all)")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="thin-cracks-"))
    if (work / "train").exists():
        shutil.rmtree(work / "train"), shutil.rmtree(work / "test")
    train, test = split(args.data, work, args.area_share)
    extra = [w for kv in args.set for w in ("--set", kv)]
    procs = []
    for k, run in enumerate(args.run):
        out = work / f"run{k}"
        log = open(work / f"run{k}.log", "w")
        procs.append((run, out, subprocess.Popen(command(run, train, out, args.minutes, args.seed, extra),
                                                 stdout=log, stderr=subprocess.STDOUT)))
    results = []
    for run, out, proc in procs:
        proc.wait()
        figures = score(out / "best.pt", test) if (out / "best.pt").is_file() else {"error": "no best.pt"}
        results.append({"run": run, "out": str(out), **figures})
    print(f"{len(list(test.glob('*.jpg')))} test images, {args.minutes} min a run, seed {args.seed}")
    print(f"{'run':28} {'precision':>9} {'recall':>7} {'F1':>6} {'pixel IoU':>9}")
    for r in results:
        if "error" in r:
            print(f"{r['run']:28} {r['error']}")
            continue
        s = r["summary"]
        print(f"{r['run']:28} {s['tolerance_precision']:9.3f} {s['tolerance_recall']:7.3f} {s['tolerance_f1']:6.3f} "
              f"{s['iou_defect']:9.3f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print(f"(work folder: {work})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
