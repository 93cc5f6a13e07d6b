"""Whole-image prediction behind one interface, on torch or ONNX Runtime.

`Predictor.from_path(ckpt_or_onnx)` -> `.predict(image)` -> probability map, mask, measured
defects and timing. A multi-class network (K defect kinds, softmax) also gives the class map and
each class's probabilities; its defect probability is 1 - P(background), and each measured defect
is labelled with its kind and that kind's mean probability over it (its confidence). With backend "auto", a checkpoint runs in ONNX Runtime when it is
installed (exported once, BN folded, cached beside the checkpoint's hash) and in torch
otherwise. The network takes inputs of any size (it pads them to its multiple itself).
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from iunet_gui.core.errors import CheckpointError, IunetError
from iunet_gui.core.measure import (
    DEFAULT_MERGE_GAP_PX,
    Defect,
    label_regions,
    measure_mask,
    measure_regions,
    remove_small_regions,
)
from iunet_gui.inference.preprocess import flip_mean, prepare_input, rescale_image, upscale_logits
from iunet_gui.inference.runners import (
    normalise_backend,
    onnx_runner,
    onnx_session,
    onnxruntime_available,
    pick_device,
    torch_runner,
)


@dataclass
class Prediction:
    prob: np.ndarray  # float32 HxW in [0, 1]
    mask: np.ndarray  # bool HxW
    defects: list[Defect]
    timing_ms: dict = field(default_factory=dict)
    roi: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 of the part that was run
    classes: list[str] = field(default_factory=lambda: ["defect"])  # what the network names
    class_map: np.ndarray | None = None  # multi-class: uint8 HxW, 0 = background, k = classes[k - 1], one kind a defect
    class_prob: np.ndarray | None = None  # multi-class: float32 (K + 1, H, W) softmax, background first


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return (e / e.sum(axis=0, keepdims=True)).astype(np.float32)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return (0.5 * (1.0 + np.tanh(0.5 * z))).astype(np.float32)


class Predictor:
    """Runs one network on whole images. Use `from_path`; `threshold` and `min_area_px` may be set."""

    def __init__(self, run, in_channels: int, multiple: int, name: str, backend: str, threshold: float = 0.5,
                 meta: dict | None = None, crop_to_part: bool = True, notice: str = "",
                 classes: list[str] | None = None, colors: list[str] | None = None):
        self._run = run
        self.in_channels, self.multiple, self.name, self.backend = in_channels, multiple, name, backend
        self.threshold = threshold
        self.min_area_px = 4
        self.merge_gap_px = DEFAULT_MERGE_GAP_PX  # pieces of one broken scratch are measured as one defect
        self.chain_gap_px = None  # ... and along a line up to this far apart (None: core.measure's default)
        self.crop_to_part = crop_to_part
        self.meta = meta or {}
        self.notice = notice
        from iunet_gui.models.checkpoint import class_colors

        self.classes = list(classes or ["defect"])
        self.colors = class_colors(self.classes, colors)
        # the input scale the network was trained at (train --scale): images are resized to it and the
        # logits resized back, so every result is at the image's own size
        self.scale = float(self.meta.get("input_scale", 1.0) or 1.0)

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def from_path(cls, path, backend: str = "auto", device: str = "auto", threads: int | None = None,
                  threshold: float | None = None, crop_to_part: bool = True) -> Predictor:
        path = Path(path)
        if not path.exists():
            raise CheckpointError(f"{path}: model file not found")
        backend = normalise_backend(backend)
        if path.suffix.lower() == ".onnx":
            if backend == "torch":
                raise IunetError(f"{path}: an ONNX file needs the onnx backend")
            return cls._from_onnx(path, threads, threshold if threshold is not None else 0.5, crop_to_part)
        from iunet_gui.models.checkpoint import load_checkpoint

        ckpt = load_checkpoint(path)
        thr = threshold if threshold is not None else ckpt.threshold
        dev, notice = pick_device(device)
        use_onnx = backend == "onnx" or (backend == "auto" and dev.type == "cpu" and onnxruntime_available())
        if backend == "onnx" and not onnxruntime_available():
            raise IunetError("the onnx backend needs onnxruntime: pip install onnxruntime")
        if use_onnx:
            onnx_path = _cached_onnx(path, ckpt)
            p = cls._from_onnx(onnx_path, threads, thr, crop_to_part, meta=ckpt.meta, name=path.name)
            p.classes, p.colors = list(ckpt.classes), list(ckpt.colors)
            p.notice = notice
            return p
        return cls._from_torch(ckpt, dev, threads, thr, crop_to_part, notice, path.name)

    @classmethod
    def _from_torch(cls, ckpt, dev, threads, thr, crop_to_part, notice, name):
        run = torch_runner(ckpt.model, dev, threads)
        return cls(run, ckpt.in_channels, getattr(ckpt.model, "multiple", 1), name, f"torch-{dev.type}", thr,
                   ckpt.meta, crop_to_part, notice, ckpt.classes, ckpt.colors)

    @classmethod
    def _from_onnx(cls, path: Path, threads, thr, crop_to_part, meta=None, name=None):
        sess, info = onnx_session(path, threads)
        shape = sess.get_inputs()[0].shape
        in_ch = info.get("in_channels") or (shape[1] if isinstance(shape[1], int) else 3)
        return cls(onnx_runner(sess, info), int(in_ch), int(info.get("multiple", 32)), name or path.name,
                   "onnxruntime", thr, meta or info.get("meta", {}), crop_to_part, classes=info.get("classes"),
                   colors=info.get("colors"))

    # -- prediction -------------------------------------------------------------------------------
    tile: int | None = None  # run tiles of this size (plus a margin) to bound memory
    tile_margin: int = 64

    # test-time augmentation: the mean of the logits over the image and its three flips (4 runs of the
    # network): +0.9 to +1.6 MIoU points for six checkpoints on the test washers, for twice the detection
    # time (docs/benchmarks.md); False for speed.
    tta: bool = True

    @property
    def multiclass(self) -> bool:
        return len(self.classes) > 1

    def logits(self, image: np.ndarray) -> np.ndarray:
        """Logits at the image's size ((K + 1, H, W) for a multi-class network) (the network runs at its input scale, see `scale`)."""
        run = self._flip_mean if self.tta else self._logits
        if self.scale != 1:
            h, w = image.shape[:2]
            return upscale_logits(run(rescale_image(image, self.scale)), h, w)
        return run(image)

    def _flip_mean(self, image: np.ndarray) -> np.ndarray:
        """Test-time augmentation: the network was trained on flipped crops; the mean of its logits
        over the four flips of the image, each flipped back."""
        return flip_mean(self._logits, image)

    def _logits(self, image: np.ndarray) -> np.ndarray:
        x = prepare_input(image, self.in_channels)
        h, w = x.shape[-2:]
        if not self.tile or (h <= self.tile and w <= self.tile):
            return self._run(x)
        # Overlapping tiles: each tile keeps only its centre, the margin absorbs border effects.
        out = None
        t, m = int(self.tile), int(self.tile_margin)
        for y0 in range(0, h, t):
            for x0 in range(0, w, t):
                y1, x1 = min(y0 + t, h), min(x0 + t, w)
                ya, xa = max(y0 - m, 0), max(x0 - m, 0)
                yb, xb = min(y1 + m, h), min(x1 + m, w)
                z = self._run(x[:, ya:yb, xa:xb])
                if out is None:
                    out = np.empty(z.shape[:-2] + (h, w), np.float32)
                out[..., y0:y1, x0:x1] = z[..., y0 - ya:y1 - ya, x0 - xa:x1 - xa]
        return out

    def _part_roi(self, image: np.ndarray):
        """Bounding box of the washer (with a margin), or None to run the whole image."""
        from iunet_gui.core.calibration import find_washer

        try:
            c = find_washer(image)
        except IunetError:
            return None
        h, w = image.shape[:2]
        m = 0.04 * c.r_outer + 8
        x0, y0 = int(max(c.cx - c.r_outer - m, 0)), int(max(c.cy - c.r_outer - m, 0))
        x1, y1 = int(min(c.cx + c.r_outer + m, w)), int(min(c.cy + c.r_outer + m, h))
        if (x1 - x0) * (y1 - y0) > 0.9 * h * w:
            return None
        return x0, y0, x1, y1

    def predict(self, image: np.ndarray, mm_per_px: float | None = None) -> Prediction:
        t0 = time.perf_counter()
        roi = self._part_roi(image) if self.crop_to_part else None
        t1 = time.perf_counter()
        if roi is None:
            z = self.logits(image)
        else:
            x0, y0, x1, y1 = roi
            part = self.logits(image[y0:y1, x0:x1])
            z = np.full(part.shape[:-2] + image.shape[:2], -20.0, np.float32)
            if part.ndim == 3:
                z[0] = 20.0  # background outside the part
            z[..., y0:y1, x0:x1] = part
        t2 = time.perf_counter()
        class_prob = None
        if z.ndim == 3:
            class_prob = _softmax(z)
            prob = 1.0 - class_prob[0]
            mask = prob > self.threshold
        else:
            prob = _sigmoid(z)
            mask = z > np.log(self.threshold / (1 - self.threshold)) if 0 < self.threshold < 1 else prob > self.threshold
        mask, defects, kinds = self.measure(mask, mm_per_px, None if class_prob is None else class_prob[1:])
        t3 = time.perf_counter()
        timing = {"roi": (t1 - t0) * 1e3, "infer": (t2 - t1) * 1e3, "postprocess": (t3 - t2) * 1e3,
                  "total": (t3 - t0) * 1e3}
        return Prediction(prob, mask, defects, timing, roi, list(self.classes), kinds, class_prob)

    def measure(self, mask: np.ndarray, mm_per_px: float | None = None, kind_prob: np.ndarray | None = None):
        """(mask without specks, measured defects, class map) as `predict` gives them for a thresholded
        mask; the window uses it to re-threshold a probability map without running the network again.
        With a multi-class network's `kind_prob` (its K kinds' probabilities, float 0..1 or uint8
        0..255), each defect is labelled with one kind, that of the highest mean probability over its
        pixels (kind_of_region), and the class map gives every pixel of a defect that kind (1-based,
        0 elsewhere; None for a binary network): a defect is one kind however its pixels lean."""
        if self.min_area_px > 1:
            mask = remove_small_regions(mask, self.min_area_px)
        if kind_prob is None:
            return mask, measure_mask(mask, mm_per_px, merge_gap_px=self.merge_gap_px,
                                      chain_gap_px=self.chain_gap_px), None
        regions = label_regions(mask, self.merge_gap_px, self.chain_gap_px)
        kinds = np.zeros(mask.shape, np.uint8)
        defects = []
        for i, d in measure_regions(mask, mm_per_px, regions=regions, merge_gap_px=self.merge_gap_px,
                                    chain_gap_px=self.chain_gap_px):
            pixels = (regions[1] == i) & mask
            k, d.confidence = kind_of_region(kind_prob, pixels)
            d.label = self.classes[k]
            kinds[pixels] = k + 1
            defects.append(d)
        return mask, defects, kinds

    def predict_path(self, path, mm_per_px: float | None = None) -> Prediction:
        """`predict` of an image file; its timing includes loading the file."""
        return self.predict_file(path, mm_per_px)[0]

    def predict_file(self, path, mm_per_px: float | None = None) -> tuple[Prediction, np.ndarray]:
        """(prediction, the RGB image it was made from) of an image file, as `predict_path`."""
        from iunet_gui.core.images import load_image

        t0 = time.perf_counter()
        image = load_image(path, "rgb")
        t1 = time.perf_counter()
        pred = self.predict(image, mm_per_px)
        pred.timing_ms["load"] = (t1 - t0) * 1e3
        pred.timing_ms["total"] += pred.timing_ms["load"]
        return pred, image


def kind_of_region(kind_prob: np.ndarray, pixels: np.ndarray) -> tuple[int, float]:
    """(index into the kinds, confidence) of a defect's pixels: the kind of the highest mean
    probability over them in `kind_prob` (K x H x W, float 0..1 or uint8 0..255), and that mean."""
    if not pixels.any():
        return 0, 0.0
    means = kind_prob[:, pixels].mean(axis=1) / (255.0 if kind_prob.dtype == np.uint8 else 1.0)
    k = int(np.argmax(means))
    return k, float(means[k])


def _cached_onnx(ckpt_path: Path, ckpt) -> Path:
    """Export a checkpoint to ONNX once; the file is cached by the checkpoint's content hash."""
    from iunet_gui.inference.onnx_export import export_onnx

    digest = hashlib.sha1(ckpt_path.read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("IUNET_GUI_CACHE", Path.home() / ".cache" / "iunet-gui"))
    target = cache / f"{ckpt_path.stem}-{digest}.onnx"
    if not target.exists():
        try:
            export_onnx(ckpt, target)
        except OSError:  # read-only home: fall back to a temporary folder
            import tempfile

            target = Path(tempfile.gettempdir()) / "iunet-gui-cache" / target.name
            if not target.exists():
                export_onnx(ckpt, target)
    return target
