"""The models' predictions of the image on show in the comparison view (gui.compare_view), made in a
worker thread (gui.jobs.Job) so that the window answers while a model runs.

One job runs at a time. A newer request cancels the running job (it stops before its next model) and
runs once that job has ended; only the latest request's result is handed back (`ready`, `failed`), so
a job for an image the user has left never draws over the one on show. The predictions (and the photo)
of one image are kept: those of the image last asked for; a job's results for another image are dropped.
The predictors are opened in the worker, once each, and kept."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from iunet_gui.core.progress import Cancelled, ProgressEvent
from iunet_gui.gui.jobs import Job


@dataclass(eq=False)
class Request:
    """The predictions of the models `models` (indices) on the image `name`, at `mm_per_px`."""

    name: str
    models: tuple[int, ...]
    mm_per_px: float | None


class ComparePredictions(QObject):
    """`request()` answers at once from what is kept, or starts a job; `predicting` tells which model
    the latest request waits for, `loaded` that its photo is in `pixels`, `ready` that all its
    predictions are kept (ask again), `failed` why it could not be made (a message for the user)."""

    predicting = Signal(str, int)  # image name, model index
    loaded = Signal(str)  # image name
    ready = Signal(str)  # image name
    failed = Signal(str, str)  # image name, message

    def __init__(self, models: list[Path], data_dir: Path, parent=None):
        super().__init__(parent)
        self.models, self.data_dir = list(models), Path(data_dir)
        self.predictors: dict[int, object] = {}  # model index -> its predictor, opened once
        self.image: str | None = None  # the image whose photo and predictions are kept
        self.pixels: np.ndarray | None = None  # its RGB photo
        self.kept: dict[int, object] = {}  # model index -> its prediction of `image`
        self.latest: Request | None = None  # the request whose result is to be shown
        self.waiting: Request | None = None  # the latest request, when it waits for the running job to end
        self.job: Job | None = None
        self.job_request: Request | None = None

    def request(self, name: str, models: list[int], mm_per_px) -> dict[int, object] | None:
        """Model index -> prediction of each of `models` on the image `name`, when all are kept;
        otherwise None, and a job makes the missing ones (`ready` tells when)."""
        self.abandon()
        if name != self.image:
            self.image, self.pixels, self.kept = name, None, {}
        if self.pixels is not None and all(k in self.kept for k in models):
            return {k: self.kept[k] for k in models}
        self.latest = Request(name, tuple(models), mm_per_px)
        self.predicting.emit(name, next((k for k in models if k not in self.kept), models[0]))
        if self.job is None:
            self._start(self.latest)
        else:
            self.waiting = self.latest
        return None

    def abandon(self) -> None:
        """Nothing asked for is to be shown any more: the running job stops before its next model."""
        self.latest = self.waiting = None
        if self.job is not None:
            self.job.cancel()

    def stop(self) -> None:
        """Abandon, and wait for the running job to end (the view is closing)."""
        self.abandon()
        if self.job is not None:
            self.job.wait()

    def _start(self, req: Request) -> None:
        from iunet_gui.app.settings import InspectSettings, open_predictor
        from iunet_gui.core.images import load_image

        self.waiting = None  # a request is always for the image kept (`request` makes it so)
        pixels, missing = self.pixels, [k for k in req.models if k not in self.kept]
        opened, models, path = dict(self.predictors), self.models, self.data_dir / req.name

        def work(progress, cancel):
            image = pixels
            if image is None:
                image = load_image(path, "rgb")
                progress(ProgressEvent("loaded", result=image))
            for k in missing:
                if cancel.cancelled:
                    raise Cancelled()
                progress(ProgressEvent("predict", result=k))
                if k not in opened:
                    opened[k] = open_predictor(models[k], InspectSettings())
                progress(ProgressEvent("predicted", result=(k, opened[k], opened[k].predict(image, req.mm_per_px))))
            return req

        self.job, self.job_request = Job(work, self), req
        self.job.progressed.connect(self._progressed)
        self.job.succeeded.connect(self._succeeded)
        self.job.failed.connect(self._failed)
        self.job.finished.connect(self._job_done)
        self.job.start()

    def _progressed(self, ev: ProgressEvent) -> None:
        req = self.job_request
        if ev.stage == "predicted":
            k, predictor, prediction = ev.result
            self.predictors.setdefault(k, predictor)
            if req.name == self.image and self.pixels is not None:
                self.kept[k] = prediction
        elif ev.stage == "loaded" and req.name == self.image:
            self.pixels = ev.result
            if self.latest is not None:  # the photo the latest request waits for (it is of `image`)
                self.loaded.emit(req.name)
        elif ev.stage == "predict" and req is self.latest:
            self.predicting.emit(req.name, ev.result)

    def _succeeded(self, req: Request) -> None:
        if req is self.latest:
            self.latest = None
            self.ready.emit(req.name)

    def _failed(self, message: str) -> None:
        req = self.job_request
        if req is self.latest:
            self.latest = None
            self.failed.emit(req.name, message)

    def _job_done(self) -> None:
        self.job = self.job_request = None
        if self.waiting is not None:
            self._start(self.waiting)
