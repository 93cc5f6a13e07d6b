"""The training loop: defect-focused crops, augmentation and mix-up, Adam, validation on whole
images, checkpoints (best by validation MIoU, last), resume, cancel, time limit, DDP.

`train(TrainConfig(...), progress, cancel)` is what the CLI and the GUI call.
"""
from __future__ import annotations

import csv
import gc
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from iunet_gui.core.errors import IunetError
from iunet_gui.core.measure import DEFAULT_MERGE_GAP_PX
from iunet_gui.core.metrics import Evaluator
from iunet_gui.core.progress import CancelToken, ProgressEvent


DEFAULT_LR = 2e-3


@dataclass
class TrainConfig:
    data: str
    val: str | None = None
    out: str = "runs/iunet"
    model: str = "iunet"
    preset: str = "default"
    model_overrides: dict = field(default_factory=dict)
    in_channels: int = 3
    epochs: int = 100  # the paper's Table 1
    batch_size: int = 2
    lr: float | None = None  # None: DEFAULT_LR, a tenth of it with `init` (fine-tuning keeps more of what the
    # checkpoint knew; README). Paper: 1e-4 (see README: too slow for a CPU budget of minutes)
    weight_decay: float = 0.0  # > 0: AdamW with this decoupled weight decay on the convolution weights (not on
    # BN parameters and biases); 0 = Adam as the paper
    crop: int = 256
    scale: float = 0.3  # input scale: the network sees every image resized by this factor (0.3: a 256 px crop
    # holds 853 px of the photo, the network sees 3.3x the context; predictions are returned at full size). Stored
    # in the checkpoint. README: on 1280x1024 washers, 14 minutes, seeds 0 / 1: test MIoU 88.2 / 89.9 % at 0.3,
    # 86.3 / 84.3 at 0.35, 82.2 / 79.7 at 0.5, lower at 1.0 (thin scratches fade: length errors do not improve);
    # 1 for small images.
    crops_per_epoch: int | None = None  # default: 8 crops per training image
    focus: float = 0.6  # share of crops centred near a defect
    loss: str = "bce_dice"
    pos_weight: float = 3.0
    mixup: float = 0.25  # probability that a batch is mixed (only under the BCE part)
    mixup_alpha: float = 0.4
    photometric: float = 1.0
    area_sampling: float = 0.0  # k > 0: draw a training image with weight 1 + k * its share of defect pixels (0 =
    # every image alike; see README, magnetic tiles)
    zoom: float = 0.0  # > 0: show each training crop at a random scale in [1 / (1 + zoom), 1 + zoom] (0 = off;
    # not applied to items with a finer target, fine_loss > 1)
    rotate: str = "auto"  # 90-degree rotations among the training crops' symmetries: "on", "off", or "auto" =
    # off when the training images share a texture direction (ground magnetic tiles: vertical streaks), on
    # otherwise. README: magnetic tiles' "uneven" regions, 5 minutes, four levels: defect IoU 0.730 without
    # rotations, 0.313 with them
    grey_share: float = 0.5  # share of crops shown grey, so colour alone does not mark a defect (README: 0.5
    # against 0.3, four seeds: test MIoU higher in 3, both 14-minute targets met by 2 runs against 1)
    val_fraction: float = 0.2
    val_every: int = 1
    max_val_images: int = 12
    threshold: float = 0.5
    pick_tolerance: float = 0.01  # best.pt: the latest weights that validate within this much MIoU of the
    # best so far (README: with 12 validation images, differences this small are noise, and in eight runs
    # the end of the run scored as well as or better than the strict validation pick on the test set)
    tune_threshold: bool = False  # store the validation-best threshold in the checkpoint (see README:
    # on synthetic washers the threshold tuned on 12 validation images was 0.9 while 0.1-0.5 scored best on the test set)
    schedule: str = "cosine"  # "cosine" (warm-up, then decay to lr/100 by the last epoch or time limit) or "constant"
    warmup_steps: int = 30
    ema: float = 0.99  # validate and save an exponential moving average of the weights (0 = off)
    bn_batches: int = 60  # before validating and saving, recompute the BN statistics of the saved weights
    # over this many training batches (0 = keep the running averages of the last steps; README: +2 MIoU points)
    freeze_bn: float = 0.0  # train the last share of the run with fixed BN statistics (0 = off)
    fine_loss: int = 1  # > 1: compute the loss this many times finer than the input scale, on the predicting
    # head's logits up-sampled bilinearly as prediction does (1 = at the input scale, on soft targets). README: at
    # scale 0.3, factor 3 outlines pits and edge cracks better but found less grey oxidation: lower MIoU in 3 of 3 runs
    region_weight: float = 0.5  # gamma of region_weights (0 = off): balance small and large defects in the loss
    # (README: at input scale 0.3, two seeds: MIoU 88.5 / 90.2 % against 88.2 / 89.9 without, mean length error
    # 0.56 / 0.44 mm against 0.73 / 0.67; 1.0 scored lower than 0.5 on both; at full size it had cost 5 MIoU points)
    prior: float | None = None  # a fresh network starts out predicting this defect probability everywhere
    # (None = PyTorch's initialisation; README: 0.01 learns small real defects sooner)
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # "auto" (float16 mixed precision on CUDA, float32 elsewhere), "fp32", or "bf16"
    # (bfloat16 autocast on any device: on CPUs with AMX / AVX512-BF16 a step is ~15 % cheaper, an epoch ~11 %; README)
    threads: int | None = None
    time_limit_min: float | None = None
    resume: bool = False
    init: str | None = None  # start a new run from this checkpoint's weights (fine-tuning: its architecture, a fresh
    # optimizer and schedule, this run's data and settings); --resume continues a run instead
    limit_images: int | None = None


@dataclass
class TrainResult:
    status: str  # "done", "time_limit", "cancelled", "nan", "oom", "error"
    message: str
    run_dir: Path
    best_checkpoint: Path | None
    last_checkpoint: Path | None
    epochs_done: int
    best_val_miou: float | None
    history: list[dict]
    seconds: float


def effective_lr(cfg: "TrainConfig") -> float:
    """The learning rate a run uses: the one given, else DEFAULT_LR (a tenth of it when fine-tuning)."""
    if cfg.lr is not None:
        return cfg.lr
    return DEFAULT_LR / (10 if cfg.init else 1)


# Named training recipes: settings measured together (README, Performance). "washers", TrainConfig's own
# defaults, is for photos of parts with small defects (synthetic washers: test MIoU 90.1-91.7 % in 14 minutes on
# 2 CPU cores). "tiles" is the magnetic-tile benchmark's recipe for small textured images whose defects are often
# large, low-contrast regions: IU-Net at four levels and base 16 (the `accurate` widths) at input scale 0.35 on
# 128 px crops (640 an epoch), lr 5e-4, weight decay 0.05, area sampling 4, 36 epochs, the threshold tuned on 20
# validation images; defect IoU 0.774 / 0.773 / 0.475 / 0.778 / 0.807 / 0.728 / 0.759 over training seeds 0-6 (mean
# 0.728; U-Net trained so: 0.578 / 0.596), ~50 minutes.
RECIPES: dict[str, dict] = {
    "washers": {},
    "tiles": dict(model_overrides={"depth": 4, "base": 16}, scale=0.35, crop=128, prior=0.01, region_weight=0.0,
                  weight_decay=0.05, area_sampling=4.0, lr=5e-4, epochs=36, crops_per_epoch=640, tune_threshold=True,
                  max_val_images=20),
}


def recipe_config(recipe: str = "washers", **settings) -> "TrainConfig":
    """TrainConfig of a named recipe (RECIPES). `settings` win over the recipe's, except those that are None
    (not given); `model_overrides` are merged over the recipe's. With `init` (fine-tuning) and no rate given,
    a recipe's rate is divided by ten, as the default rate is (effective_lr)."""
    if recipe not in RECIPES:
        raise IunetError(f"unknown recipe {recipe!r}; choose one of {', '.join(RECIPES)}")
    given = {k: v for k, v in settings.items() if v is not None}
    merged = {**RECIPES[recipe], **given}
    merged["model_overrides"] = {**RECIPES[recipe].get("model_overrides", {}), **(given.get("model_overrides") or {})}
    if merged.get("init") and "lr" in RECIPES[recipe] and "lr" not in given:
        merged["lr"] = RECIPES[recipe]["lr"] / 10  # fine-tuning: a tenth of the rate, as effective_lr does
    return TrainConfig(**merged)


def _dist_info():
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    return world, rank


def train(cfg: TrainConfig, progress=None, cancel: CancelToken | None = None) -> TrainResult:
    import torch
    import torch.nn.functional as F

    from iunet_gui.inference.preprocess import flip_mean, prepare_input, rescale_image, upscale_logits
    from iunet_gui.inference.runners import forward_padded, pick_device
    from iunet_gui.models.checkpoint import load_checkpoint, save_checkpoint
    from iunet_gui.models.registry import build_preset
    from iunet_gui.training.augment import (DIRECTED_GRADIENT_RATIO, geometric, mixup, photometric, region_weights,
                                            texture_direction)
    from iunet_gui.training.data import CropSampler, data_summary, load_items, scaled_items, split_items
    from iunet_gui.training.losses import segmentation_loss

    t_start = time.perf_counter()
    cfg = replace(cfg, lr=effective_lr(cfg))  # recorded in config.json and the checkpoint as used
    progress = progress or (lambda ev: None)
    cancel = cancel or CancelToken()
    world, rank = _dist_info()
    distributed = world > 1
    if cfg.batch_size < 1 or cfg.epochs < 1 or cfg.crop < 16 or cfg.lr <= 0:
        raise IunetError("batch size and epochs must be >= 1, crop >= 16 and the learning rate > 0")
    if not (0 <= cfg.focus <= 1 and 0 <= cfg.mixup <= 1 and 0 < cfg.threshold < 1 and cfg.pos_weight > 0):
        raise IunetError("focus and mixup must be in [0, 1], the threshold in (0, 1) and pos_weight > 0")
    if cfg.prior is not None and not 0 < cfg.prior < 1:
        raise IunetError("prior must be in (0, 1)")
    if cfg.region_weight < 0 or cfg.area_sampling < 0:
        raise IunetError("region_weight and area_sampling must be >= 0 (0 = off)")
    if not 0 <= cfg.pick_tolerance < 1:
        raise IunetError("pick_tolerance must be in [0, 1)")
    if not 0 <= cfg.ema < 1:
        raise IunetError("ema must be in [0, 1)")
    if cfg.bn_batches < 0 or not 0 <= cfg.freeze_bn < 1 or not 0 <= cfg.grey_share <= 0.5:
        raise IunetError("bn_batches must be >= 0 (0 = off), freeze_bn in [0, 1) and grey_share in [0, 0.5]")
    if int(cfg.fine_loss) != cfg.fine_loss or cfg.fine_loss < 1 or cfg.fine_loss * cfg.scale > 1 + 1e-6:
        raise IunetError(f"fine_loss must be a whole factor from 1 up to 1 / scale, the photo's own size "
                         f"(got {cfg.fine_loss} at scale {cfg.scale:g})")
    if not 0.1 <= cfg.scale <= 2:
        raise IunetError(f"scale must be in [0.1, 2] (got {cfg.scale:g})")
    if cfg.precision not in ("auto", "fp32", "bf16"):
        raise IunetError(f"unknown precision {cfg.precision!r} (auto, fp32, bf16)")
    if cfg.rotate not in ("auto", "on", "off"):
        raise IunetError(f"unknown rotate setting {cfg.rotate!r} (auto, on, off)")
    if cfg.schedule not in ("cosine", "constant"):
        raise IunetError(f"unknown learning-rate schedule {cfg.schedule!r} (cosine, constant)")
    if cfg.init and cfg.resume:
        raise IunetError("init starts a new run from a checkpoint's weights and resume continues this run's "
                         "last.pt: use one of them")
    init_ck = None
    if cfg.init:  # read before the data, so a wrong checkpoint fails at once
        init_ck = load_checkpoint(cfg.init)
        if init_ck.arch != cfg.model:
            raise IunetError(f"{cfg.init}: holds a {init_ck.arch}, not a {cfg.model}: train with --model {init_ck.arch}")
        if init_ck.in_channels != cfg.in_channels:
            raise IunetError(f"{cfg.init}: takes {init_ck.in_channels}-channel input, not {cfg.in_channels}: "
                             f"train with --in-channels {init_ck.in_channels}")
    if cfg.threads:
        torch.set_num_threads(int(cfg.threads))
    device, notice = pick_device(cfg.device)
    if distributed:
        import torch.distributed as dist

        backend = "nccl" if device.type == "cuda" else "gloo"
        if not dist.is_initialized():
            dist.init_process_group(backend)
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
    if notice and rank == 0:
        progress(ProgressEvent("notice", message=notice))
    if rank != 0:
        progress = lambda ev: None  # noqa: E731 - one voice under torchrun: rank 0 reports
    run_dir = Path(cfg.out)
    if rank == 0:
        run_dir.mkdir(parents=True, exist_ok=True)

    # -- data ------------------------------------------------------------------------------------
    progress(ProgressEvent("load", message=f"loading {cfg.data}"))

    def load_progress(ev):
        progress(ev)
        if cancel.cancelled:
            raise _Stop("cancelled", "training cancelled while loading the data")

    try:
        items = load_items(cfg.data, limit=cfg.limit_images, progress=load_progress)
        val_loaded = load_items(cfg.val, progress=load_progress) if cfg.val else None
    except _Stop as stop:
        progress(ProgressEvent(stop.status, message=stop.message))
        return TrainResult(stop.status, stop.message, run_dir, None, None, 0, None, [],
                           time.perf_counter() - t_start)
    if cfg.val:
        train_items, val_items = items, val_loaded
    else:
        train_items, val_items = split_items(items, cfg.val_fraction, cfg.seed, cfg.max_val_images)
    val_items = val_items[: cfg.max_val_images] if cfg.max_val_images else val_items  # of a --val folder
    summary = data_summary(train_items, val_items, cfg.data)
    fine = int(cfg.fine_loss)
    train_items = scaled_items(train_items, cfg.scale, fine)  # as the network sees them; validation is at full size
    del items, val_loaded  # the full-size training images are not kept beside their scaled copies
    direction = texture_direction(it.image for it in train_items)
    rotate = cfg.rotate == "on" or (cfg.rotate == "auto" and abs(direction) <= math.log(DIRECTED_GRADIENT_RATIO))
    if cfg.rotate == "auto" and not rotate:
        progress(ProgressEvent("notice", message=(
            f"the training images share a texture direction (streaks run "
            f"{'top to bottom' if direction > 0 else 'left to right'}, gradients {math.exp(abs(direction)):.2f}x "
            f"stronger across them): training crops are mirrored but not rotated (--rotate on to rotate them too)")))
    sampler = CropSampler(train_items, cfg.crop, cfg.focus, seed=cfg.seed * 1000 + rank, zoom=cfg.zoom,
                          area_sampling=cfg.area_sampling)
    rng = np.random.default_rng(cfg.seed * 7919 + rank)
    torch.manual_seed(cfg.seed)
    crops_per_epoch = cfg.crops_per_epoch or 8 * len(train_items)
    steps_per_epoch = max(1, math.ceil(crops_per_epoch / (cfg.batch_size * world)))

    # -- model, optimizer, resume ----------------------------------------------------------------
    model, model_cfg = build_preset(cfg.model, cfg.preset, cfg.in_channels, **cfg.model_overrides)
    optimizer_state, start_epoch, best_miou, history, step0, resumed_ema = None, 0, None, [], 0, None
    top_miou = None  # the highest validation MIoU seen; best_miou is that of the weights in best.pt
    last_path, best_path = run_dir / "last.pt", run_dir / "best.pt"
    if cfg.resume:
        if not last_path.exists():
            raise IunetError(f"{run_dir}: nothing to resume (no last.pt)")
        ck = load_checkpoint(last_path)
        if ck.arch != cfg.model:
            raise IunetError(f"{last_path}: holds a {ck.arch}, not a {cfg.model}")
        trained_scale = float(ck.meta.get("input_scale", 1.0))
        if trained_scale != cfg.scale:
            raise IunetError(f"{last_path}: was trained at input scale {trained_scale:g}, "
                             f"not {cfg.scale:g}: resume with --scale {trained_scale:g}")
        trained_wd = float((ck.meta.get("train_config") or {}).get("weight_decay", 0.0))
        if trained_wd != cfg.weight_decay:  # Adam and AdamW keep their moments in different parameter groups
            raise IunetError(f"{last_path}: was trained with weight decay {trained_wd:g}, "
                             f"not {cfg.weight_decay:g}: resume with --weight-decay {trained_wd:g}")
        model, model_cfg = ck.model, ck.config
        optimizer_state = ck.optimizer_state
        ts = ck.trainer_state or {}
        resumed_ema = ck.model if ts.get("raw_state") is not None else None
        if resumed_ema is not None:  # the checkpoint's weights are the average; training resumes the raw ones
            import copy

            model = copy.deepcopy(ck.model)
            model.load_state_dict(ts["raw_state"])
        start_epoch, best_miou = int(ts.get("epoch", 0)), ts.get("best_val_miou")
        top_miou = ts.get("top_val_miou", best_miou)
        history = list(ts.get("history", []))
        step0 = int(ts.get("global_step", 0))
        if ts.get("rng"):
            rng = np.random.default_rng(int(ts["rng"]) + rank)
            sampler.rng = np.random.default_rng(int(ts["rng"]) * 3 + rank)
    if init_ck is not None:
        init_scale = float(init_ck.meta.get("input_scale", 1.0))
        what = f"starting from the weights of {cfg.init} ({init_ck.arch}"
        if dict(model_cfg) != dict(init_ck.config):
            what += "; its architecture, not the one the preset and model settings given describe"
        model, model_cfg = init_ck.model, init_ck.config
        if abs(init_scale - cfg.scale) > 1e-9:
            what += f"; it was trained at input scale {init_scale:g}, this run uses {cfg.scale:g}"
        progress(ProgressEvent("notice", message=what + ")"))
    if not cfg.resume and init_ck is None and cfg.prior:
        set_output_prior(model, cfg.prior)
    model = model.to(device)
    if device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)
    net = model
    if distributed:
        from torch.nn.parallel import DistributedDataParallel as DDP

        net = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)
    if cfg.weight_decay > 0:  # decay the convolution weights only: BN scales and biases keep their size
        decayed = [p for p in model.parameters() if p.ndim > 1]
        kept = [p for p in model.parameters() if p.ndim <= 1]
        opt = torch.optim.AdamW([{"params": decayed, "weight_decay": cfg.weight_decay},
                                 {"params": kept, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.999))
    else:
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.9, 0.999))
    if optimizer_state:
        opt.load_state_dict(optimizer_state)
    use_amp = cfg.precision == "bf16" or (cfg.precision == "auto" and device.type == "cuda")
    amp_dtype = torch.bfloat16 if cfg.precision == "bf16" else torch.float16
    scaler = torch.amp.GradScaler("cuda") if use_amp and amp_dtype == torch.float16 else None
    if getattr(model, "deep_supervision", False):
        model.all_heads = True  # forward() returns every head while training
    ema_model = None
    if cfg.ema:
        import copy

        ema_model = copy.deepcopy(model)
        if resumed_ema is not None:
            ema_model.load_state_dict(resumed_ema.state_dict())
        ema_model.eval().requires_grad_(False)
    eval_model = ema_model if ema_model is not None else model

    def update_ema(step: int) -> None:
        """ema <- d ema + (1 - d) weights, d ramping up from 0.5 so early weights fade fast."""
        d = min(cfg.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for e, w in zip(ema_model.parameters(), model.parameters()):
                e.lerp_(w, 1 - d)
            for e, b in zip(ema_model.buffers(), model.buffers()):
                e.copy_(b)
    summary["texture_direction"], summary["rotate"] = round(direction, 3), rotate
    meta = {"data": summary, "train_config": asdict(cfg), "threshold": cfg.threshold, "input_scale": cfg.scale}
    if cfg.resume and ts.get("threshold") is not None:
        meta["threshold"] = float(ts["threshold"])
    if rank == 0:
        from iunet_gui.core.atomic import atomic_write_json

        atomic_write_json(run_dir / "config.json", {"train": asdict(cfg), "model": {"arch": cfg.model, **model_cfg},
                                                    "data": {k: v for k, v in summary.items() if "names" not in k}})

    def augmented_crop(crops, r):
        """A training crop as the network sees it: (normalised, augmented image (C, H, W), its mask)."""
        img, m = crops.sample()
        img, m = geometric(img, m, r, rotate)
        return photometric(prepare_input(img, cfg.in_channels), r, cfg.photometric, cfg.grey_share), m

    bn_state = {"step": None, "sampler": None, "frozen": False}

    def bn_layers(net) -> list:
        return [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]

    def recompute_bn(target) -> bool:
        """Set the BN statistics of `target` to their average over `bn_batches` training batches
        (torch's update_bn), drawn as in training (focused crops, augmentation, no mix-up) by a
        sampler of their own, the same crops every time, so the training draw stays as it was.
        False (old statistics kept) when cancelled."""
        from torch.optim.swa_utils import update_bn

        bns = bn_layers(target)
        if not bns:
            return True
        if bn_state["sampler"] is None:
            bn_state["sampler"] = CropSampler(train_items, cfg.crop, cfg.focus, seed=cfg.seed * 1000 + 999, zoom=cfg.zoom,
                                              area_sampling=cfg.area_sampling)
        sampler_bn = bn_state["sampler"]
        sampler_bn.rng = np.random.default_rng(cfg.seed * 1000 + 999)
        brng = np.random.default_rng(cfg.seed * 7919 + 999)
        before = [({k: v.clone() for k, v in m.state_dict().items()}, m.training) for m in bns]

        def batches():
            for _ in range(cfg.bn_batches or 60):  # freezing needs statistics even when refresh is off
                if cancel.cancelled and not distributed:
                    return
                x = torch.from_numpy(np.stack([augmented_crop(sampler_bn, brng)[0] for _ in range(cfg.batch_size)]))
                yield x.to(device, memory_format=torch.channels_last) if device.type == "cpu" else x.to(device)

        with torch.no_grad():
            update_bn(batches(), target)
        for m, (state, mode) in zip(bns, before):
            m.train(mode)  # update_bn sets the whole network's mode; a frozen BN layer stays frozen
            if cancel.cancelled and not distributed:
                m.load_state_dict(state)  # cancelled part-way: keep the old statistics
        return not (cancel.cancelled and not distributed)

    def refresh_bn() -> None:
        """Recompute the BN statistics of the weights that are validated and saved. The running
        averages of training (momentum 0.1 at batch 2) follow the last ~10 batches of the live
        weights, not the averaged ones, and swing with what those crops held. Measured: the same
        weights score 2 MIoU points more with statistics over 60 batches (README)."""
        if cfg.bn_batches and bn_state["step"] != global_step and recompute_bn(eval_model):
            bn_state["step"] = global_step

    def train_mode() -> None:
        """The live network in training mode; its BN layers stay on their fixed statistics once frozen."""
        model.train()
        if bn_state["frozen"]:
            for m in bn_layers(model):
                m.eval()

    def maybe_freeze_bn(step: int) -> None:
        """For the last `freeze_bn` share of the run, train with the BN statistics fixed (recomputed
        once), as the network is used at inference, instead of batch statistics of 2 crops."""
        if cfg.freeze_bn and not bn_state["frozen"] and run_fraction(step) >= 1 - cfg.freeze_bn:
            if recompute_bn(model):
                bn_state["frozen"] = True
                train_mode()
                progress(ProgressEvent("notice", message=f"batch-norm statistics frozen at step {step}"))

    def save(path: Path, epoch: int):
        if rank != 0:
            return
        refresh_bn()
        state = {"epoch": epoch, "best_val_miou": best_miou, "top_val_miou": top_miou, "history": history,
                 "rng": int(rng.integers(2 ** 31)), "global_step": global_step, "threshold": meta["threshold"]}
        if ema_model is not None:  # the checkpoint holds the averaged weights; resume needs the raw ones
            state["raw_state"] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        save_checkpoint(path, eval_model, arch=cfg.model, config=model_cfg, classes=["defect"], meta=meta,
                        optimizer_state=opt.state_dict(), trainer_state=state)

    def run_padded(x: np.ndarray) -> np.ndarray:
        """Logits of the eval model for one (C, H, W) input, padded to the network's multiple."""
        return forward_padded(eval_model, x, device, getattr(model, "multiple", 1))

    def validate() -> dict:
        """Whole validation images; with `tune_threshold`, scored at the threshold (of a small grid)
        that gives the best pixel MIoU, which is then the checkpoint's threshold, on the mean logits over
        each image and its three flips, as the Predictor computes them (tta), so the stored threshold is
        the one prediction wants (one pass and the flip mean preferred 0.5 and 0.25 in a tile run)."""
        from iunet_gui.core.metrics import confusion, scores

        refresh_bn()
        eval_model.eval()
        grid = sorted({cfg.threshold, *(THRESHOLDS if cfg.tune_threshold else ())})
        cuts = np.log(np.array(grid) / (1 - np.array(grid)))  # thresholds on the logits
        conf = np.zeros((len(grid), 4), np.int64)
        logits = []
        with torch.inference_mode():
            for it in val_items:
                if cancel.cancelled and not distributed:
                    raise _Stop("cancelled", "training cancelled")
                x = prepare_input(rescale_image(it.image, cfg.scale), cfg.in_channels)
                # with tune_threshold, as `predict` scores: the mean logits over the image and its three
                # flips, each padded as the Predictor pads it
                z = flip_mean(run_padded, x, hw_axes=(1, 2)) if cfg.tune_threshold else run_padded(x)
                z = upscale_logits(z, *it.mask.shape)
                logits.append(z)
                for k, c in enumerate(cuts):
                    conf[k] += confusion(z > c, it.mask)
        train_mode()
        k = int(np.argmax([scores(*c)["miou"] for c in conf]))
        ev = Evaluator(merge_gap_px=DEFAULT_MERGE_GAP_PX)
        for it, z in zip(val_items, logits):
            ev.add(it.name, z > cuts[k], it.mask, it.mm_per_px)
        s = ev.summary()
        return {"val_miou": s["miou"], "val_iou_defect": s["iou_defect"], "val_dice": s["dice"],
                "val_accuracy": s["accuracy"], "val_length_error_mean": s["length_error_mean"],
                "val_threshold": float(grid[k])}

    def picks(val_miou: float) -> bool:
        """Whether weights that validate at `val_miou` become best.pt (see pick_best); on True,
        best_miou and the checkpoint threshold follow them (history[-1] is their row)."""
        nonlocal best_miou, top_miou
        take, top_miou = pick_best(top_miou, val_miou, cfg.pick_tolerance)
        if take:
            best_miou, meta["threshold"] = val_miou, history[-1]["val_threshold"]
        return take

    steps_total = max(1, (cfg.epochs - start_epoch) * steps_per_epoch)
    t_sched = time.perf_counter()

    def run_fraction(step: int) -> float:
        """How far the run is, 0..1: by steps, or by the time limit if that comes first."""
        frac = (step - step0) / steps_total
        if cfg.time_limit_min:
            frac = max(frac, (time.perf_counter() - t_sched) / (cfg.time_limit_min * 60))
        return min(max(frac, 0.0), 1.0)

    def set_lr(step: int) -> float:
        """Linear warm-up, then cosine decay to lr/100 at the last step or at the time limit."""
        lr = cfg.lr
        if cfg.schedule == "cosine":
            frac = run_fraction(step)
            lr = cfg.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * frac)))
        if step < cfg.warmup_steps:
            lr *= (step + 1) / cfg.warmup_steps
        for g in opt.param_groups:
            g["lr"] = lr
        return lr

    def region_weights_at(m, f):
        """region_weights of a crop's target, computed on the input's pixels (a region's area A in input
        pixels, as without the finer target; 20x cheaper than on the finer grid) and repeated to it."""
        if f == 1:
            return region_weights(m, cfg.region_weight)
        h, w = m.shape[0] // f, m.shape[1] // f
        coarse = m.reshape(h, f, w, f).max(axis=(1, 3))
        return np.repeat(np.repeat(region_weights(coarse, cfg.region_weight), f, axis=0), f, axis=1)

    def batch():
        xs, ys, ws = [], [], []
        for _ in range(cfg.batch_size):
            x1, m = augmented_crop(sampler, rng)
            xs.append(x1)
            ys.append(m[None].astype(np.float32))
            if cfg.region_weight:
                ws.append(region_weights_at(m, fine)[None])
        x, y = np.stack(xs), np.stack(ys)
        w = np.stack(ws) if ws else None
        mixed = cfg.batch_size > 1 and cfg.mixup > 0 and rng.random() < cfg.mixup
        if mixed:
            if w is None:
                x, y, _ = mixup(x, y, rng, cfg.mixup_alpha)
            else:
                x, y, _, w = mixup(x, y, rng, cfg.mixup_alpha, w=w)
        return torch.from_numpy(x), torch.from_numpy(y), mixed, (torch.from_numpy(w) if w is not None else None)

    # -- loop ------------------------------------------------------------------------------------
    status, message = "done", ""
    epochs_done = start_epoch
    deadline = t_start + cfg.time_limit_min * 60 if cfg.time_limit_min else None
    metrics_path = run_dir / "metrics.csv"
    seen, t_loop = 0, time.perf_counter()
    global_step, lr_now = step0, cfg.lr
    failed = True  # until the loop ends by itself or by a stop every process agreed on
    total_steps = (cfg.epochs - start_epoch) * steps_per_epoch
    losses: list[float] = []  # this epoch's
    model.train()
    try:
        for epoch in range(start_epoch + 1, cfg.epochs + 1):
            losses = []
            for step in range(1, steps_per_epoch + 1):
                if not distributed:  # under torchrun the processes agree on stopping below
                    _check_stop(_stop_code(cancel, deadline), cfg)
                maybe_freeze_bn(global_step)
                x, y, mixed, wmap = batch()
                lr_now = set_lr(global_step)
                x, y = x.to(device), y.to(device)
                wmap = wmap.to(device) if wmap is not None else None
                if device.type == "cpu":
                    x = x.contiguous(memory_format=torch.channels_last)
                with torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=use_amp):
                    outs = net(x)  # a list of every head's logits under deep supervision
                outs = outs if isinstance(outs, (list, tuple)) else [outs]
                if fine > 1:
                    # The head that predicts: its logits up-sampled as prediction does, against the finer
                    # target. Deep-supervision heads: the soft target at the input scale (the finer one
                    # pooled; 3x cheaper than up-sampling every head).
                    fine_out = F.interpolate(outs[-1].float(), scale_factor=fine, mode="bilinear", align_corners=False)
                    loss = segmentation_loss(fine_out, y, cfg.loss, cfg.pos_weight, mixed, wmap)
                    if len(outs) > 1:  # the pooled targets only where there are other heads to score
                        y0 = F.avg_pool2d(y, fine)
                        w0 = F.avg_pool2d(wmap, fine) if wmap is not None else None
                        loss = loss + sum(segmentation_loss(o.float(), y0, cfg.loss, cfg.pos_weight, mixed, w0)
                                          for o in outs[:-1])
                    loss = loss / len(outs)
                else:
                    loss = sum(segmentation_loss(o.float(), y, cfg.loss, cfg.pos_weight, mixed, wmap)
                               for o in outs) / len(outs)
                code = _NAN if not torch.isfinite(loss) else 0
                if distributed:  # one small all-reduce per step: every process stops at the same step
                    flag = torch.tensor([max(code, _stop_code(cancel, deadline))], device=device)
                    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
                    code = int(flag.item())
                if code == _NAN:
                    what = loss.item() if not torch.isfinite(loss) else "nan in another process"
                    raise _Stop("nan", f"the loss became {what} at epoch {epoch}, step {step}; "
                                       f"the last good checkpoint is kept (try a lower --lr)")
                _check_stop(code, cfg)
                opt.zero_grad(set_to_none=True)
                if scaler:
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()
                else:
                    loss.backward()
                    opt.step()
                if ema_model is not None:
                    update_ema(global_step)
                losses.append(float(loss.item()))
                global_step += 1
                seen += cfg.batch_size * world
                done = (epoch - start_epoch - 1) * steps_per_epoch + step
                elapsed = time.perf_counter() - t_loop
                ips = seen / max(elapsed, 1e-9)
                eta = elapsed / done * (total_steps - done)
                if deadline:
                    eta = min(eta, max(deadline - time.perf_counter(), 0))
                progress(ProgressEvent("train", step=step, steps=steps_per_epoch, epoch=epoch, epochs=cfg.epochs,
                                       loss=float(np.mean(losses[-20:])), images_per_s=ips, eta_s=eta))
            epochs_done = epoch
            row = {"epoch": epoch, "train_loss": float(np.mean(losses)), "lr": lr_now,
                   "seconds": time.perf_counter() - t_start}
            if rank == 0 and val_items and (epoch % cfg.val_every == 0 or epoch == cfg.epochs):
                progress(ProgressEvent("validate", epoch=epoch, epochs=cfg.epochs, message="validating"))
                row.update(validate())
                history.append(row)
                if picks(row["val_miou"]):
                    save(best_path, epoch)
            else:
                history.append(row)
            if rank == 0:
                _append_csv(metrics_path, row)
                save(last_path, epoch)
                if not val_items:
                    save(best_path, epoch)
            progress(ProgressEvent("epoch", epoch=epoch, epochs=cfg.epochs, loss=row["train_loss"],
                                   metrics={k: v for k, v in row.items()
                                            if k.startswith("val_") and isinstance(v, (int, float))}))
    except _Stop as stop:
        status, message = stop.status, stop.message
        if rank == 0 and status in ("cancelled", "time_limit"):
            # The weights are good: keep the unfinished epoch's progress (validated unless no step was
            # trained since the last validation: the limit can pass while an epoch validates).
            trained_since = bool(losses) or not history or "val_miou" not in history[-1]
            if status == "time_limit" and val_items and trained_since:
                row = {"epoch": epochs_done + 1, "partial": True, "seconds": time.perf_counter() - t_start,
                       **validate()}
                history.append(row)
                _append_csv(metrics_path, row)
                if picks(row["val_miou"]):
                    save(best_path, epochs_done)
            save(last_path, epochs_done)
            if not best_path.exists():
                save(best_path, epochs_done)
        failed = False  # every process stopped at the same step (the stop codes are all-reduced)
    except (RuntimeError, MemoryError) as exc:
        text = str(exc).lower()
        if isinstance(exc, MemoryError) or "out of memory" in text or "can't allocate memory" in text:
            status, message = "oom", (f"out of memory at crop {cfg.crop}, batch {cfg.batch_size}: "
                                      f"lower --crop or --batch-size; the last good checkpoint is kept")
        else:
            raise
    else:
        failed = False
    finally:
        if distributed:
            import torch.distributed as dist

            if dist.is_initialized():
                if not failed:
                    # Every process waits for rank 0's last validation and saves, then all leave
                    # together. After an error the others may be in a collective, so no barrier
                    # then: torchrun ends them.
                    dist.barrier()
                # DDP's reducer keeps the group and its gloo threads alive (reference cycles) past
                # destroy_process_group until the interpreter's final collection, where a thread
                # still running aborts the process (SIGABRT, "terminate called without an active
                # exception": 5 of 40 two-process runs of a DDP script; 0 of 40 when the wrapper is
                # collected first, as here).
                net = None
                gc.collect()
                dist.destroy_process_group()
    seconds = time.perf_counter() - t_start
    if not message:
        message = f"trained {epochs_done} epochs in {seconds / 60:.1f} min"
    progress(ProgressEvent("done" if status in ("done", "time_limit") else status, message=message,
                           metrics={"best_val_miou": best_miou} if best_miou is not None else {}))
    return TrainResult(status, message, run_dir, best_path if best_path.exists() else None,
                       last_path if last_path.exists() else None, epochs_done, best_miou, history, seconds)


def set_output_prior(model, prior: float) -> int:
    """Start the output logits at log(prior / (1 - prior)) (Lin et al. 2017, focal loss): with
    defects a fraction of a percent of the pixels, a network that starts at p = 0.5 spends its
    first steps only learning to say "background". Sets the bias of every 1-channel output
    convolution (each deep-supervision head); a network whose logit is a sum of score maps names
    the one that carries the prior in `prior_heads` (FCN-8s), the others start at 0. Returns how
    many biases were set to the prior."""
    import torch
    from torch import nn

    named = getattr(model, "prior_heads", None)
    heads = [(n, m) for n, m in model.named_modules()
             if isinstance(m, nn.Conv2d) and m.out_channels == 1 and m.bias is not None]
    logit = math.log(prior / (1 - prior))
    count = 0
    with torch.no_grad():
        for name, h in heads:
            on = named is None or name in named
            h.bias.fill_(logit if on else 0.0)
            count += on
    return count


def pick_best(top: float | None, val_miou: float, tolerance: float) -> tuple[bool, float]:
    """(take, new top): weights that validate within `tolerance` of the highest validation MIoU
    so far (`top`) replace best.pt, so that of weights the validation cannot tell apart the ones
    trained longer win; tolerance 0 is the strict best."""
    take = top is None or val_miou >= top - tolerance
    return take, val_miou if top is None else max(top, val_miou)


THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # tried on the validation images (README:
# on the magnetic tiles the validation-best threshold was 0.1-0.5, and scored 0.46-0.62 on the test tiles against
# 0.37-0.50 at 0.5: large low-contrast regions come out at probabilities of 0.1-0.5)


_CANCEL, _TIME, _NAN = 1, 2, 3


def _stop_code(cancel: CancelToken, deadline: float | None) -> int:
    if cancel.cancelled:
        return _CANCEL
    if deadline and time.perf_counter() > deadline:
        return _TIME
    return 0


def _check_stop(code: int, cfg: TrainConfig) -> None:
    if code == _CANCEL:
        raise _Stop("cancelled", "training cancelled")
    if code == _TIME:
        raise _Stop("time_limit", f"time limit of {cfg.time_limit_min:g} min reached")


class _Stop(Exception):
    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _append_csv(path: Path, row: dict) -> None:
    cols = ["epoch", "train_loss", "val_miou", "val_iou_defect", "val_dice", "val_accuracy",
            "val_length_error_mean", "val_threshold", "lr", "seconds", "partial"]
    new = not path.exists()
    with open(path, "a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        if new:
            w.writeheader()
        w.writerow(row)
        fh.flush()
        os.fsync(fh.fileno())
