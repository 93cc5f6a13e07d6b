"""How a model is run on images: one settings object for `predict`, `evaluate` and the window."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from iunet_gui.core.errors import IunetError
from iunet_gui.inference.runners import normalise_backend


@dataclass(frozen=True)
class InspectSettings:
    """Every choice of an inspection run. None means "the model's own" (threshold) or "the default"
    (gaps: core.measure's). `mm_per_px` None: each image's calibration from its folder's project."""

    backend: str = "auto"  # any spelling runners.normalise_backend accepts
    device: str = "auto"
    threads: int | None = None
    threshold: float | None = None  # probability threshold; None: the checkpoint's own
    flip_mean: bool = True  # the mean of the logits over the image and its three flips
    merge_gap_px: float | None = None  # predicted pieces closer than this are one defect
    chain_gap_px: float | None = None  # ... and pieces of a line up to this far apart along it
    crop_to_part: bool = True  # run the network only on the washer's box when one is found
    min_area_px: int = 4  # predicted regions smaller than this are noise
    tile: int | None = None  # run in overlapping tiles of this size (bounds memory)
    mm_per_px: float | None = None  # one calibration for every image
    iou_threshold: float = 0.5  # an image is segmented accurately when its defect IoU reaches this
    tolerance_px: float = 2.0  # thin-defect precision / recall / F1 count pixels this close (core.detection.TOLERANCE_PX)

    def validated(self, name: Callable[[str], str] = lambda field: field.replace("_", " ")) -> InspectSettings:
        """These settings with the backend name normalised; IunetError names the first bad one
        (`name` spells a field as the caller's user knows it, e.g. "--merge-gap")."""
        if self.threshold is not None and not 0 < self.threshold < 1:
            raise IunetError(f"{name('threshold')} must be between 0 and 1 (exclusive)")
        for key in ("merge_gap_px", "chain_gap_px", "min_area_px"):
            value = getattr(self, key)
            if value is not None and value < 0:
                raise IunetError(f"{name(key)} must be >= 0")
        if not 0 <= self.iou_threshold <= 1:
            raise IunetError(f"{name('iou_threshold')} must be between 0 and 1")
        if not self.tolerance_px >= 0:
            raise IunetError(f"{name('tolerance_px')} must be >= 0")
        if self.mm_per_px is not None and self.mm_per_px <= 0:
            raise IunetError(f"{name('mm_per_px')} must be > 0")
        if self.tile is not None and self.tile < 16:
            raise IunetError(f"{name('tile')} must be >= 16")
        return replace(self, backend=normalise_backend(self.backend))


def apply_settings(predictor, settings: InspectSettings):
    """Set a Predictor's post-processing and test-time choices from `settings` (the threshold only
    when one is given); returns the predictor."""
    if settings.threshold is not None:
        predictor.threshold = settings.threshold
    if settings.merge_gap_px is not None:
        predictor.merge_gap_px = settings.merge_gap_px
    if settings.chain_gap_px is not None:
        predictor.chain_gap_px = settings.chain_gap_px
    predictor.tta = settings.flip_mean
    predictor.tile = settings.tile
    predictor.min_area_px = settings.min_area_px
    predictor.crop_to_part = settings.crop_to_part
    return predictor


def open_predictor(model, settings: InspectSettings):
    """A Predictor of a checkpoint or ONNX file, set up as `settings` say."""
    from iunet_gui.inference.predictor import Predictor

    settings = settings.validated()
    pred = Predictor.from_path(model, backend=settings.backend, device=settings.device, threads=settings.threads,
                               threshold=settings.threshold, crop_to_part=settings.crop_to_part)
    return apply_settings(pred, settings)
