"""Training data: labelled images of a project (labelme JSON or image+mask pairs) held in
memory, a deterministic train/validation split, defect-focused random crops, and what a run
trains and validates on (TrainData)."""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import value_indices

from iunet_gui.core.errors import IunetError
from iunet_gui.core.images import load_image
from iunet_gui.core.project import Project


@dataclass
class Item:
    name: str
    image: np.ndarray  # uint8 HxWx3
    mask: np.ndarray  # bool HxW, or float32 in [0, 1] (the share of defect) for an image at input scale
    mm_per_px: float | None = None
    fine: np.ndarray | None = None  # the training target `fine_factor` times finer than `mask` (uint8, 255 = defect)
    fine_factor: int = 1
    kinds: np.ndarray | None = None  # multi-class: uint8 HxW kind of each pixel (0 = background, k = the k-th
    # kind), or at input scale float32 HxWxK, the share of each kind per pixel; None for binary training


def scaled_items(items: list[Item], scale: float, fine: int = 1, kinds: int = 0) -> list[Item]:
    """The training images as the network sees them at input scale `scale` (the `scale` setting): image
    area-averaged, mask a soft target (share of defect per pixel), mm per pixel scaled; with
    `fine` > 1 also the target `fine` times finer (the `fine_loss` setting), which the crops then return;
    kind maps become the shares of each of the `kinds` kinds per pixel (HxWxK)."""
    from iunet_gui.inference.preprocess import fine_mask, rescale_image, rescale_mask

    if scale == 1 and fine == 1:
        return [it if it.kinds is None or it.kinds.ndim == 3 else
                Item(it.name, it.image, it.mask, it.mm_per_px, kinds=kind_shares(it.kinds, 1, it.mask.shape, kinds))
                for it in items]
    out = []
    for it in items:
        image = rescale_image(it.image, scale)
        f = None
        if fine > 1:
            f = np.round(fine_mask(it.mask, image.shape[:2], fine) * 255).astype(np.uint8)
        shares = None if it.kinds is None else kind_shares(it.kinds, scale, image.shape[:2], kinds)
        out.append(Item(it.name, image, rescale_mask(it.mask, scale),
                        it.mm_per_px / scale if it.mm_per_px else it.mm_per_px, f, fine if fine > 1 else 1, shares))
    return out


def kind_shares(kinds: np.ndarray, scale: float, hw: tuple[int, int], count: int = 0) -> np.ndarray:
    """float32 HxWxK share of each of `count` kinds per pixel at input scale `scale` of a uint8 kind
    map (`hw`: the scaled size); a HxWxK array is returned as it is."""
    from iunet_gui.inference.preprocess import rescale_mask

    if kinds.ndim == 3:
        return kinds
    out = np.zeros((hw[0], hw[1], count), np.float32)
    for k in range(count):
        out[..., k] = rescale_mask(kinds == k + 1, scale) if (kinds == k + 1).any() else 0
    return out


def labelled_images(folder, skipped: list | None = None) -> tuple[Project, list[Path]]:
    """Images with ground truth: a sidecar with shapes or the defect_free flag, or a mask file.
    Unreadable sidecars are left out; their messages go to `skipped` when given."""
    project = Project.open(folder)
    out = []
    for img in project.images:
        if img in project.masks:
            out.append(img)
            continue
        try:
            ann = project.load_annotation(img)
        except IunetError as exc:
            if skipped is not None:
                skipped.append(str(exc))
            continue
        if ann is not None and (ann.shapes or ann.defect_free):
            out.append(img)
    return project, out


def load_items(folder, limit: int | None = None, progress=None, kinds: list[str] | None = None) -> list[Item]:
    """Load every labelled image of `folder` with its binary defect mask (all classes = 1). With
    `kinds` (a list, filled in place) each item also gets its kind map: labelme shapes by their
    label, image + mask pairs by the name of the folder the image lies in; kinds met that the list
    lacks are appended to it (start it from the project's class list, `project_kinds`)."""
    from iunet_gui.core.progress import ProgressEvent

    skipped: list[str] = []
    project, images = labelled_images(folder, skipped)
    if skipped and progress:
        progress(ProgressEvent("notice", message=f"{len(skipped)} unreadable annotation(s) left out: "
                                                 + "; ".join(skipped[:3]) + (" ..." if len(skipped) > 3 else "")))
    if not images:
        raise IunetError(f"{folder}: no labelled images (labelme JSON with shapes or the defect_free flag, "
                         f"or image + mask pairs)")
    images = images[:limit] if limit else images
    items = []
    for k, img in enumerate(images):
        image = load_image(img, "rgb")
        mask = project.ground_truth_mask(img)
        if mask is None or mask.shape != image.shape[:2]:
            raise IunetError(f"{img}: ground truth size {None if mask is None else mask.shape[::-1]} "
                             f"does not match the image {image.shape[1::-1]}")
        kind_map = None if kinds is None else _kind_map(project, img, mask, kinds)
        items.append(Item(img.name, image, mask, project.mm_per_px_for(img), kinds=kind_map))
        if progress:
            progress(ProgressEvent("load", step=k + 1, steps=len(images), message=img.name))
    return items


def project_kinds(folder) -> list[str]:
    """The kinds a multi-class network is trained on, before loading: the project's class list for
    labelme projects; for image + mask pairs none yet (their folders name them while loading)."""
    return kinds_of(Project.open(folder))


def kinds_of(project: Project) -> list[str]:
    """project_kinds of an open project."""
    return [] if project.kind == "mask_pairs" else [c.name for c in project.settings.classes]


def _kind_map(project: Project, img: Path, mask: np.ndarray, kinds: list[str]) -> np.ndarray:
    """uint8 kind map of one image (0 = background, k = kinds[k - 1]); a later kind wins where two overlap."""
    from iunet_gui.core.geometry import shapes_to_mask

    out = np.zeros(mask.shape, np.uint8)
    if img in project.masks:
        folder = img.parent
        name = folder.name if folder != project.folder else "defect"
        if mask.any():
            if name not in kinds:
                kinds.append(name)
            out[mask] = kinds.index(name) + 1
        return out
    ann = project.load_annotation(img)
    for shape in ann.shapes if ann is not None else []:
        if shape.label not in kinds:
            kinds.append(shape.label)
    if len(kinds) > 254:
        raise IunetError(f"{project.folder}: more than 254 defect kinds")
    for k, name in enumerate(kinds):
        out[shapes_to_mask(ann.shapes if ann else [], mask.shape, [name])] = k + 1
    return out


def split_items(items: list[Item], val_fraction: float = 0.2, seed: int = 0,
                max_val: int | None = None) -> tuple[list[Item], list[Item]]:
    """Deterministic split by a hash of each name and the seed (stable when files are added).
    `max_val`: at most this many validation images; the rest of the validation share is trained on
    (a labelled image is never left out of both)."""
    if len(items) < 2 or val_fraction <= 0:
        return list(items), []
    keyed = sorted(items, key=lambda it: hashlib.sha1(f"{seed}:{it.name}".encode()).hexdigest())
    n_val = min(max(1, int(round(len(items) * val_fraction))), len(items) - 1)
    if max_val:
        n_val = min(n_val, max_val)
    return keyed[n_val:], keyed[:n_val]


class CropSampler:
    """Random training crops; `focus` of them are centred near a defect, so that small defects
    in a large image are seen often enough (the class-imbalance problem). A focused crop picks
    a defect region of the image at random (each region equally likely, so a thin scratch is
    seen as often as a large stain), then a pixel of it, then shifts the window by up to c/4."""

    def __init__(self, items: list[Item], crop: int = 256, focus: float = 0.7, seed: int = 0, zoom: float = 0.0,
                 area_sampling: float = 0.0):
        """`zoom` > 0: each crop is shown at a random scale s, log-uniform in [1 / (1 + zoom), 1 + zoom]
        (a window of crop / s pixels resized to crop; the mask resized bilinearly to a soft target).
        `area_sampling` k > 0: an image is drawn with weight 1 + k * (its share of defect pixels), so
        images mostly covered by a defect are seen more often (0: every image alike)."""
        import cv2

        if not items:
            raise IunetError("no training images")
        if area_sampling < 0:
            raise IunetError("area_sampling must be >= 0 (0 = every image alike)")
        self.items, self.crop, self.focus, self.zoom = items, crop, focus, zoom
        self.rng = np.random.default_rng(seed)
        self.image_probability = None  # of each item being drawn; None: all alike
        if area_sampling > 0:
            w = np.array([1 + area_sampling * float(np.mean(np.asarray(it.mask) > 0)) for it in items])
            self.image_probability = w / w.sum()
        # multi-class: the HxWxK shares of the kinds (scaled_items), the crops' targets
        self.targets = [it.kinds if it.kinds is not None and it.kinds.ndim == 3 else None for it in items]
        self.regions = []  # per item: list of (N, 2) arrays of (y, x) defect pixels, one per region
        for it in items:
            n, labels = cv2.connectedComponents((np.asarray(it.mask) > 0).astype(np.uint8), connectivity=8)
            where = value_indices(labels, ignore_value=0) if n > 1 else {}
            self.regions.append([np.stack(where[k], axis=1) for k in range(1, n)])

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        """(image crop, its target): the mask crop, or for an item with a finer target (the
        `fine_loss` setting) the matching crop of that, `fine_factor` times the size, float32 in [0, 1];
        for multi-class items the crop of their kinds' shares (HxWxK)."""
        n, p = len(self.items), self.image_probability
        k = int(self.rng.integers(n) if p is None else self.rng.choice(n, p=p))
        it, regions = self.items[k], self.regions[k]
        h, w = it.mask.shape
        f = it.fine_factor if it.fine is not None else 1
        c = self.crop
        if self.zoom > 0 and f == 1:  # the window this crop is cut from, before resizing to `crop`
            r = np.log1p(self.zoom)
            c = max(4, int(round(self.crop / float(np.exp(self.rng.uniform(-r, r))))))
        if regions and self.rng.random() < self.focus:
            pix = regions[int(self.rng.integers(len(regions)))]
            cy, cx = pix[int(self.rng.integers(len(pix)))]
            y0 = int(cy) - c // 2 + int(self.rng.integers(-c // 4, c // 4 + 1))
            x0 = int(cx) - c // 2 + int(self.rng.integers(-c // 4, c // 4 + 1))
        else:
            y0, x0 = int(self.rng.integers(0, max(h - c, 0) + 1)), int(self.rng.integers(0, max(w - c, 0) + 1))
        y0, x0 = min(max(y0, 0), max(h - c, 0)), min(max(x0, 0), max(w - c, 0))
        img = it.image[y0:y0 + c, x0:x0 + c]
        if f > 1:
            m = it.fine[f * y0:f * (y0 + c), f * x0:f * (x0 + c)].astype(np.float32) * np.float32(1 / 255)
        elif self.targets[k] is not None:
            m = self.targets[k][y0:y0 + c, x0:x0 + c]
        else:
            m = it.mask[y0:y0 + c, x0:x0 + c]
        if img.shape[0] < c or img.shape[1] < c:  # image smaller than the crop: pad by reflection,
            # the mask alike, so that a mirrored defect is labelled as one (not as background)
            ph, pw = c - img.shape[0], c - img.shape[1]
            mode = "reflect" if min(img.shape[:2]) > 1 else "edge"
            img = np.pad(img, ((0, ph), (0, pw), (0, 0)), mode=mode)
            if f > 1:
                h0, w0 = c - ph, c - pw
                m = m[np.ix_(_fine_pad_index(h0, ph, f, mode), _fine_pad_index(w0, pw, f, mode))]
            else:
                m = np.pad(m, ((0, ph), (0, pw)) + ((0, 0),) * (m.ndim - 2), mode=mode)
        if c != self.crop:  # zoomed: the window resized to the crop size, its mask to a soft target
            import cv2

            size = (self.crop, self.crop)
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA if c > self.crop else cv2.INTER_LINEAR)
            img = img[:, :, None] if img.ndim == 2 and it.image.ndim == 3 else img  # cv2 drops a single channel
            resized = cv2.resize(m.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
            m = np.clip(resized.reshape(size + m.shape[2:]), 0.0, 1.0)  # cv2 drops a single channel
        return img, m


def _fine_pad_index(n: int, pad: int, f: int, mode: str) -> np.ndarray:
    """Indices into a target `f` times finer than an axis of n pixels that np.pad(..., mode) pads by
    `pad`: each padded pixel takes the fine pixels of its source, in reverse order where mirrored."""
    src = np.pad(np.arange(n), (0, pad), mode=mode)
    mirrored = np.diff(src, prepend=src[0] - 1) < 0
    sub = np.arange(f)
    return (f * src[:, None] + np.where(mirrored[:, None], f - 1 - sub, sub)).ravel()


def data_summary(train: list[Item], val: list[Item], source, kinds: list[str] | None = None) -> dict:
    def stats(items):
        return {"images": len(items), "defect_free": int(sum(not it.mask.any() for it in items)),
                "defect_pixel_share": float(np.mean([it.mask.mean() for it in items])) if items else 0.0}

    out = {"source": str(source), "train": stats(train), "val": stats(val),
            "train_names": [it.name for it in train][:1000], "val_names": [it.name for it in val][:1000]}
    if kinds:
        out["kinds"] = list(kinds)
        out["kind_pixel_share"] = {name: float(np.mean([np.mean(it.kinds == k + 1) for it in train])) if train else 0.0
                                   for k, name in enumerate(kinds)}
    return out


@dataclass
class TrainData:
    """What a run trains and validates on."""

    train_items: list
    val_items: list
    summary: dict
    rotate: bool
    kinds: list[str] | None = None  # multi-class: the names of the kinds (K); None: binary

    @classmethod
    def load(cls, cfg, progress, cancel) -> TrainData:
        """The training images at the input scale, the validation images at full size, and whether
        the crops are rotated. Raises Cancelled when `cancel` is set while loading."""
        from iunet_gui.core.progress import Cancelled, ProgressEvent
        from iunet_gui.training.augment import DIRECTED_GRADIENT_RATIO, texture_direction

        def load_progress(ev):
            progress(ev)
            if cancel.cancelled:
                raise Cancelled("training stopped while loading the data")

        progress(ProgressEvent("load", message=f"loading {cfg.data}"))
        kinds = project_kinds(cfg.data) if cfg.multiclass else None
        items = load_items(cfg.data, limit=cfg.limit_images, progress=load_progress, kinds=kinds)
        if cfg.exclude:
            left_out = set(cfg.exclude)
            items = [it for it in items if it.name not in left_out]
            if not items:
                raise IunetError(f"{cfg.data}: every labelled image is left out of training (exclude)")
            progress(ProgressEvent("notice", message=f"{len(left_out)} image(s) left out of training and validation"))
        if cfg.val:
            train_items, val_items = items, load_items(cfg.val, progress=load_progress, kinds=kinds)
        else:
            train_items, val_items = split_items(items, cfg.val_fraction, cfg.seed, cfg.max_val_images)
        val_items = val_items[: cfg.max_val_images] if cfg.max_val_images else val_items
        if kinds is not None and not kinds:
            raise IunetError(f"{cfg.data}: multi-class training found no defect kinds (no labelled shapes, no "
                             f"masks with defects)")
        summary = data_summary(train_items, val_items, cfg.data, kinds)
        train_items = scaled_items(train_items, cfg.scale, int(cfg.fine_loss), len(kinds or ()))  # the full-size copies are dropped
        direction = texture_direction(it.image for it in train_items)
        directed = abs(direction) > math.log(DIRECTED_GRADIENT_RATIO)
        rotate = cfg.rotate == "on" or (cfg.rotate == "auto" and not directed)
        if cfg.rotate == "auto" and not rotate:
            progress(ProgressEvent("notice", message=(
                f"the training images share a texture direction (streaks run "
                f"{'top to bottom' if direction > 0 else 'left to right'}, gradients {math.exp(abs(direction)):.2f}x "
                f"stronger across them): training crops are mirrored but not rotated "
                f"(--set rotate=on to rotate them too)")))
        summary["texture_direction"], summary["rotate"] = round(direction, 3), rotate
        return cls(train_items, val_items, summary, rotate, kinds)
