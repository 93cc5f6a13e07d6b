"""What the Model panel shows, as plain data: one image's prediction and one folder run's result."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class ImagePrediction:
    """One image's prediction as the panel keeps it: the probability map (uint8, 0..255) lets the
    threshold change without running the network again. `threshold` is the one `mask` was cut at."""

    image: Path
    model: Path
    prob: np.ndarray
    mask: np.ndarray
    defects: list
    threshold: float
    ms: float
    mm_per_px: float | None = None
    notes: list[str] = field(default_factory=list)
    record: dict | None = None  # its score against its labels (core.metrics record), from a folder run
    classes: list[str] = field(default_factory=lambda: ["defect"])  # what the model names
    colors: list[str] = field(default_factory=list)  # the colour of each class
    kind_prob: np.ndarray | None = None  # a multi-class model's: its K kinds' probabilities (uint8 K x H x W)
    kinds: np.ndarray | None = None  # a multi-class model's class map at `threshold`: each defect's kind (1-based)

    @classmethod
    def of(cls, image: Path, model: Path, res, predictor, mm_per_px: float | None) -> ImagePrediction:
        """From an inference Prediction made by `predictor` with `model`."""
        probs = getattr(res, "class_prob", None)
        kind_prob = None if probs is None else np.round(probs[1:] * 255).astype(np.uint8)
        return cls(image, model, np.round(res.prob * 255).astype(np.uint8), res.mask, res.defects,
                   predictor.threshold, res.timing_ms["total"], mm_per_px,
                   [predictor.notice] if predictor.notice else [], classes=list(getattr(predictor, "classes", ["defect"])),
                   colors=list(getattr(predictor, "colors", [])), kind_prob=kind_prob,
                   kinds=getattr(res, "class_map", None))


@dataclass
class FolderResult:
    """A folder inspected with one model at one threshold (an app.inspect Inspection: counts, the score
    on the labelled images, report rows, what went wrong with which image), and what produced it."""

    model: Path
    threshold: float
    folder: Path
    created: str  # ISO time the run started
    run: object  # app.inspect.Inspection

    def provenance(self) -> dict:
        """What produced the rows, as the report's leading columns say it."""
        return {"model": str(self.model), "threshold": round(self.threshold, 4), "folder": str(self.folder),
                "created": self.created}
