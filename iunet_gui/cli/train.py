"""iunet-gui train: train a segmentation network on a labelled project or image+mask folder."""
from __future__ import annotations

import argparse


def _defaults() -> dict:
    """TrainConfig's defaults (one source of truth for the CLI, the GUI and the API)."""
    from dataclasses import fields

    from iunet_gui.training.trainer import TrainConfig

    return {f.name: f.default for f in fields(TrainConfig) if not callable(f.default_factory)}


def _recipe_text(name: str) -> str:
    """A recipe's settings as the options that give them: 'tiles' -> '--scale 0.35 --crop 128 ...'."""
    from iunet_gui.training.trainer import RECIPES

    parts = []
    for key, value in RECIPES[name].items():
        flag = "--model-config" if key == "model_overrides" else "--" + key.replace("_", "-")
        if isinstance(value, dict):
            parts.append(f"{flag} " + " ".join(f"{k}={v}" for k, v in value.items()))
        elif value is True:
            parts.append(flag)
        else:
            parts.append(f"{flag} {value:g}" if isinstance(value, float) else f"{flag} {value}")
    return " ".join(parts)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from iunet_gui.training.trainer import DEFAULT_LR, RECIPES

    d = _defaults()
    p.add_argument("--data", required=True, help="labelled folder: images + labelme JSON, or image + mask pairs")
    p.add_argument("--val", default=None, help="separate validation folder (default: a deterministic "
                   f"{d['val_fraction'] * 100:.0f}%% split of --data, at most {d['max_val_images']} images; the rest are "
                   "trained on)")
    p.add_argument("--recipe", default="washers", choices=list(RECIPES),
                   help="named settings measured together (default washers: photos of parts with small defects); "
                        "tiles: small textured images with large low-contrast defects, the magnetic-tile benchmark's "
                        "recipe (" + _recipe_text("tiles") + "). Options given here win over the recipe's")
    p.add_argument("--model", default="iunet", help="network: iunet, unet, fcn8s, segnet (default iunet)")
    p.add_argument("--preset", default="default", help="preset of the network (see 'iunet-gui models')")
    p.add_argument("--model-config", nargs="+", default=[], metavar="KEY=VALUE",
                   help="override preset options, e.g. --model-config base=16 separable=nested")
    p.add_argument("--epochs", type=int, default=None, help=f"epochs (default {d['epochs']}, as the paper)")
    p.add_argument("--batch-size", type=int, default=d["batch_size"], help=f"batch size (default {d['batch_size']}, as the paper)")
    p.add_argument("--lr", type=float, default=None,
                   help=f"Adam learning rate (default {DEFAULT_LR:g}, a tenth of it with --init; the paper's 1e-4 "
                        f"learns too slowly on a CPU budget)")
    p.add_argument("--weight-decay", type=float, default=None, metavar="F",
                   help="AdamW weight decay on the convolution weights (default 0: Adam as the paper); "
                        "against over-fitting a small training set")
    p.add_argument("--crop", type=int, default=None, help=f"training crop size in px (default {d['crop']})")
    p.add_argument("--scale", type=float, default=None, metavar="F",
                   help=f"input scale: the network sees every image resized by F (default {d['scale']:g}: 3.3x the "
                        "context per pixel, 11x fewer pixels; 1 for images of a few hundred px); predictions "
                        "come back at full size")
    p.add_argument("--zoom", type=float, default=d["zoom"], metavar="F",
                   help="show each training crop at a random scale in [1/(1+F), 1+F] (default 0 = off; "
                        "not applied with --fine-loss above 1)")
    p.add_argument("--area-sampling", type=float, default=None, metavar="K",
                   help="draw each training image with weight 1 + K x its share of defect pixels, so images mostly "
                        "covered by a defect are seen more often (default 0: every image alike; 4, with --lr 5e-4, "
                        "suited the magnetic tiles, whose large defects are a few images: see README)")
    p.add_argument("--crops-per-epoch", type=int, default=None, help="crops per epoch (default 8 per image)")
    p.add_argument("--loss", default=d["loss"], choices=["bce", "bce_pos", "bce_dice"],
                   help=f"bce (paper), bce_pos (positive weight), bce_dice (default {d['loss']})")
    p.add_argument("--mixup", type=float, default=d["mixup"],
                   help=f"share of batches mixed by mix-up, under BCE only (default {d['mixup']:g}; 0 = off)")
    p.add_argument("--in-channels", type=int, default=3, choices=[1, 3], help="1 = gray, 3 = RGB input")
    p.add_argument("--out", default="runs/iunet", help="run folder (config.json, metrics.csv, best.pt, last.pt)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from last.pt")
    p.add_argument("--init", default=None, metavar="CKPT",
                   help="start a new run from this checkpoint's weights (fine-tuning, e.g. the shipped "
                        "resources/iunet_default.pt on your own labelled images): its architecture, a fresh "
                        "optimizer and schedule, this run's data and settings")
    p.add_argument("--time-limit", type=float, default=None, metavar="MIN", help="stop cleanly after MIN minutes")
    p.add_argument("--seed", type=int, default=0, help="seed: a CPU run is reproducible")
    p.add_argument("--device", default="auto", help="auto (CUDA > MPS > CPU), cpu, cuda, cuda:1, mps")
    p.add_argument("--precision", default=d["precision"], choices=["auto", "fp32", "bf16"],
                   help="auto: float16 mixed precision on CUDA, float32 on the CPU (default); bf16: bfloat16 "
                        "autocast (on CPUs with AMX/AVX512-BF16 an epoch is ~11 %% cheaper)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    p.add_argument("--val-every", type=int, default=1, help="validate every N epochs")
    p.add_argument("--max-val-images", type=int, default=None, metavar="N",
                   help=f"at most N validation images of the split (default {d['max_val_images']}; the rest of the "
                        f"validation share is trained on; the magnetic-tile benchmark uses 20)")
    p.add_argument("--schedule", default="cosine", choices=["cosine", "constant"],
                   help="learning rate: cosine decay to lr/100 by the last epoch or --time-limit (default), or constant")
    p.add_argument("--pos-weight", type=float, default=d["pos_weight"],
                   help=f"weight of defect pixels in bce_pos / bce_dice (default {d['pos_weight']:g})")
    p.add_argument("--focus", type=float, default=d["focus"],
                   help=f"share of training crops centred near a defect (default {d['focus']:g})")
    p.add_argument("--threshold", type=float, default=d["threshold"],
                   help=f"probability threshold stored in the checkpoint (default {d['threshold']:g})")
    p.add_argument("--tune-threshold", action=argparse.BooleanOptionalAction, default=None,
                   help="store the threshold (0.1-0.9) that scores best on the validation images instead, scored as "
                        "predict scores them (the mean over each image and its flips: validation takes 4x longer); on the "
                        "magnetic tiles' large low-contrast defects it picked 0.1-0.5 and scored as well as or higher than 0.5 (README)")
    p.add_argument("--pick-tolerance", type=float, default=d["pick_tolerance"], metavar="MIOU",
                   help="best.pt holds the latest weights that validate within MIOU of the best validation MIoU so "
                        f"far (default {d['pick_tolerance']:g}: smaller differences are noise on a few validation "
                        "images; 0 = the strict best)")
    p.add_argument("--ema", type=float, default=d["ema"],
                   help=f"decay of the weight average that is validated and saved (default {d['ema']:g}; 0 = off)")
    p.add_argument("--bn-batches", type=int, default=d["bn_batches"], metavar="N",
                   help="recompute the batch-norm statistics of the saved weights over N training batches before "
                        f"each validation and save (default {d['bn_batches']}; 0 = keep the running averages)")
    p.add_argument("--freeze-bn", type=float, default=d["freeze_bn"], metavar="SHARE",
                   help="train the last SHARE of the run (0..1) with fixed batch-norm statistics, as at inference "
                        f"(default {d['freeze_bn']:g} = off)")
    p.add_argument("--grey-share", type=float, default=d["grey_share"], metavar="SHARE",
                   help=f"share of training crops shown grey (default {d['grey_share']:g}; 0 when colour is what "
                        "tells a defect apart)")
    p.add_argument("--prior", type=float, default=None,
                   help="defect probability a fresh network starts from, everywhere (default: PyTorch's "
                        "initialisation, about 0.5; 0.01 learns small real defects sooner)")
    p.add_argument("--fine-loss", type=int, default=d["fine_loss"], metavar="K",
                   help="compute the loss K times finer than the input scale (up to the photo's size: 3 at scale "
                        "0.3), on the logits up-sampled as prediction does: sharper outlines of small defects "
                        f"(default {d['fine_loss']} = at the input scale, on soft targets)")
    p.add_argument("--rotate", default=d["rotate"], choices=["auto", "on", "off"],
                   help="90-degree rotations of the training crops besides mirroring: auto (default) turns them "
                        "off when the images share a texture direction, such as the streaks of a ground surface")
    p.add_argument("--region-weight", type=float, default=None, metavar="GAMMA",
                   help="balance small and large defects in the loss: a defect of area A weighs (400 px / A)^GAMMA "
                        f"per pixel (default {d['region_weight']:g}: a region counts as sqrt(A); 0 = off)")


def parse_overrides(pairs) -> dict:
    """["base=16", "separable=nested"] -> {"base": 16, "separable": "nested"} (values parsed as JSON when they can be)."""
    import json

    from iunet_gui.core.errors import IunetError

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise IunetError(f"--model-config expects KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def config_from_args(args):
    """The TrainConfig of parsed `train` arguments: the recipe's settings, the options given winning."""
    from iunet_gui.training.trainer import recipe_config

    overrides = parse_overrides(args.model_config)
    return recipe_config(args.recipe, model_overrides=overrides, data=args.data, val=args.val, out=args.out, model=args.model,
                        preset=args.preset, in_channels=args.in_channels, epochs=args.epochs, batch_size=args.batch_size,
                        lr=args.lr, weight_decay=args.weight_decay, zoom=args.zoom, area_sampling=args.area_sampling,
                        crop=args.crop, scale=args.scale, crops_per_epoch=args.crops_per_epoch, loss=args.loss,
                        mixup=args.mixup, seed=args.seed, device=args.device, precision=args.precision,
                        threads=args.threads, time_limit_min=args.time_limit, resume=args.resume, init=args.init,
                        val_every=args.val_every, max_val_images=args.max_val_images, schedule=args.schedule,
                        pos_weight=args.pos_weight, focus=args.focus, threshold=args.threshold,
                        tune_threshold=args.tune_threshold, pick_tolerance=args.pick_tolerance, ema=args.ema,
                        prior=args.prior, region_weight=args.region_weight, fine_loss=args.fine_loss,
                        bn_batches=args.bn_batches, freeze_bn=args.freeze_bn, grey_share=args.grey_share,
                        rotate=args.rotate)


def run(args) -> int:
    import os

    from iunet_gui.cli._common import ProgressLine
    from iunet_gui.training.trainer import train

    cfg = config_from_args(args)
    line = ProgressLine("train")

    def progress(ev):
        if ev.stage in ("notice", "epoch", "done", "cancelled", "nan", "oom") and ev.message:
            print(f"{ev.stage}: {ev.message}", flush=True)
        elif ev.stage == "epoch":
            vals = "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in ev.metrics.items())
            print(f"epoch {ev.epoch}/{ev.epochs}  loss {ev.loss:.4f}  {vals}", flush=True)
        elif ev.stage == "train":
            line(ev)

    try:
        result = train(cfg, progress=progress)
    except ValueError as exc:  # unknown model / preset / loss
        from iunet_gui.core.errors import IunetError

        raise IunetError(str(exc)) from None
    if os.environ.get("RANK", "0") != "0":  # under torchrun only rank 0 reports
        return 0 if result.status in ("done", "time_limit") else 1
    print(f"{result.status}: {result.message}; validation MIoU of best.pt "
          f"{'-' if result.best_val_miou is None else f'{result.best_val_miou:.4f}'}; best checkpoint {result.best_checkpoint}")
    return 0 if result.status in ("done", "time_limit") else 1
