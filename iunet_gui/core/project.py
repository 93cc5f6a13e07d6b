"""A project: a folder of images with labelme JSON sidecars (or image + mask pairs), plus a
small settings file `iunet_project.json` (classes and colours, mm-per-pixel calibration)."""
from __future__ import annotations

import errno
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from iunet_gui.core.annotation import Annotation, sidecar_path
from iunet_gui.core.atomic import atomic_write_json
from iunet_gui.core.errors import AnnotationError, ProjectError
from iunet_gui.core.images import IMAGE_SUFFIXES, read_mask

SETTINGS_FILE = "iunet_project.json"
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}
BROKEN_SUFFIX = ".broken"  # a labels file set aside so its image's labels can start over: name.json.broken


@dataclass
class ClassInfo:
    name: str
    color: str  # "#rrggbb"
    visible: bool = True


DEFAULT_CLASSES = (
    ClassInfo("scratch", "#e6194b"),
    ClassInfo("edge_crack", "#f58231"),
    ClassInfo("hole", "#4363d8"),
    ClassInfo("oxidation", "#3cb44b"),
)
_FALLBACK_COLORS = ("#911eb4", "#42d4f4", "#f032e6", "#bfef45", "#469990", "#9a6324", "#800000", "#000075")


@dataclass
class ProjectSettings:
    classes: list[ClassInfo] = field(default_factory=lambda: [ClassInfo(**asdict(c)) for c in DEFAULT_CLASSES])
    mm_per_px: float | None = None
    washer_outer_diameter_mm: float | None = None
    extra: dict = field(default_factory=dict)

    def color_of(self, label: str) -> str:
        for c in self.classes:
            if c.name == label:
                return c.color
        return _FALLBACK_COLORS[sum(map(ord, label)) % len(_FALLBACK_COLORS)]

    def ensure_class(self, label: str) -> ClassInfo:
        for c in self.classes:
            if c.name == label:
                return c
        info = ClassInfo(label, self.color_of(label))
        self.classes.append(info)
        return info

    def to_dict(self) -> dict:
        d = {"classes": [asdict(c) for c in self.classes], "mm_per_px": self.mm_per_px,
             "washer_outer_diameter_mm": self.washer_outer_diameter_mm}
        d.update({k: v for k, v in self.extra.items() if k not in d})
        return d

    @classmethod
    def from_dict(cls, d: dict, source: str = SETTINGS_FILE) -> ProjectSettings:
        if not isinstance(d, dict):
            raise ProjectError(f"{source}: expected a JSON object")
        raw_classes = d.get("classes")
        if raw_classes is not None and not isinstance(raw_classes, list):
            raise ProjectError(f"{source}: 'classes' must be a list, found {type(raw_classes).__name__}")
        classes = []
        for i, c in enumerate(raw_classes or []):
            if isinstance(c, str):
                c = {"name": c}
            if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not c["name"]:
                raise ProjectError(f"{source}: class {i} needs a non-empty 'name'")
            color = c.get("color")
            if not (isinstance(color, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", color)):
                color = _FALLBACK_COLORS[i % len(_FALLBACK_COLORS)]
            classes.append(ClassInfo(c["name"], color.lower(), bool(c.get("visible", True))))
        out = cls(classes=classes or [ClassInfo(**asdict(c)) for c in DEFAULT_CLASSES])
        for key in ("mm_per_px", "washer_outer_diameter_mm"):
            v = d.get(key)
            if v is not None:
                if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v < 1e12:
                    raise ProjectError(f"{source}: '{key}' must be a positive number, found {v!r:.40}")
                setattr(out, key, float(v))
        out.extra = {k: v for k, v in d.items() if k not in ("classes", "mm_per_px", "washer_outer_diameter_mm")}
        return out


RUNS_FOLDER = "iunet_runs"  # the window's training runs: <project>/iunet_runs/<date-time>/
PREDICTIONS_FOLDER = "iunet_predictions"  # Save all predictions offers <project>/iunet_predictions/<run>/
GENERATED_FOLDERS = {RUNS_FOLDER, PREDICTIONS_FOLDER}  # written by the app: never scanned as images


def new_run_folder(project_folder, now: float | None = None) -> Path:
    """A training run's folder, not yet made: <project>/iunet_runs/<date-time>/, with -2, -3, ... added
    when one of that second exists (a run never trains into another's folder)."""
    import time

    stamp = Path(project_folder) / RUNS_FOLDER / time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    out, k = stamp, 1
    while out.exists():
        k += 1
        out = stamp.with_name(f"{stamp.name}-{k}")
    return out


def predictions_folder(project_folder, checkpoint) -> Path:
    """Where a model's predictions of the project are offered to go: <project>/iunet_predictions/<name>,
    the run's folder name for a checkpoint of the window's runs, else the checkpoint's own name."""
    ckpt = Path(checkpoint)
    name = ckpt.parent.name if ckpt.parent.parent.name == RUNS_FOLDER else ckpt.stem
    return Path(project_folder) / PREDICTIONS_FOLDER / name


def natural_key(path: Path) -> list:
    """Sort key: img2 before img10 (a relative path sorts folder by folder)."""
    parts = path.parts if not path.is_absolute() else (path.name,)
    return [[(0, int(t)) if t.isdigit() else (1, t.lower()) for t in re.split(r"(\d+)", part) if t]
            for part in parts]


def _scan(folder: Path) -> tuple[list[Path], dict[Path, Path]]:
    """Images of one folder, and image -> mask for name.jpg + name.png pairs without a sidecar."""
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
             and not p.name.startswith(".") and p.is_file()]
    by_stem: dict[str, list[Path]] = {}
    for p in files:
        by_stem.setdefault(p.stem, []).append(p)
    masks: dict[Path, Path] = {}
    images: list[Path] = []
    for group in by_stem.values():
        pngs = [p for p in group if p.suffix.lower() == ".png"]
        others = [p for p in group if p.suffix.lower() != ".png"]
        if others and pngs and not sidecar_path(others[0]).exists():
            masks[others[0]] = pngs[0]  # name.jpg + name.png mask
            images.append(others[0])
        else:
            images.extend(group)
    return images, masks


class Project:
    """Images of one folder with their annotations. `kind` is "labelme" or "mask_pairs"."""

    def __init__(self, folder: Path, images: list[Path], kind: str, settings: ProjectSettings,
                 masks: dict[Path, Path] | None = None, settings_error: str | None = None):
        self.folder = folder
        self.images = images
        self.kind = kind
        self.settings = settings
        self.masks = masks or {}
        self.settings_error = settings_error  # set when the settings file was broken (left untouched)

    @classmethod
    def open(cls, folder, strict: bool = False) -> Project:
        """Scan a folder. A broken settings file raises ProjectError with `strict`, else defaults
        are used, `settings_error` says why, and the file is not overwritten until saved."""
        folder = Path(folder)
        if not folder.exists():
            raise ProjectError(f"{folder}: folder not found")
        if not folder.is_dir():
            raise ProjectError(f"{folder}: not a folder")
        try:
            images, masks = _scan(folder)
            if not images:  # a data set root of class folders (MT_Crack/, MT_Free/, ...): one level down
                for sub in sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")
                                   and p.name not in GENERATED_FOLDERS), key=natural_key):
                    more, more_masks = _scan(sub)
                    images += more
                    masks.update(more_masks)
        except OSError as exc:
            raise ProjectError(f"{folder}: cannot list the folder ({exc.strerror or exc})") from None
        kind = "mask_pairs" if masks and len(masks) >= len(images) / 2 else "labelme"
        order = lambda p: natural_key(p.relative_to(folder))  # noqa: E731
        if kind == "labelme":
            images = sorted(set(images) | set(masks.values()), key=order)
            masks = {}
        else:
            images = sorted(images, key=order)
        settings, error = ProjectSettings(), None
        sp = folder / SETTINGS_FILE
        if sp.exists():
            try:
                settings = ProjectSettings.from_dict(json.loads(sp.read_text(encoding="utf-8")), str(sp))
            except (ProjectError, ValueError, UnicodeDecodeError, OSError) as exc:
                error = str(exc) if isinstance(exc, ProjectError) else f"{sp}: unreadable settings ({exc})"
                if strict:
                    raise ProjectError(error) from None
        return cls(folder, images, kind, settings, masks, error)

    # -- settings -------------------------------------------------------------------------------
    @property
    def settings_path(self) -> Path:
        return self.folder / SETTINGS_FILE

    def save_settings(self) -> None:
        atomic_write_json(self.settings_path, self.settings.to_dict())
        self.settings_error = None

    @property
    def specification(self):
        """The part's core.spec.Specification stored in the settings file (key "specification"), None
        when none is set; a stored one that makes no sense raises core.errors.SpecError naming the file."""
        from iunet_gui.core.spec import Specification

        raw = self.settings.extra.get("specification")
        return None if raw is None else Specification.from_dict(raw, f"{self.settings_path}: specification")

    @specification.setter
    def specification(self, spec) -> None:
        """Store `spec` (a Specification, or None to remove it) and save the settings file atomically."""
        if spec is None:
            self.settings.extra.pop("specification", None)
        else:
            self.settings.extra["specification"] = spec.to_dict()
        self.save_settings()

    # -- annotations ----------------------------------------------------------------------------
    def annotation_path(self, image: Path) -> Path:
        return sidecar_path(image)

    def load_annotation(self, image: Path) -> Annotation | None:
        """The image's labelme annotation, or None when it has no sidecar. Raises AnnotationError."""
        p = self.annotation_path(Path(image))
        return Annotation.load(p) if p.exists() else None

    def save_annotation(self, image: Path, ann: Annotation) -> None:
        ann.save(self.annotation_path(Path(image)))

    def set_aside_annotation(self, image: Path) -> Path:
        """Move the image's sidecar to `name.json.broken` (`.broken.2`, `.broken.3`, … when that name
        is taken) so its labels can start over; returns the new path. Never overwrites a file."""
        source = self.annotation_path(Path(image))
        for n in range(1, 1000):
            target = source.with_name(source.name + BROKEN_SUFFIX + (f".{n}" if n > 1 else ""))
            if target.exists():
                continue
            try:
                os.link(source, target)  # fails when the target exists: nothing is overwritten
                os.unlink(source)
            except FileExistsError:
                continue
            except OSError as exc:
                if not source.exists() or exc.errno not in _NO_HARD_LINKS:
                    raise ProjectError(f"{source}: cannot keep it aside as {target.name} "
                                       f"({exc.strerror or exc})") from None
                os.replace(source, target)  # a file system without hard links: the name was free just now
            return target
        raise ProjectError(f"{source}: too many {BROKEN_SUFFIX} copies beside it; remove some first")

    def mm_per_px_for(self, image: Path, annotation: Annotation | None = None) -> float | None:
        """Per-image calibration (the sidecar's "mm_per_px") if any, else the project's."""
        if annotation is None:
            try:
                annotation = self.load_annotation(image)
            except AnnotationError:
                annotation = None
        if annotation is not None and annotation.mm_per_px:
            return annotation.mm_per_px
        return self.settings.mm_per_px

    def ground_truth_mask(self, image: Path, labels=None) -> np.ndarray | None:
        """Bool defect mask of an image from its mask file or labelme shapes; None if unlabelled.
        A defect-free flagged annotation gives an all-false mask."""
        from iunet_gui.core.geometry import shapes_to_mask

        image = Path(image)
        if image in self.masks:
            return read_mask(self.masks[image])
        ann = self.load_annotation(image)
        if ann is None:
            return None
        if image.is_file():  # the image's real size wins over the JSON's, as in labelme
            from iunet_gui.core.images import image_size

            ann.image_width, ann.image_height = image_size(image)
        if not (ann.image_width and ann.image_height):
            raise AnnotationError(f"{self.annotation_path(image)}: no image size and the image is not found")
        return shapes_to_mask(ann.shapes, (ann.image_height, ann.image_width), labels)

    def is_labelled(self, image: Path) -> bool:
        return Path(image) in self.masks or self.annotation_path(Path(image)).exists()
