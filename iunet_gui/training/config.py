"""A training run's settings (TrainConfig), their checks, and a setting parsed from text
(`train --set KEY=VALUE`). No torch here: the CLI and the window read these at start."""
from __future__ import annotations

import difflib
import json
import typing
from dataclasses import dataclass, field, fields

from iunet_gui.core.errors import IunetError

DEFAULT_LR = 2e-3


@dataclass
class TrainConfig:
    data: str
    val: str | None = None  # a separate validation folder; None: a split of `data`
    out: str = "runs/iunet"
    model: str = "iunet"
    preset: str = "default"
    model_overrides: dict = field(default_factory=dict)
    in_channels: int = 3
    epochs: int = 100  # the paper's Table 1
    batch_size: int = 2
    lr: float | None = None  # None: DEFAULT_LR, a tenth of it with `init` (see effective_lr)
    weight_decay: float = 0.0  # > 0: AdamW with this decoupled decay on the convolution weights; 0 = Adam
    crop: int = 256  # training crop size, in pixels at the input scale
    scale: float = 0.3  # input scale: the network sees every image resized by this factor; predictions are
    # returned at full size. Stored in the checkpoint; 1 for small images
    crops_per_epoch: int | None = None  # None: 8 crops per training image
    focus: float = 0.6  # share of crops centred near a defect
    loss: str = "bce_dice"
    pos_weight: float = 3.0
    mixup: float = 0.25  # probability that a batch is mixed (only under the BCE part)
    mixup_alpha: float = 0.4
    photometric: float = 1.0
    area_sampling: float = 0.0  # k > 0: draw a training image with weight 1 + k * its share of defect pixels
    zoom: float = 0.0  # > 0: show each training crop at a random scale in [1 / (1 + zoom), 1 + zoom]; not applied
    # with fine_loss > 1
    rotate: str = "auto"  # 90-degree rotations among the crops' symmetries: "on", "off", or "auto" = off when the
    # training images share a texture direction (e.g. the streaks of a ground surface)
    grey_share: float = 0.5  # share of crops shown grey, so colour alone does not mark a defect
    polarity: float = 0.0  # share of crops whose fine detail is inverted (bright lines dark and back), to teach
    # bright defects from dark ones (training.augment.polarity); off: at 0.5 the washers lost MIoU (docs/benchmarks.md)
    defect_polarity: float = 0.0  # share of crops whose labelled defects alone have their fine detail inverted, so
    # each kind is seen bright and dark while the unlabelled metal keeps its own look (augment.polarity `where`)
    val_fraction: float = 0.2
    val_every: int = 1
    max_val_images: int = 12  # the rest of the validation share is trained on
    threshold: float = 0.5
    pick_tolerance: float = 0.01  # best.pt: the latest weights that validate within this much MIoU of the best
    tune_threshold: bool = False  # store the threshold of THRESHOLDS that scores best on the validation images
    threshold_rule: str = "miou"  # what "best" is: "miou" (pixel MIoU) or "recall" (the most labelled defects found
    # with at most max_false_alarms false alarms per validation image; validation.pick_threshold)
    max_false_alarms: float = 0.1
    schedule: str = "cosine"  # "cosine" (warm-up, then decay to lr/100 by the last epoch or time limit) or "constant"
    warmup_steps: int = 30
    ema: float = 0.99  # decay of the weight average that is validated and saved (0 = off)
    bn_batches: int = 60  # recompute the BN statistics of the saved weights over this many training batches before
    # validating and saving (0 = keep the running averages of the last steps)
    freeze_bn: float = 0.0  # train the last share of the run with fixed BN statistics (0 = off)
    fine_loss: int = 1  # > 1: the loss this many times finer than the input scale, on the predicting head's logits
    # up-sampled bilinearly as prediction does (1 = at the input scale, on soft targets)
    region_weight: float = 0.5  # gamma of region_weights: balance small and large defects in the loss (0 = off)
    prior: float | None = None  # a fresh network starts out predicting this defect probability everywhere
    # (None = PyTorch's initialisation)
    multiclass: bool = False  # one output per defect kind (the project's class list; image + mask pairs: the
    # folders the images lie in) and background, instead of one defect-vs-background output
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # "auto" (float16 mixed precision on CUDA, float32 elsewhere), "fp32", or "bf16"
    threads: int | None = None
    time_limit_min: float | None = None  # the whole run, final validation included
    resume: bool = False
    init: str | None = None  # start a new run from this checkpoint's weights (fine-tuning: its architecture, a fresh
    # optimizer and schedule, this run's data and settings); `resume` continues a run instead
    limit_images: int | None = None
    exclude: list = field(default_factory=list)  # image names of `data` left out of training and validation
    # (a golden set, app.golden)
    include_golden: bool = False  # train on the project's golden set too (app.golden; the CLI and the window
    # leave it out by default and add its names to `exclude`)


def effective_lr(cfg: TrainConfig) -> float:
    """The learning rate a run uses: the one given, else DEFAULT_LR (a tenth of it when fine-tuning)."""
    if cfg.lr is not None:
        return cfg.lr
    return DEFAULT_LR / (10 if cfg.init else 1)


_CHOICES = {"precision": ("auto", "fp32", "bf16"), "rotate": ("auto", "on", "off"),
            "schedule": ("cosine", "constant")}


def check_config(cfg: TrainConfig) -> None:
    """Raise IunetError naming the first setting out of its range."""
    lr = effective_lr(cfg)
    if cfg.batch_size < 1 or cfg.epochs < 1 or cfg.crop < 16 or lr <= 0:
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
    if not (0 <= cfg.polarity <= 1 and 0 <= cfg.defect_polarity <= 1):
        raise IunetError("polarity and defect_polarity must be in [0, 1] (the share of crops shown with their "
                         "detail inverted)")
    if cfg.threshold_rule not in ("miou", "recall") or cfg.max_false_alarms < 0:
        raise IunetError(f"threshold_rule must be miou or recall (got {cfg.threshold_rule!r}) and "
                         f"max_false_alarms >= 0")
    if not 0.1 <= cfg.scale <= 2:
        raise IunetError(f"scale must be in [0.1, 2] (got {cfg.scale:g})")
    if int(cfg.fine_loss) != cfg.fine_loss or cfg.fine_loss < 1 or cfg.fine_loss * cfg.scale > 1 + 1e-6:
        raise IunetError(f"fine_loss must be a whole factor from 1 up to 1 / scale, the photo's own size "
                         f"(got {cfg.fine_loss} at scale {cfg.scale:g})")
    if cfg.multiclass and cfg.fine_loss != 1:
        raise IunetError("multiclass training scores at the input scale: use fine_loss=1")
    for key, allowed in _CHOICES.items():
        if getattr(cfg, key) not in allowed:
            raise IunetError(f"unknown {key} {getattr(cfg, key)!r} ({', '.join(allowed)})")
    if cfg.val_every < 1 or cfg.warmup_steps < 0:
        raise IunetError("val_every must be >= 1 and warmup_steps >= 0")
    if cfg.time_limit_min is not None and cfg.time_limit_min <= 0:
        raise IunetError("the time limit must be > 0 minutes")
    if cfg.init and cfg.resume:
        raise IunetError("init starts a new run from a checkpoint's weights and resume continues this run's "
                         "last.pt: use one of them")


def setting_names() -> list[str]:
    """Every TrainConfig field: what a recipe and `--set` may set."""
    return [f.name for f in fields(TrainConfig)]


def unknown_setting(key: str) -> IunetError:
    close = difflib.get_close_matches(key, setting_names(), n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else f" (settings: {', '.join(setting_names())})"
    return IunetError(f"unknown training setting {key!r}{hint}")


def parse_setting(key: str, text: str):
    """(field name, value) of `KEY=VALUE` text, typed by the TrainConfig field: numbers, true/false,
    none for optional settings, JSON for model_overrides; dashes in KEY read as underscores."""
    name = key.strip().replace("-", "_")
    hints = typing.get_type_hints(TrainConfig)
    if name not in hints:
        raise unknown_setting(name)
    kind = hints[name]
    args = typing.get_args(kind)
    optional = type(None) in args
    base = next((a for a in args if a is not type(None)), kind)
    text = text.strip()
    if optional and text.lower() in ("none", "null", ""):
        return name, None
    try:
        if base is bool:
            truth = {"true": True, "1": True, "yes": True, "on": True,
                     "false": False, "0": False, "no": False, "off": False}
            return name, truth[text.lower()]
        if base is int:
            return name, int(text)
        if base is float:
            return name, float(text)
        if base is list:
            return name, [t.strip() for t in text.split(",") if t.strip()]
        if base is dict:
            value = json.loads(text)
            if not isinstance(value, dict):
                raise ValueError(text)
            return name, value
    except (KeyError, ValueError):
        what = {bool: "true or false", int: "a whole number", float: "a number",
                dict: 'a JSON object, e.g. {"base": 16}'}
        raise IunetError(f"{name}={text}: expected {what[base]}" + (" or none" if optional else "")) from None
    return name, text
