"""One small progress/cancel protocol for long work (training, batch prediction, reports).

The CLI turns events into a progress line, the GUI into Qt signals; the worker checks the
cancel token between steps and stops cleanly when it is set.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class ProgressEvent:
    stage: str  # e.g. "train", "validate", "predict", "done", "cancelled", "error"
    step: int = 0  # steps done in this stage (or images done)
    steps: int = 0  # steps in this stage, 0 if unknown
    epoch: int = 0  # 1-based epoch, 0 outside training
    epochs: int = 0
    loss: float | None = None
    metrics: dict = field(default_factory=dict)  # e.g. {"val_miou": 0.91, "val_iou_defect": 0.8}
    images_per_s: float | None = None
    eta_s: float | None = None
    message: str = ""
    result: object = None  # a worker's partial result as it goes (e.g. one image's prediction of a folder)


ProgressCallback = Callable[[ProgressEvent], None]


class CancelToken:
    """Thread-safe cancel flag shared by the caller (GUI/CLI) and the worker."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class Cancelled(Exception):
    """Raised inside a worker when its CancelToken was set; callers treat it as a clean stop.
    `partial`: what the work had finished when it stopped (None when nothing is worth keeping)."""

    def __init__(self, message: str = "cancelled", partial: object = None) -> None:
        super().__init__(message)
        self.partial = partial
