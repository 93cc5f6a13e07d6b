"""Parts per second of the QA station (`iunet-gui inspect`) on this machine.

Renders a folder of 1280x1024 synthetic washer photos (iunet_gui.core.synth; unlabelled, as on a
line), then inspects it with the shipped model as `iunet-gui inspect` does: predict, measure, judge by
a specification, log every part to the inspection log (pipelined: one image per core through the
network, one thread each; serial: one image at a time on all threads). Each mode runs once to warm up,
then over the folder; the figure is images per second over the whole folder (decode to log row).

    python benchmarks/bench_inspect.py                 # 24 photos; flip mean and one pass, pipelined
    python benchmarks/bench_inspect.py --serial        # also one image at a time, for comparison
    python benchmarks/bench_inspect.py --images 48 --model run/best.pt
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_folder(folder: Path, count: int, seed: int = 7) -> list[Path]:
    from iunet_gui.core.synth import generate_dataset

    paths = generate_dataset(folder, count, seed)
    for p in paths:
        p.with_suffix(".json").unlink()  # parts off the line carry no labels
    return paths


def measure(model, images, flip_mean: bool, pipeline: bool, folder: Path) -> float:
    """Images per second inspecting `images` (after one warm-up image)."""
    from iunet_gui.app.inspect import inspect_images
    from iunet_gui.app.pipeline import NETWORK_THREADS
    from iunet_gui.app.records import InspectionLog
    from iunet_gui.app.settings import InspectSettings, open_predictor
    from iunet_gui.core.spec import ClassLimits, Specification

    settings = InspectSettings(flip_mean=flip_mean, threads=NETWORK_THREADS if pipeline else None)
    predictor = open_predictor(model, settings)
    spec = Specification({"defect": ClassLimits(max_length_mm=2.0, max_count=3)})
    with InspectionLog(folder / f"log-{int(flip_mean)}{int(pipeline)}.sqlite") as log:
        inspect_images(predictor, images[:1], settings, spec=spec, log=log, pipeline=pipeline)
        t0 = time.perf_counter()
        run = inspect_images(predictor, images, settings, spec=spec, log=log, pipeline=pipeline)
        seconds = time.perf_counter() - t0
    assert run.predicted == len(images), run.failures
    return len(images) / seconds


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=24)
    p.add_argument("--model", default=None, help="checkpoint (default: the shipped iunet_default.pt)")
    p.add_argument("--serial", action="store_true", help="also measure one image at a time (no pipeline)")
    p.add_argument("--folder", default=None, help="inspect the photos of this folder instead of rendering new ones")
    args = p.parse_args(argv)
    from iunet_gui.resources import DEFAULT_CHECKPOINT

    model = args.model or DEFAULT_CHECKPOINT
    with tempfile.TemporaryDirectory(prefix="bench-inspect-") as tmp:
        folder = Path(tmp)
        if args.folder:
            from iunet_gui.core.project import Project

            images = Project.open(args.folder).images[:args.images]
        else:
            images = make_folder(folder / "parts", args.images)
        from iunet_gui.app.pipeline import usable_cores

        print(f"{len(images)} photos of 1280x1024, {usable_cores()} CPU core(s), model {Path(model).name}")
        modes = [(True, True), (False, True)] + ([(True, False), (False, False)] if args.serial else [])
        for flip_mean, pipeline in modes:
            rate = measure(model, images, flip_mean, pipeline, folder)
            print(f"{'flip mean' if flip_mean else 'one pass ':9}  {'pipelined' if pipeline else 'serial   '}  "
                  f"{rate:5.2f} images/s  ({1000 / rate:.0f} ms/image)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
