"""Does one-click training really learn? Trains on this CPU and prints test figures.

Synthetic washers: a fresh `synth` set (60 train + 30 test, seeds 7/8, not the sample_images
seed), IU-Net with the app's default settings under a wall-clock limit, scored on the test
images whole as `predict` runs them (the mean over the image and its flips; last.pt also with one
pass per image): MIoU, defect IoU, accuracy, length error in mm.
Real defects (optional, --data PATH/magnetic-tile): an 80/20 split of image+mask pairs,
IU-Net and U-Net trained the same way, defect IoU (with a 90 % bootstrap interval over the test
tiles) and MIoU on the held-out 20 %; `--stage1 NAME...` trains in two stages.
`--multiclass`: both train one output per defect kind (train --set multiclass=true; the washers'
kinds from their labels, the tiles' from their category folders, which the split then keeps) and
are scored per kind as well (IoU per kind, MIoU over all classes, kinds of matched defects).

    python benchmarks/bench_training.py --minutes 13
    python benchmarks/bench_training.py --skip-synth --data ../shared/datasets/magnetic-tile --minutes 10
    python benchmarks/bench_training.py --skip-synth --data ../shared/datasets/magnetic-tile \
        --real-recipe tiles --real-models iunet unet --seed 0      # the tile recipe, as `train --recipe tiles`
    python benchmarks/bench_training.py --skip-synth --data ../shared/datasets/magnetic-tile --minutes 1000 \
        --epochs 20 --lr 2e-3 --prior 0.01 --real-scale 0.35 --real-crop 128 --real-model-config depth=4 base=16 \
        --real-models iunet --stage1 Uneven Fray Free --real-set weight_decay=0.05
    python benchmarks/bench_training.py --minutes 13 --multiclass       # the washers' four kinds
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def log(ev):
    if ev.stage == "epoch":
        vals = "  ".join(f"{k} {v:.3f}" for k, v in ev.metrics.items() if isinstance(v, float))
        print(f"    epoch {ev.epoch}: loss {ev.loss:.4f}  {vals}", flush=True)
    elif ev.stage in ("notice", "done", "cancelled", "nan", "oom") and ev.message:
        print(f"    {ev.stage}: {ev.message}", flush=True)


def _label_of(defect, shape, masks: dict) -> str:
    """The ground-truth label whose mask covers most of the defect's rotated rectangle."""
    import cv2
    import numpy as np

    box = np.zeros(shape, np.uint8)
    cv2.fillPoly(box, [np.round(np.array(defect.box)).astype(np.int32)], 1)
    return max(masks, key=lambda lb: int(np.count_nonzero(masks[lb][box > 0])))


def scored(ckpt: Path, test_dir: Path, tta: bool = True) -> dict:
    """The checkpoint on the whole test images, each predicted once as `predict` runs it (its own
    threshold; `tta`: the mean over the image and its flips, False: one pass): `evaluate`'s summary,
    and under "figures_by_kind" per kind of defect the share of its ground-truth pixels found
    (oxidation split into rust-coloured and grey patches by the patch's mean red/blue ratio) and per
    label the ground-truth defects matched as in `evaluate` and their mean |length error| in mm
    (a defect's label: the one with most pixels in its rectangle)."""
    import cv2
    import numpy as np

    from iunet_gui.core.detection import shape_kinds
    from iunet_gui.core.geometry import shapes_to_mask
    from iunet_gui.core.images import load_image
    from iunet_gui.core.metrics import Evaluator, match_defects
    from iunet_gui.inference.predictor import Predictor
    from iunet_gui.training.data import labelled_images

    project, images = labelled_images(test_dir)
    pred = Predictor.from_path(ckpt)
    pred.tta = tta
    ev = Evaluator(merge_gap_px=pred.merge_gap_px)
    counts: dict = {}
    lengths: dict = {}  # label -> [ground-truth defects, matched, sum of |length error| mm]
    for img in images:
        ann = project.load_annotation(img)
        image = load_image(img)
        res = pred.predict(image)
        found = res.mask
        masks = {label: shapes_to_mask(ann.shapes, found.shape, labels=[label])
                 for label in sorted({sh.label for sh in ann.shapes})}
        for label, gt in masks.items():
            n, cc = cv2.connectedComponents(gt.astype(np.uint8))
            for i in range(1, n):
                region = cc == i
                kind = label
                if label == "oxidation":
                    r, _, b = image[region].astype(np.float64).mean(0)
                    kind = "oxidation (rust)" if r / max(b, 1e-6) > 1.08 else "oxidation (grey)"
                c = counts.setdefault(kind, [0, 0, 0])
                c[0] += 1
                c[1] += int(region.sum())
                c[2] += int((region & found).sum())
        gt_all, mm = project.ground_truth_mask(img), project.mm_per_px_for(img)
        per_kind = None if res.class_map is None else (res.classes, res.class_map)  # a multi-class model
        ev.add(img.name, found, gt_all, mm, kinds=shape_kinds(ann.shapes, found.shape) if ann.shapes else None,
               pred_kinds=per_kind)
        pairs, _, missed = match_defects(found, gt_all, mm, merge_gap_px=pred.merge_gap_px)

        for p, g, _ in pairs:
            entry = lengths.setdefault(_label_of(g, found.shape, masks), [0, 0, 0.0])
            entry[0] += 1
            entry[1] += 1
            entry[2] += abs(p.length_mm - g.length_mm) if p.length_mm is not None else 0.0
        for g in missed:
            lengths.setdefault(_label_of(g, found.shape, masks), [0, 0, 0.0])[0] += 1
    out = {k: {"regions": c[0], "pixels": c[1], "recall": c[2] / max(c[1], 1)} for k, c in sorted(counts.items())}
    out["lengths"] = {k: {"defects": v[0], "matched": v[1], "mean_error_mm": v[2] / v[1] if v[1] else None}
                      for k, v in sorted(lengths.items())}
    return {**ev.summary(), "threshold": pred.threshold, "figures_by_kind": out}


def print_by_kind(by_kind: dict, indent: str = "") -> None:
    for kind, k in by_kind.items():
        if kind != "lengths":
            print(f"{indent}{kind:<17} {k['regions']:>3} regions, {k['pixels']:>7} px: {100 * k['recall']:.1f} % found",
                  flush=True)
    for kind, k in by_kind.get("lengths", {}).items():
        err = "-" if k["mean_error_mm"] is None else f"{k['mean_error_mm']:.2f} mm"
        print(f"{indent}{kind:<17} {k['matched']:>3} of {k['defects']:>2} defects matched, mean length error {err}",
              flush=True)


def print_scored(which: str, r: dict) -> None:
    print(f"  {which} -> test MIoU {r['miou']:.4f}, "
          f"defect IoU {r['iou_defect']:.4f}, accuracy {r['accuracy']:.4f}, length error mean "
          f"{r['length_error_mean'] if r['length_error_mean'] is not None else float('nan'):.3f} / max "
          f"{r['length_error_max'] if r['length_error_max'] is not None else float('nan'):.3f} "
          f"{r['length_unit']} over {r['matched_defects']} matched defects", flush=True)
    print_by_kind(r["figures_by_kind"], "    ")
    print_kinds(r, "    ")


def print_kinds(r: dict, indent: str = "") -> None:
    """A multi-class model's figures per kind (core.kinds), when it has them."""
    if not r.get("kinds"):
        return
    acc = r["kind_accuracy"]
    print(f"{indent}multi-class: MIoU over background and {len(r['kinds'])} kinds {r['kind_miou']:.4f}, kind accuracy "
          f"over matched defects {'-' if acc is None else f'{100 * acc:.1f} %'}", flush=True)
    for kind, k in r["kinds"].items():
        iou = "-" if k["iou"] is None else f"{k['iou']:.4f}"
        err = "-" if k["length_error_mean"] is None else f"{k['length_error_mean']:.3f} {r['length_unit']}"
        print(f"{indent}  {kind:<15} IoU {iou}, found {k['found']} of {k['labelled']}, false alarms "
              f"{k['false_alarms']}, length error mean {err}", flush=True)
    print(f"{indent}  kinds of matched defects (rows labelled, columns predicted): "
          f"{r['kind_confusion']['labels'][1:]} {[row[1:] for row in r['kind_confusion']['matrix'][1:]]}", flush=True)


def synthetic(args, work: Path) -> dict:
    from iunet_gui.core.synth import generate_dataset

    train_dir, test_dir = work / "synth_train", work / "synth_test"
    t = time.perf_counter()
    generate_dataset(train_dir, args.train_count, seed=7)
    generate_dataset(test_dir, args.test_count, seed=8)
    print(f"  generated {args.train_count} + {args.test_count} washers in {time.perf_counter() - t:.0f} s", flush=True)
    argv = ["train", "--data", str(train_dir), "--out", str(work / "run_synth"), "--model", "iunet",
            "--preset", args.preset, "--time-limit", str(args.minutes if args.minutes is not None else 13.0), "--epochs", str(args.epochs)]
    if args.lr is not None:
        argv += ["--lr", str(args.lr)]
    if args.threads:
        argv += ["--threads", str(args.threads)]
    if args.seed:
        argv += ["--seed", str(args.seed)]
    if args.prior is not None:
        argv += ["--set", f"prior={args.prior}"]
    if args.region_weight is not None:
        argv += ["--set", f"region_weight={args.region_weight}"]
    if args.bn_batches is not None:
        argv += ["--set", f"bn_batches={args.bn_batches}"]
    if args.fine_loss is not None:
        argv += ["--set", f"fine_loss={args.fine_loss}"]
    if args.grey_share is not None:
        argv += ["--set", f"grey_share={args.grey_share}"]
    if args.freeze_bn:
        argv += ["--set", f"freeze_bn={args.freeze_bn}"]
    if args.model_config:
        argv += ["--model-config", *args.model_config]
    if args.scale is not None:
        argv += ["--scale", str(args.scale)]
    if args.crop is not None:
        argv += ["--crop", str(args.crop)]
    if args.precision:
        argv += ["--set", f"precision={args.precision}"]
    if args.multiclass:
        argv += ["--set", "multiclass=true"]
    for setting in args.set or []:
        argv += ["--set", setting]
    print("  $ iunet-gui " + " ".join(argv), flush=True)
    from iunet_gui.cli import main as cli

    t = time.perf_counter()
    if cli(argv) not in (0,):
        raise SystemExit("training failed")
    minutes = (time.perf_counter() - t) / 60

    class res:  # what the CLI run left behind
        best_checkpoint = work / "run_synth" / "best.pt"
        epochs_done = sum(1 for line in (work / "run_synth" / "metrics.csv").read_text().splitlines()[1:]
                          if not line.rstrip().endswith("True"))

    out = {"minutes": minutes, "epochs": res.epochs_done, **scored(res.best_checkpoint, test_dir),
           "checkpoint": str(res.best_checkpoint)}
    # the weights at the end of the run, beside the validation pick; and with one pass per image
    out["last"] = scored(work / "run_synth" / "last.pt", test_dir)
    out["last_one_pass"] = scored(work / "run_synth" / "last.pt", test_dir, tta=False)
    if args.keep:
        shutil.copy(res.best_checkpoint, args.keep)
        out["kept"] = str(args.keep)
    return out


def stage_one(args, work: Path, model: str, overrides: dict, stage_two) -> Path:
    """Two-stage training, stage one: the train command's defaults (with this benchmark's model settings,
    scale, crop, prior and crops per epoch) for --stage1-epochs on the --stage1 categories' tiles among
    those stage two trains on: the tiles stage two validates on (the trainer's own split, the same seed)
    are left out, so its pick of best.pt is not biased towards the classes seen first. Returns best.pt."""
    from iunet_gui.training.data import Item, split_items
    from iunet_gui.training.trainer import TrainConfig, train

    train_dir = work / "real_train"
    files = sorted(p for p in train_dir.iterdir() if p.suffix.lower() != ".png")
    seed = stage_two.seed
    trained, _ = split_items([Item(p.name, None, None) for p in files], stage_two.val_fraction, seed,
                             stage_two.max_val_images)
    names = {it.name for it in trained}
    d = work / f"stage1_train_seed{seed}"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    n = 0
    for p in files:
        if p.name in names and any(k.lower() in p.name.split("__")[0].lower() for k in args.stage1):
            for f in (p, p.with_suffix(".png")):
                shutil.copy(f, d / f.name)
            n += 1
    if not n:
        raise SystemExit(f"--stage1 {' '.join(args.stage1)}: no training tiles of these categories")
    cfg = TrainConfig(data=str(d), out=str(work / f"run_stage1_{model}_seed{seed}"), model=model,
                      model_overrides=overrides, rotate=args.real_rotate, crop=args.real_crop, scale=args.real_scale,
                      crops_per_epoch=args.real_crops_per_epoch, prior=args.prior, seed=seed,
                      epochs=args.stage1_epochs, time_limit_min=args.minutes, threads=args.threads)
    print(f"  stage one ({model}): {n} training tiles of {', '.join(args.stage1)}, {args.stage1_epochs} epochs, "
          f"train command defaults otherwise", flush=True)
    t = time.perf_counter()
    res = train(cfg, progress=log)
    if res.best_checkpoint is None:
        raise SystemExit(f"stage one ended without a checkpoint: {res.message}")
    print(f"  stage one: {(time.perf_counter() - t) / 60:.1f} min, {res.epochs_done} epochs, "
          f"validation MIoU {res.best_val_miou:.3f} -> {res.best_checkpoint}", flush=True)
    return res.best_checkpoint


def real(args, work: Path) -> dict:
    from iunet_gui.cli.train import parse_overrides
    from iunet_gui.core.metrics import pooled_iou_interval
    from iunet_gui.core.project import Project
    from iunet_gui.models.checkpoint import load_checkpoint
    from iunet_gui.training.config import effective_lr
    from iunet_gui.training.data import Item, split_items
    from iunet_gui.training.recipes import recipe_config
    from iunet_gui.training.trainer import TrainConfig, train

    src = Path(args.data)
    pairs = []
    for sub in sorted(p for p in src.iterdir() if p.is_dir()):
        if args.real_only and not any(k.lower() in sub.name.lower() for k in args.real_only):
            continue
        proj = Project.open(sub)
        pairs += [(img, proj.masks[img]) for img in proj.images if img in proj.masks]
    if not pairs:
        raise SystemExit(f"{src}: no image+mask pairs found")
    items = [Item(f"{img.parent.name}__{img.name}", None, None) for img, _ in pairs]
    lookup = {it.name: pr for it, pr in zip(items, pairs)}
    tr, te = split_items(items, 0.2, seed=0)
    for split, its in (("train", tr), ("test", te)):
        d = work / f"real_{split}"
        d.mkdir(parents=True, exist_ok=True)
        for it in its:
            img, m = lookup[it.name]
            stem = it.name.rsplit(".", 1)[0]
            target = d / img.parent.name if args.multiclass else d  # multi-class: the category folder names the kind
            target.mkdir(exist_ok=True)
            shutil.copy(img, target / f"{stem}{img.suffix}")
            shutil.copy(m, target / f"{stem}.png")
    print(f"  magnetic-tile: {len(tr)} train / {len(te)} test image+mask pairs", flush=True)
    out = {}
    overrides = parse_overrides(args.real_model_config or [])
    for model in args.real_models:
        extra = {"lr": args.lr} if args.lr is not None else {}
        if args.real_recipe:  # the train command's named recipe, as `iunet-gui train --recipe NAME` trains
            cfg = recipe_config(args.real_recipe, data=str(work / "real_train"), out=str(work / f"run_real_{model}"),
                                model=model, time_limit_min=args.minutes, threads=args.threads, seed=args.seed)
            # (--minutes not given: None, the recipe runs its epochs)
        else:
            cfg = TrainConfig(**extra, model_overrides=overrides,
                              rotate=args.real_rotate, data=str(work / "real_train"), out=str(work / f"run_real_{model}"),
                              model=model, preset="default", time_limit_min=args.minutes, threads=args.threads,
                              crop=args.real_crop, scale=args.real_scale, max_val_images=20, epochs=args.epochs,
                              crops_per_epoch=args.real_crops_per_epoch, prior=args.prior, seed=args.seed,
                              region_weight=args.region_weight or 0.0, freeze_bn=args.freeze_bn,
                              **({"bn_batches": args.bn_batches} if args.bn_batches is not None else {}))
        if args.multiclass:
            cfg.multiclass = True
        for key, value in parse_overrides(args.real_set or []).items():
            if not hasattr(cfg, key):
                raise SystemExit(f"--real-set {key}: not a training setting")
            setattr(cfg, key, value)
        if args.stage1:
            cfg.init = str(stage_one(args, work, model, overrides, cfg))
        cfg.lr = effective_lr(cfg)  # printed as the run will use it
        print(f"  training {model}: " + ", ".join(f"{k}={getattr(cfg, k)}" for k in (
            "preset", "model_overrides", "rotate", "lr", "batch_size", "crop", "scale", "crops_per_epoch", "loss",
            "pos_weight", "focus", "mixup", "schedule", "prior", "region_weight", "bn_batches", "freeze_bn",
            "time_limit_min", "max_val_images", "weight_decay", "photometric", "area_sampling", "seed", "init",
            "multiclass")), flush=True)
        t = time.perf_counter()
        res = train(cfg, progress=log)
        from iunet_gui.app.evaluate import evaluate_model
        from iunet_gui.app.settings import InspectSettings

        records, s = evaluate_model(res.best_checkpoint, work / "real_test", InspectSettings(crop_to_part=False))  # tiles
        s["iou_defect_interval90"] = pooled_iou_interval(records)  # which test tiles, not which run
        by_kind: dict = {}
        for r in records:  # test names are "<category folder>__<file>"
            by_kind.setdefault(r["name"].split("__")[0], []).append(r)
        s["by_category"] = {k: {"images": len(v), "mean_iou_defect": sum(r["iou_defect"] for r in v) / len(v),
                                "accuracy": sum(r["accurate"] for r in v) / len(v)} for k, v in sorted(by_kind.items())}
        out[model] = {"minutes": (time.perf_counter() - t) / 60, "epochs": res.epochs_done,
                      "threshold": load_checkpoint(res.best_checkpoint).threshold, "seed": cfg.seed,
                      "run": cfg.out, **s}  # benchmarks/seed_summary.py groups runs by the run's config.json
    return out


def main() -> int:
    from iunet_gui.training.recipes import RECIPES  # no torch

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=None,
                    help="training time limit per model (default 13; none with --real-recipe: the recipe's epochs)")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--lr", type=float, default=None, help="default: the train command's default")
    ap.add_argument("--preset", default="default")
    ap.add_argument("--model-config", nargs="+", default=None, metavar="KEY=VALUE",
                    help="train --model-config (synthetic run), e.g. depth=5")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--scale", type=float, default=None, help="train --scale (synthetic run; default: the train default)")
    ap.add_argument("--crop", type=int, default=None, help="train --crop (synthetic run; default: the train default)")
    ap.add_argument("--precision", default=None, help="train --precision (synthetic run; default: the train default)")
    ap.add_argument("--train-count", type=int, default=60)
    ap.add_argument("--test-count", type=int, default=30)
    ap.add_argument("--data", default=None, help="magnetic-tile folder (real defects)")
    ap.add_argument("--real-models", nargs="+", default=["iunet", "unet"])
    ap.add_argument("--real-crop", type=int, default=192)
    ap.add_argument("--real-scale", type=float, default=1.0,
                    help="train --scale on the real images (default 1: the tiles are a few hundred px, not 1280x1024)")
    ap.add_argument("--real-model-config", nargs="+", default=None, metavar="KEY=VALUE",
                    help="train --model-config on the real images, e.g. depth=5")
    ap.add_argument("--real-recipe", default=None, choices=list(RECIPES),
                    help="train the real images with `train --recipe NAME` (tiles: the magnetic-tile recipe); then only "
                         "--minutes, --threads, --seed and --real-set apply on top of it, the other --real-* and "
                         "training options are the recipe's")
    ap.add_argument("--set", nargs="+", default=None, metavar="KEY=VALUE",
                    help="any training setting of the synthetic run, as train --set (e.g. polarity=0)")
    ap.add_argument("--real-set", nargs="+", default=None, metavar="KEY=VALUE",
                    help="any other training setting on the real images, e.g. weight_decay=0.05 mixup=0.5")
    ap.add_argument("--real-rotate", default="auto", choices=["auto", "on", "off"],
                    help="train --rotate on the real images (default auto: off, the tiles are streaked top to bottom)")
    ap.add_argument("--real-only", nargs="+", default=None, metavar="NAME",
                    help="only the category folders whose name contains one of these, e.g. Uneven Free")
    ap.add_argument("--real-crops-per-epoch", type=int, default=640,
                    help="crops per epoch on the real images (validation after each epoch)")
    ap.add_argument("--stage1", nargs="+", default=None, metavar="NAME",
                    help="train in two stages: first on the training tiles of the category folders whose name "
                         "contains one of these (e.g. Uneven Fray Free; not the tiles stage two validates on), "
                         "then on all from those weights (init)")
    ap.add_argument("--stage1-epochs", type=int, default=9, help="epochs of stage one (default 9)")
    ap.add_argument("--seed", type=int, default=0, help="train --seed (run-to-run spread; the data stay the same)")
    ap.add_argument("--prior", type=float, default=None, help="train --prior (default: the train default)")
    ap.add_argument("--region-weight", type=float, default=None,
                    help="train --region-weight (synthetic run: default the train default; magnetic tiles: 0)")
    ap.add_argument("--grey-share", type=float, default=None, help="train --grey-share (synthetic run; default: the train default)")
    ap.add_argument("--fine-loss", type=int, default=None, help="train --fine-loss (synthetic run; default: the train default)")
    ap.add_argument("--bn-batches", type=int, default=None, help="train --bn-batches (default: the train default)")
    ap.add_argument("--freeze-bn", type=float, default=0.0, help="train --freeze-bn (default 0 = off)")
    ap.add_argument("--score", type=Path, nargs=2, metavar=("CKPT", "TEST_DIR"), default=None,
                    help="no training: score a checkpoint on a synthetic test folder (figures and per kind)")
    ap.add_argument("--multiclass", action="store_true",
                    help="train one output per defect kind (train --set multiclass=true) and score each kind too")
    ap.add_argument("--skip-synth", action="store_true")
    ap.add_argument("--keep", type=Path, default=None, help="copy the synthetic best.pt here")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = ap.parse_args()
    if args.minutes is None and not args.real_recipe:
        args.minutes = 13.0
    if args.score:
        for tta in (True, False):
            print_scored(f"{args.score[0]} ({'flip mean' if tta else 'one pass'})", scored(*args.score, tta))
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="iunet-bench-"))
    report = {}
    if not args.skip_synth:
        print("# Synthetic washers (IU-Net, app defaults)", flush=True)
        s = report["synthetic"] = synthetic(args, work)
        print(f"  trained {s['minutes']:.1f} min ({s['epochs']} epochs)", flush=True)
        for which, r in (("best.pt (validation pick, flip mean)", s), ("last.pt (end of the run, flip mean)", s["last"]),
                         ("last.pt (one pass per image)", s["last_one_pass"])):
            print_scored(which, r)
    if args.data:
        print("# Real defects: magnetic-tile", flush=True)
        r = report["real"] = real(args, work)
        for model, s in r.items():
            print(f"  {model}: {s['minutes']:.1f} min ({s['epochs']} epochs, threshold {s['threshold']}) -> "
                  f"defect IoU {s['iou_defect']:.4f} (90 % bootstrap over the test tiles "
                  f"{s['iou_defect_interval90'][0]:.3f}-{s['iou_defect_interval90'][1]:.3f}), MIoU {s['miou']:.4f}, dice {s['dice']:.4f}, "
                  f"accuracy {s['accuracy']:.4f} on {s['images']} test images", flush=True)
            for kind, k in s["by_category"].items():
                print(f"    {kind:<12} {k['images']:>3} images: mean defect IoU per image {k['mean_iou_defect']:.3f}, "
                      f"accuracy {k['accuracy']:.3f}", flush=True)
            print_kinds(s, "    ")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    print(f"(work folder: {work})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
