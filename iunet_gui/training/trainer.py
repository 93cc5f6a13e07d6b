"""The training loop: defect-focused crops, augmentation and mix-up, Adam, validation on whole
images, checkpoints (best by validation MIoU, last), resume, stop, time limit, DDP.

`train(TrainConfig(...), progress, cancel)` is what the CLI and the window call. It returns a
TrainResult; stopping (the cancel token) and the time limit are results, not errors.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from iunet_gui.core.progress import Cancelled, CancelToken, ProgressEvent
from iunet_gui.training.config import TrainConfig, check_config, effective_lr
from iunet_gui.training.result import DONE, NAN, OOM, STOPPED, TIME_LIMIT, TrainResult

__all__ = ["TrainConfig", "TrainResult", "train"]

_GO, _STOP, _TIME, _NAN = 0, 1, 2, 3  # stop codes, agreed across processes by their maximum


def _quiet(_ev) -> None:
    pass


def train(cfg: TrainConfig, progress=None, cancel: CancelToken | None = None) -> TrainResult:
    t_start = time.perf_counter()
    cfg = replace(cfg, lr=effective_lr(cfg))  # recorded in config.json and the checkpoint as used
    check_config(cfg)
    progress = progress or _quiet
    cancel = cancel or CancelToken()
    from iunet_gui.training.network import load_init

    init_ck = load_init(cfg)  # before the data, so a wrong checkpoint fails at once
    import torch

    from iunet_gui.inference.runners import pick_device
    from iunet_gui.training.data import TrainData
    from iunet_gui.training.distributed import Distributed

    if cfg.threads:
        torch.set_num_threads(int(cfg.threads))
    dist = Distributed()
    device, notice = pick_device(cfg.device)
    device = dist.setup(device)
    if notice and dist.main:
        progress(ProgressEvent("notice", message=notice))
    if not dist.main:
        progress = _quiet  # one voice under torchrun: rank 0 reports
    run_dir = Path(cfg.out)
    if dist.main:
        run_dir.mkdir(parents=True, exist_ok=True)
    try:
        data = TrainData.load(cfg, progress, cancel)
    except Cancelled:
        message = "training stopped while loading the data"
        progress(ProgressEvent(STOPPED, message=message))
        return TrainResult(STOPPED, message, run_dir, None, None, 0, None, [], time.perf_counter() - t_start)
    return _Run(cfg, data, device, dist, progress, cancel, init_ck, t_start).fit()


class _Run:
    """One run's parts, set up from the config; `fit()` trains and returns the result."""

    def __init__(self, cfg, data, device, dist, progress, cancel, init_ck, t_start: float):
        import torch

        from iunet_gui.training.averaging import WeightAverage
        from iunet_gui.training.batches import Batches
        from iunet_gui.training.batchnorm import BatchNormStats
        from iunet_gui.training.data import CropSampler
        from iunet_gui.training.network import Precision, build_network, make_optimizer
        from iunet_gui.training.schedule import RunClock, lr_scheduler
        from iunet_gui.training.state import RunState, load_resume, write_config_json

        self.cfg, self.data, self.device, self.dist = cfg, data, device, dist
        self.progress, self.cancel, self.t_start = progress, cancel, t_start
        self.run_dir = Path(cfg.out)
        self.last_path, self.best_path = self.run_dir / "last.pt", self.run_dir / "best.pt"
        rank = dist.rank
        sampler = CropSampler(data.train_items, cfg.crop, cfg.focus, seed=cfg.seed * 1000 + rank, zoom=cfg.zoom,
                              area_sampling=cfg.area_sampling)
        self.rng = np.random.default_rng(cfg.seed * 7919 + rank)
        torch.manual_seed(cfg.seed)
        crops_per_epoch = cfg.crops_per_epoch or 8 * len(data.train_items)
        self.steps_per_epoch = max(1, math.ceil(crops_per_epoch / (cfg.batch_size * dist.world)))

        resumed = load_resume(self.last_path, cfg) if cfg.resume else None
        self.state = resumed.state if resumed else RunState(threshold=cfg.threshold)
        if resumed and resumed.rng_seed:
            self.rng = np.random.default_rng(resumed.rng_seed + rank)
            sampler.rng = np.random.default_rng(resumed.rng_seed * 3 + rank)
        if (init_ck is not None and data.kinds and init_ck.config.get("num_classes", 1) != 1
                and list(init_ck.classes) != list(data.kinds)):
            from iunet_gui.core.errors import IunetError

            raise IunetError(f"{cfg.init}: names the kinds {', '.join(init_ck.classes)}, the training data "
                             f"{', '.join(data.kinds)}: fine-tune on data of the same kinds")
        model, self.model_cfg = build_network(cfg, resumed, init_ck, progress, len(data.kinds or ()) or 1)
        model = model.to(device)
        if device.type == "cpu":
            model = model.to(memory_format=torch.channels_last)
        self.model, self.net = model, dist.wrap(model, device)
        self.opt = make_optimizer(model, cfg.lr, cfg.weight_decay, resumed.optimizer_state if resumed else None)
        self.precision = Precision(cfg.precision, device)
        if getattr(model, "deep_supervision", False):
            model.all_heads = True  # forward() returns every head while training
        self.average = WeightAverage(model, cfg.ema, resumed.averaged if resumed else None) if cfg.ema else None
        self.saved_model = self.average.module if self.average else model  # validated and saved
        self.batches = Batches(cfg, sampler, self.rng, data.rotate)
        self.bn = BatchNormStats(cfg, self.batches, data.train_items, device, cancel, dist.enabled)
        self.meta = {"data": data.summary, "train_config": asdict(cfg), "input_scale": cfg.scale}
        self.classes, self.colors, self.class_weights = ["defect"], None, None
        if data.kinds:
            from iunet_gui.core.project import Project
            from iunet_gui.training.losses import class_weights_of

            settings = Project.open(cfg.data).settings
            self.classes, self.colors = list(data.kinds), [settings.color_of(k) for k in data.kinds]
            weights = class_weights_of([data.summary["kind_pixel_share"][k] for k in data.kinds], cfg.pos_weight)
            self.meta["class_weights"] = weights
            self.class_weights = torch.tensor(weights, dtype=torch.float32, device=device)
        if dist.main:
            write_config_json(self.run_dir, cfg, self.model_cfg, data.summary)
        self.end_seconds: float | None = None  # the longest end of an epoch measured (BN refresh, validation, saves)
        self.step_seconds: list[float] = []  # the last steps' durations
        self.image_seconds = 0.0  # one validation image's logits
        self.losses: list[float] = []  # this epoch's
        self.lr_now = cfg.lr  # the rate of the last step
        self.nan_message = ""
        self.deadline = t_start + cfg.time_limit_min * 60 if cfg.time_limit_min else None  # the whole run's
        self.clock = RunClock(self.state.global_step, (cfg.epochs - self.state.epoch) * self.steps_per_epoch,
                              self.deadline)
        self.sched = lr_scheduler(self.opt, cfg.lr, cfg.schedule, cfg.warmup_steps, self.clock)

    # -- the loop --------------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        cfg, state = self.cfg, self.state
        start_epoch = state.epoch
        status, message, clean = DONE, "", False
        try:
            if self.deadline:
                self.image_seconds = self._time_one_validation_image()
            status = self._epochs(start_epoch)
            if status == TIME_LIMIT:
                message = f"time limit of {cfg.time_limit_min:g} min reached"
                self._keep_progress(final_validation=True)
            elif status == NAN:
                message = self.nan_message
            clean = True
        except Cancelled:
            status, message, clean = STOPPED, "training stopped", True
            self._keep_progress(final_validation=False)
        except (RuntimeError, MemoryError) as exc:
            text = str(exc).lower()
            if not (isinstance(exc, MemoryError) or "out of memory" in text or "can't allocate memory" in text):
                raise
            status, message = OOM, (f"out of memory at crop {cfg.crop}, batch {cfg.batch_size}: lower --crop or "
                                    f"--batch-size; the last good checkpoint is kept")
        finally:
            self.net = None  # DDP's wrapper goes before the process group does
            self.dist.close(clean)
        seconds = time.perf_counter() - self.t_start
        if not message:
            message = f"trained {state.epoch} epochs in {seconds / 60:.1f} min"
        best = state.best_val_miou
        self.progress(ProgressEvent(DONE if status in (DONE, TIME_LIMIT) else status, message=message,
                                    metrics={"best_val_miou": best} if best is not None else {}))
        return TrainResult(status, message, self.run_dir, self.best_path if self.best_path.exists() else None,
                           self.last_path if self.last_path.exists() else None, state.epoch, best,
                           state.history, seconds)

    def _epochs(self, start_epoch: int) -> str:
        """Train the epochs left; DONE, TIME_LIMIT or NAN. Raises Cancelled when stopped."""
        cfg = self.cfg
        total = (cfg.epochs - start_epoch) * self.steps_per_epoch
        t_loop, seen = time.perf_counter(), 0
        self.model.train()
        for epoch in range(start_epoch + 1, cfg.epochs + 1):
            self.losses = []
            for step in range(1, self.steps_per_epoch + 1):
                t_step = time.perf_counter()
                code = self._step(epoch, step)
                if code == _TIME:
                    return TIME_LIMIT
                if code == _NAN:
                    return NAN
                done = (epoch - start_epoch - 1) * self.steps_per_epoch + step
                if done > 1:  # the first step warms up (allocations): not a measure of the others
                    self.step_seconds = (self.step_seconds + [time.perf_counter() - t_step])[-20:]
                seen += cfg.batch_size * self.dist.world
                elapsed = time.perf_counter() - t_loop
                eta = elapsed / done * (total - done)
                if self.deadline:
                    eta = min(eta, max(self._training_deadline() - time.perf_counter(), 0))
                self.progress(ProgressEvent("train", step=step, steps=self.steps_per_epoch, epoch=epoch,
                                            epochs=cfg.epochs, loss=float(np.mean(self.losses[-20:])),
                                            images_per_s=seen / max(elapsed, 1e-9), eta_s=eta))
            self.state.epoch = epoch
            self._end_epoch(epoch)
        return DONE

    def _step(self, epoch: int, step: int) -> int:
        """One optimizer step; the stop code that ended the run instead (_TIME, _NAN), else _GO.
        Raises Cancelled when the cancel token is set."""
        import torch

        from iunet_gui.training.batches import batch_loss

        if not self.dist.enabled and self._raise_or_return(self._stop_code()) == _TIME:
            return _TIME  # under torchrun the processes agree on stopping below, after the forward pass
        g = self.state.global_step
        if self.bn.maybe_freeze(self.model, self.clock.fraction(g)):
            self.progress(ProgressEvent("notice", message=f"batch-norm statistics frozen at step {g}"))
        x, y, mixed, wmap = self.batches.next()
        x, y = x.to(self.device), y.to(self.device)
        wmap = wmap.to(self.device) if wmap is not None else None
        if self.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        with self.precision.autocast():
            outs = self.net(x)  # a list of every head's logits under deep supervision
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        loss = batch_loss(outs, y, mixed, wmap, self.cfg, self.class_weights)
        finite = bool(torch.isfinite(loss))
        code = self.dist.agree(max(_GO if finite else _NAN, self._stop_code() if self.dist.enabled else _GO),
                               self.device)
        if code == _NAN:
            what = loss.item() if not finite else "nan in another process"
            self.nan_message = (f"the loss became {what} at epoch {epoch}, step {step}; "
                                 f"the last good checkpoint is kept (try a lower --lr)")
            return _NAN
        if self._raise_or_return(code) == _TIME:
            return _TIME
        self.lr_now = self.sched.get_last_lr()[0]
        self.precision.step(loss, self.opt)
        self.sched.step()
        if self.average is not None:
            self.average.update(self.model, g)
        self.losses.append(float(loss.item()))
        self.state.global_step = g + 1
        return _GO

    def _stop_code(self) -> int:
        if self.cancel.cancelled:
            return _STOP
        if self.deadline and time.perf_counter() > self._training_deadline():
            return _TIME
        return _GO

    @staticmethod
    def _raise_or_return(code: int) -> int:
        if code == _STOP:
            raise Cancelled("training stopped")
        return code

    def _final_seconds(self) -> float:
        """How long the final validation and saves take: measured, else estimated."""
        from iunet_gui.training.validation import estimate_final_seconds

        step = float(np.median(self.step_seconds)) if self.step_seconds else 0.0
        n_val = len(self.data.val_items) if self.dist.main else 0
        return estimate_final_seconds(self.cfg, n_val, self.image_seconds, step, self.end_seconds)

    def _training_deadline(self) -> float:
        """When training steps stop under the time limit: early enough for the final validation
        and saves to end by the limit."""
        deadline = self.deadline - self._final_seconds()
        self.clock.deadline = deadline
        return deadline

    def _time_one_validation_image(self) -> float:
        """Seconds of one validation image's logits (the first; timed after a warm-up pass), as
        the time limit's estimate of validation."""
        from iunet_gui.training.validation import image_logits

        if not (self.dist.main and self.data.val_items):
            return 0.0
        self.saved_model.eval()
        try:
            first = self.data.val_items[0]
            image_logits(self.saved_model, first, self.cfg, self.device)
            t0 = time.perf_counter()
            image_logits(self.saved_model, first, self.cfg, self.device)
            return time.perf_counter() - t0
        finally:
            self.bn.train_mode(self.model)

    # -- the end of an epoch and of a run ----------------------------------------------------------
    def _end_epoch(self, epoch: int) -> None:
        """Validate (every val_every epochs and at the last), save best.pt when picked and last.pt."""
        cfg, state = self.cfg, self.state
        t0 = time.perf_counter()
        row = {"epoch": epoch, "train_loss": float(np.mean(self.losses)), "lr": self.lr_now,
               "seconds": time.perf_counter() - self.t_start}
        validates = self.dist.main and self.data.val_items and (epoch % cfg.val_every == 0 or epoch == cfg.epochs)
        if validates:
            row.update(self._validate(epoch, "validating"))
        state.history.append(row)
        if validates and self._picks(row):
            self._save(self.best_path)
        if self.dist.main:
            from iunet_gui.training.state import append_metrics

            append_metrics(self.run_dir / "metrics.csv", row)
            self._save(self.last_path)
            if not self.data.val_items:
                self._save(self.best_path)
            measured = time.perf_counter() - t0
            self.end_seconds = max(self.end_seconds or 0.0, measured) if validates else self.end_seconds
        self.progress(ProgressEvent("epoch", epoch=epoch, epochs=cfg.epochs, loss=row["train_loss"],
                                    metrics={k: v for k, v in row.items()
                                             if k.startswith("val_") and isinstance(v, (int, float))}))

    def _keep_progress(self, final_validation: bool) -> None:
        """After a stop or the time limit: save what was trained. At the time limit the weights
        trained since the last validation are validated first (a partial epoch's row)."""
        if not self.dist.main:
            return
        state = self.state
        trained_since = bool(self.losses) or not state.history or "val_miou" not in state.history[-1]
        if final_validation and self.data.val_items and trained_since:
            row = {"epoch": state.epoch + 1, "partial": True, "seconds": time.perf_counter() - self.t_start,
                   **self._validate(state.epoch + 1, "final validation")}
            state.history.append(row)
            from iunet_gui.training.state import append_metrics

            append_metrics(self.run_dir / "metrics.csv", row)
            if self._picks(row):
                self._save(self.best_path)
        self._save(self.last_path)
        if not self.best_path.exists():
            self._save(self.best_path)

    def _validate(self, epoch: int, what: str) -> dict:
        from iunet_gui.training.validation import validate

        eta = self._final_seconds()
        self._refresh_bn()
        val = self.data.val_items
        self.progress(ProgressEvent("validate", epoch=epoch, epochs=self.cfg.epochs, message=what, step=0,
                                    steps=len(val), eta_s=eta))
        self.saved_model.eval()
        try:
            cancel = None if self.dist.enabled else self.cancel  # under DDP the processes agree on a stop at a step
            return validate(self.saved_model, val, self.cfg, self.device, cancel)
        finally:
            self.bn.train_mode(self.model)

    def _picks(self, row: dict) -> bool:
        """Whether the weights of `row` become best.pt (pick_best); best_val_miou and the stored
        threshold then follow them."""
        from iunet_gui.training.validation import pick_best

        state = self.state
        take, state.top_val_miou = pick_best(state.top_val_miou, row["val_miou"], self.cfg.pick_tolerance)
        if take:
            state.best_val_miou, state.threshold = row["val_miou"], row["val_threshold"]
        return take

    def _refresh_bn(self) -> None:
        if self.cfg.bn_batches and self.bn.refreshed_at != self.state.global_step:
            self.progress(ProgressEvent("batch_norm", message="refreshing batch-norm statistics"))
        self.bn.refresh(self.saved_model, self.state.global_step)

    def _save(self, path: Path) -> None:
        from iunet_gui.training.state import save_run_checkpoint

        self._refresh_bn()
        self.progress(ProgressEvent("save", message=f"saving {path.name}"))
        save_run_checkpoint(path, saved_model=self.saved_model, raw_model=self.model, cfg=self.cfg,
                            model_cfg=self.model_cfg, meta=self.meta, opt=self.opt, state=self.state,
                            classes=self.classes, colors=self.colors,
                            rng_seed=int(self.rng.integers(2 ** 31)))
