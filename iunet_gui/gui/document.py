"""The open image and its annotation: loading, dirty state, atomic autosave. No widgets here."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from iunet_gui.core.annotation import Annotation, Shape
from iunet_gui.core.errors import IunetError
from iunet_gui.core.images import load_image
from iunet_gui.core.project import Project

STATUS_UNLABELLED, STATUS_LABELLED, STATUS_PREDICTED, STATUS_REVIEWED, STATUS_BROKEN = (
    "unlabelled", "labelled", "predicted", "reviewed", "broken")


def image_status(project: Project, image: Path) -> str:
    """Status shown in the image list, from the sidecar (cheap: no image decoding)."""
    if not project.is_labelled(image):
        return STATUS_UNLABELLED
    if image in project.masks:
        return STATUS_LABELLED
    try:
        ann = project.load_annotation(image)
    except IunetError:
        return STATUS_BROKEN
    if ann is None:
        return STATUS_UNLABELLED
    return annotation_status(ann)


def annotation_status(ann: Annotation) -> str:
    if ann.flags.get("reviewed"):
        return STATUS_REVIEWED
    if ann.flags.get("predicted") or any(s.description.startswith("predicted") for s in ann.shapes):
        return STATUS_PREDICTED
    if ann.shapes or ann.defect_free:
        return STATUS_LABELLED
    return STATUS_UNLABELLED


class ImageDocument(QObject):
    """One image + its annotation. `changed` fires on every edit, `dirty_changed` when the
    unsaved state flips, `saved` after a successful write."""

    changed = Signal()
    dirty_changed = Signal(bool)
    saved = Signal(str)

    def __init__(self, project: Project, image_path: Path):
        super().__init__()
        self.project = project
        self.image_path = Path(image_path)
        self.image = None
        self.annotation: Annotation | None = None
        self.warnings: list[str] = []
        self._dirty = False

    def load(self) -> None:
        """Load the image and its sidecar; raises IunetError (the caller shows it)."""
        self.image = load_image(self.image_path, "rgb")
        h, w = self.image.shape[:2]
        ann = self.project.load_annotation(self.image_path)
        if ann is None:
            ann = Annotation.empty(self.image_path, w, h)
        else:
            if (ann.image_width, ann.image_height) != (w, h):
                if ann.image_width and ann.image_height:
                    ann.warnings.append(f"{self.image_path.name}: the JSON says {ann.image_width}x{ann.image_height}"
                                        f" but the image is {w}x{h}; using the image's size")
                ann.image_width, ann.image_height = w, h
        self.annotation = ann
        self.warnings = list(ann.warnings)

    @property
    def shapes(self) -> list[Shape]:
        return self.annotation.shapes if self.annotation else []

    @property
    def dirty(self) -> bool:
        return self._dirty

    def mark_dirty(self) -> None:
        self.changed.emit()
        if not self._dirty:
            self._dirty = True
            self.dirty_changed.emit(True)

    def save(self) -> None:
        """Atomic write of the labelme sidecar (unknown keys kept). Raises OSError/IunetError."""
        if self.annotation is None:
            return
        self.annotation.image_path = self.image_path.name
        self.project.save_annotation(self.image_path, self.annotation)
        if self._dirty:
            self._dirty = False
            self.dirty_changed.emit(False)
        self.saved.emit(str(self.project.annotation_path(self.image_path)))

    def mm_per_px(self) -> float | None:
        return self.project.mm_per_px_for(self.image_path, self.annotation)
