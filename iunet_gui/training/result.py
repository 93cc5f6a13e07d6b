"""How a run ended (TrainResult, its status) and the stages a run reports as it goes.

A run reports ProgressEvents whose `stage` is one of STAGES; `message` says the stage in words
("final validation", "refreshing batch-norm statistics") and, for the stages that make the run
wait, `eta_s` is their expected length in seconds. The last event's stage is the run's status
("done" also for a run that reached its time limit)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DONE = "done"  # every epoch trained
TIME_LIMIT = "time_limit"  # stopped at the time limit, the final validation included in it
STOPPED = "stopped"  # stopped by its cancel token (the window's Stop, Ctrl+C)
NAN = "nan"  # the loss stopped being finite
OOM = "oom"  # out of memory

FINISHED = (DONE, TIME_LIMIT, STOPPED)  # ended as asked: the checkpoints hold the last good weights

STAGES = {
    "load": "loading the labelled images",
    "train": "a training step (loss, images/s, eta_s of the training left)",
    "batch_norm": "refreshing batch-norm statistics of the saved weights",
    "validate": "validating (message 'validating' after an epoch, 'final validation' at the end)",
    "save": "saving a checkpoint",
    "epoch": "an epoch ended (loss, validation metrics)",
    "notice": "something the user should know (message)",
}


@dataclass
class TrainResult:
    status: str  # DONE, TIME_LIMIT, STOPPED, NAN or OOM
    message: str
    run_dir: Path
    best_checkpoint: Path | None
    last_checkpoint: Path | None
    epochs_done: int
    best_val_miou: float | None
    history: list[dict]
    seconds: float
