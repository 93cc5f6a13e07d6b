"""Annotations in the labelme JSON format (labelme 5/6), read and written faithfully.

Unknown keys, top-level and per shape, are kept in `extra` and written back. Nothing the
operator drew is dropped: a degenerate polygon is kept with a warning (geometry skips it).
"""
from __future__ import annotations

import base64
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

from iunet_gui.core.atomic import atomic_write_json
from iunet_gui.core.errors import AnnotationError

LABELME_VERSION = "5.5.0"
MAX_IMAGE_SIDE = 65535  # larger sides are taken as corrupt (JPEG's own limit; keeps masks allocatable)
SHAPE_TYPES = ("polygon", "rectangle", "circle", "line", "linestrip", "point", "points", "mask")
_MIN_POINTS = {"polygon": 3, "rectangle": 2, "circle": 2, "line": 2, "linestrip": 2, "point": 1, "points": 1, "mask": 2}
_SHAPE_KEYS = ("label", "points", "group_id", "description", "shape_type", "flags", "mask")
_TOP_KEYS = ("version", "flags", "shapes", "imagePath", "imageData", "imageHeight", "imageWidth")


@dataclass(eq=False)
class Shape:
    """One labelled shape. Two shapes are equal only when they are the same object: a copy
    lying on its original is still another shape (find and remove shapes by identity)."""

    label: str
    points: list[list[float]]
    shape_type: str = "polygon"
    group_id: int | None = None
    description: str = ""
    flags: dict = field(default_factory=dict)
    mask: str | None = None  # base64 PNG of a "mask" shape, as labelme stores it
    extra: dict = field(default_factory=dict)  # unknown per-shape keys, written back as they were

    @property
    def min_points(self) -> int:
        """The fewest points a shape of its type needs (1 for a type labelme does not know)."""
        return _MIN_POINTS.get(self.shape_type, 1)

    @property
    def is_degenerate(self) -> bool:
        """Too few points for its type: kept and shown, skipped by geometry and measurement."""
        return len(self.points) < self.min_points

    def to_dict(self) -> dict:
        d = {
            "label": self.label,
            "points": [[float(x), float(y)] for x, y in self.points],
            "group_id": self.group_id,
            "description": self.description,
            "shape_type": self.shape_type,
            "flags": dict(self.flags),
            "mask": self.mask,
        }
        d.update(self.extra)
        return d

    def copy(self) -> Shape:
        return Shape.from_dict(json.loads(json.dumps(self.to_dict())))

    @classmethod
    def from_dict(cls, d: dict) -> Shape:
        return cls(
            label=d["label"], points=[list(p) for p in d["points"]], shape_type=d.get("shape_type") or "polygon",
            group_id=d.get("group_id"), description=d.get("description") or "", flags=dict(d.get("flags") or {}),
            mask=d.get("mask"), extra={k: v for k, v in d.items() if k not in _SHAPE_KEYS},
        )


@dataclass
class Annotation:
    image_path: str
    image_width: int
    image_height: int
    shapes: list[Shape] = field(default_factory=list)
    flags: dict = field(default_factory=dict)
    image_data: str | None = None
    version: str = LABELME_VERSION
    extra: dict = field(default_factory=dict)  # unknown top-level keys (e.g. "mm_per_px")
    warnings: list[str] = field(default_factory=list)  # not saved: what loading had to fix

    # -- calibration and flags -------------------------------------------------------------
    @property
    def mm_per_px(self) -> float | None:
        v = self.extra.get("mm_per_px")
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v < 1e12:
            return None  # absent, or not a usable scale (the key is kept as it was)
        return float(v)

    @mm_per_px.setter
    def mm_per_px(self, value: float | None) -> None:
        if value is None:
            self.extra.pop("mm_per_px", None)
        else:
            self.extra["mm_per_px"] = float(value)

    @property
    def defect_free(self) -> bool:
        return bool(self.flags.get("defect_free"))

    @classmethod
    def empty(cls, image_path: str | os.PathLike, width: int, height: int) -> Annotation:
        return cls(image_path=Path(image_path).name, image_width=int(width), image_height=int(height))

    # -- (de)serialisation --------------------------------------------------------------------
    def to_dict(self) -> dict:
        d: dict[str, Any] = {
            "version": self.version,
            "flags": dict(self.flags),
            "shapes": [s.to_dict() for s in self.shapes],
            "imagePath": self.image_path,
            "imageData": self.image_data,
            "imageHeight": int(self.image_height),
            "imageWidth": int(self.image_width),
        }
        for k, v in self.extra.items():
            if k not in d:
                d[k] = v
        return d

    def save(self, path: str | os.PathLike) -> None:
        """Write labelme JSON atomically (temp file + fsync + os.replace)."""
        atomic_write_json(path, self.to_dict(), indent=2)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Annotation:
        path = Path(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise AnnotationError(f"{path}: annotation file not found") from None
        except IsADirectoryError:
            raise AnnotationError(f"{path}: is a folder, not an annotation file") from None
        except OSError as exc:
            raise AnnotationError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise AnnotationError(f"{path}: not UTF-8 text (byte {exc.start}); is this a labelme JSON file?") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AnnotationError(f"{path}: broken JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
        except RecursionError:
            raise AnnotationError(f"{path}: JSON nested too deeply") from None
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: Any, source: str = "<annotation>") -> Annotation:
        """Validate labelme data; raise AnnotationError naming `source` and the problem."""
        def fail(msg: str) -> AnnotationError:
            return AnnotationError(f"{source}: {msg}")

        if not isinstance(data, dict):
            raise fail(f"expected a JSON object at the top level, found {type(data).__name__}")
        if "shapes" not in data:  # e.g. a predict report or another tool's JSON: never treat it as empty
            raise fail("not a labelme annotation (no 'shapes' list)")
        warnings: list[str] = []
        image_path = data.get("imagePath")
        if image_path is None:
            image_path = ""
        if not isinstance(image_path, str):
            raise fail("'imagePath' must be a string")
        image_data = data.get("imageData")
        if image_data is not None and not isinstance(image_data, str):
            raise fail("'imageData' must be a base64 string or null")
        if "\\" in image_path:  # as labelme does: Windows separators become '/'
            image_path = PureWindowsPath(image_path).as_posix()
        height, width = data.get("imageHeight"), data.get("imageWidth")
        for key, value in (("imageHeight", height), ("imageWidth", width)):
            if value is not None and not _is_size(value):
                raise fail(f"'{key}' must be a whole number from 0 to {MAX_IMAGE_SIDE}, found {value!r:.40}")
        if image_data:
            actual_w, actual_h = _size_from_image_data(image_data, fail, required=height is None or width is None)
            if actual_w is None:
                warnings.append("'imageData' is not a decodable image (kept as is; labelme cannot open this file)")
            elif (width, height) != (actual_w, actual_h):
                if height is not None and width is not None:  # labelme trusts the embedded image too
                    warnings.append(f"imageWidth/imageHeight {width}x{height} differ from the embedded image "
                                    f"({actual_w}x{actual_h}); using the image's size")
                width, height = actual_w, actual_h
        height = int(height or 0)
        width = int(width or 0)
        flags = data.get("flags")
        if flags is None:
            flags = {}
        if not isinstance(flags, dict):
            raise fail("'flags' must be an object")
        version = data.get("version", LABELME_VERSION)
        if not isinstance(version, str):
            version = str(version)
        raw_shapes = data.get("shapes", [])
        if raw_shapes is None:
            raw_shapes = []
        if not isinstance(raw_shapes, list):
            raise fail("'shapes' must be a list")
        shapes = [_parse_shape(i, s, width, height, fail, warnings) for i, s in enumerate(raw_shapes)]
        extra = {k: v for k, v in data.items() if k not in _TOP_KEYS}
        ann = cls(image_path=image_path, image_width=width, image_height=height, shapes=shapes, flags=flags,
                  image_data=image_data, version=version, extra=extra)
        if "mm_per_px" in extra and ann.mm_per_px is None:
            warnings.append(f"'mm_per_px' must be a positive number, found {extra['mm_per_px']!r:.40}; ignored")
        ann.warnings = [f"{source}: {w}" for w in warnings]
        return ann


def _is_size(value: Any) -> bool:
    """A JSON image side: a whole number in [0, MAX_IMAGE_SIDE] (5.0 is accepted, True is not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return False
    return 0 <= value <= MAX_IMAGE_SIDE


def _size_from_image_data(image_data: str, fail, required: bool) -> tuple[int | None, int | None]:
    """(width, height) of the embedded base64 image, read from its header (Pillow, no full decode).

    An undecodable image is an error only when the JSON gives no size (`required`)."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(base64.b64decode(image_data, validate=False))) as pil:
            w, h = int(pil.width), int(pil.height)
        if 0 < w <= MAX_IMAGE_SIDE and 0 < h <= MAX_IMAGE_SIDE:
            return w, h
    except Exception:
        pass
    if required:
        raise fail("'imageData' is not a decodable image and imageHeight/imageWidth are missing")
    return None, None


def _parse_shape(i: int, s: Any, width: int, height: int, fail, warnings: list[str]) -> Shape:
    where = f"shape {i}"
    if not isinstance(s, dict):
        raise fail(f"{where}: expected an object, found {type(s).__name__}")
    label = s.get("label")
    if not isinstance(label, str):
        raise fail(f"{where}: 'label' must be a string, found {type(label).__name__}")
    where = f"shape {i} ({label!r})"
    shape_type = s.get("shape_type") or "polygon"
    if not isinstance(shape_type, str):
        raise fail(f"{where}: 'shape_type' must be a string")
    if shape_type not in SHAPE_TYPES:
        warnings.append(f"{where}: unknown shape_type {shape_type!r}, kept as is")
    group_id = s.get("group_id")
    if group_id is not None and (not isinstance(group_id, int) or isinstance(group_id, bool)):
        raise fail(f"{where}: 'group_id' must be a whole number or null, found {group_id!r}")
    description = s.get("description") or ""
    if not isinstance(description, str):
        raise fail(f"{where}: 'description' must be a string")
    flags = s.get("flags") or {}
    if not isinstance(flags, dict):
        raise fail(f"{where}: 'flags' must be an object")
    mask = s.get("mask")
    if mask is not None and not isinstance(mask, str):
        raise fail(f"{where}: 'mask' must be a base64 string or null")
    raw_points = s.get("points", [])
    if not isinstance(raw_points, list):
        raise fail(f"{where}: 'points' must be a list of [x, y] pairs")
    points: list[list[float]] = []
    clipped = 0
    for j, p in enumerate(raw_points):
        if (not isinstance(p, (list, tuple)) or len(p) != 2
                or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in p)):
            raise fail(f"{where}: point {j} must be [x, y] numbers, found {p!r}")
        try:
            x, y = float(p[0]), float(p[1])
        except OverflowError:
            raise fail(f"{where}: point {j} has a coordinate too large for a number ({p!r:.60})") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise fail(f"{where}: point {j} has a NaN or infinite coordinate ({p[0]!r}, {p[1]!r})")
        if width > 0 and height > 0 and shape_type != "mask":
            cx, cy = min(max(x, 0.0), float(width - 1)), min(max(y, 0.0), float(height - 1))
            if (cx, cy) != (x, y):
                clipped += 1
                x, y = cx, cy
        points.append([x, y])
    if clipped:
        warnings.append(f"{where}: {clipped} point(s) outside the {width}x{height} image were clipped to it")
    shape = Shape(label=label, points=points, shape_type=shape_type, group_id=group_id, description=description,
                  flags=flags, mask=mask, extra={k: v for k, v in s.items() if k not in _SHAPE_KEYS})
    if shape.is_degenerate:
        warnings.append(f"{where}: a {shape_type} needs at least {shape.min_points} points, has "
                        f"{len(points)}; kept, but ignored for masks and measurement")
    return shape


def sidecar_path(image_path: str | os.PathLike) -> Path:
    """The labelme sidecar of an image: name.json beside name.ext."""
    return Path(image_path).with_suffix(".json")


PREDICTED_PREFIX = "predicted by "  # a predicted shape's description starts with it (image status "predicted")


def predicted_shapes(mask, label: str, model_name: str, min_area: float = 4.0, tolerance: float = 1.0) -> list[Shape]:
    """A predicted defect mask as editable labelme polygons of class `label`, each described as
    predicted by `model_name` (so the image list shows the image as predicted until it is reviewed)."""
    from iunet_gui.core.geometry import mask_to_polygons

    return [Shape(label, [[round(float(x), 2), round(float(y), 2)] for x, y in poly],
                  description=PREDICTED_PREFIX + model_name)
            for poly in mask_to_polygons(mask, tolerance=tolerance, min_area=min_area)]
