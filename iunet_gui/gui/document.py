"""The open image, its annotation document and undo history: loading, dirty state, atomic save.
No widgets here."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from iunet_gui.core.annotation import Annotation, Shape
from iunet_gui.core.document import AnnotationDocument
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


class EditHistory:
    """The edits of each image opened while a folder is open: its annotation document and undo
    stack, so that going back to an image brings its undo history back. A record is used again
    only while it matches the file on disk and holds no discarded edits."""

    def __init__(self):
        self._kept: dict[Path, dict] = {}

    def take(self, image: Path, stamp) -> tuple[AnnotationDocument, QUndoStack] | None:
        rec = self._kept.get(image)
        if rec is None or rec["dirty"] or rec["stamp"] != stamp:
            self._kept.pop(image, None)
            return None
        rec["release"]()  # the document that had it before stops listening
        return rec["edits"], rec["stack"]

    def keep(self, image: Path, edits: AnnotationDocument, stack: QUndoStack, stamp, release) -> None:
        self._kept[image] = {"edits": edits, "stack": stack, "stamp": stamp, "dirty": False, "release": release}

    def update(self, image: Path, **values) -> None:
        if image in self._kept:
            self._kept[image].update(values)

    def forget(self, image: Path) -> None:
        self._kept.pop(image, None)

    def clear(self) -> None:
        self._kept.clear()


def _stamp(path: Path):
    """What identifies a file's content cheaply: (mtime, size), or None when it does not exist."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


class ImageDocument(QObject):
    """One image + its annotation document and undo stack. `changed` fires on every edit,
    `dirty_changed` when the unsaved state flips, `saved` after a successful write."""

    changed = Signal()
    dirty_changed = Signal(bool)
    saved = Signal(str)

    def __init__(self, project: Project, image_path: Path, history: EditHistory | None = None):
        super().__init__()
        self.project = project
        self.image_path = Path(image_path)
        self.history = history
        self.image = None
        self.edits: AnnotationDocument | None = None
        self.undo_stack = QUndoStack()
        self.warnings: list[str] = []
        self._dirty = False
        self._unsubscribe = None

    def load(self) -> None:
        """Load the image and its sidecar (or take back this image's kept edits and undo history);
        raises IunetError (the caller shows it)."""
        self.image = load_image(self.image_path, "rgb")
        h, w = self.image.shape[:2]
        sidecar = self.project.annotation_path(self.image_path)
        kept = self.history.take(self.image_path, _stamp(sidecar)) if self.history is not None else None
        if kept is not None:
            edits, self.undo_stack = kept
            self._attach(edits)
            self.warnings = []
            self._keep()
            return
        ann = self.project.load_annotation(self.image_path)
        if ann is None:
            ann = Annotation.empty(self.image_path, w, h)
        else:
            if (ann.image_width, ann.image_height) != (w, h):
                if ann.image_width and ann.image_height:
                    ann.warnings.append(f"{self.image_path.name}: the JSON says {ann.image_width}x{ann.image_height}"
                                        f" but the image is {w}x{h}; using the image's size")
                ann.image_width, ann.image_height = w, h
        self._attach(AnnotationDocument(ann))
        self.undo_stack.clear()
        self.warnings = list(ann.warnings)
        self._keep()

    def _attach(self, edits: AnnotationDocument) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.edits = edits
        self._unsubscribe = edits.subscribe(self._edited)

    def _release(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _keep(self) -> None:
        if self.history is not None and self.edits is not None:
            stamp = _stamp(self.project.annotation_path(self.image_path))
            self.history.keep(self.image_path, self.edits, self.undo_stack, stamp, self._release)

    @property
    def annotation(self) -> Annotation | None:
        return self.edits.annotation if self.edits else None

    @annotation.setter
    def annotation(self, ann: Annotation) -> None:
        """A new annotation starts a new document and undo history. One set from outside (e.g. in
        place of a labels file that cannot be read) is not kept: the image is read again next time."""
        self._attach(AnnotationDocument(ann))
        self.undo_stack.clear()
        if self.history is not None:
            self.history.forget(self.image_path)

    @property
    def shapes(self) -> list[Shape]:
        return self.edits.shapes if self.edits else []

    @property
    def dirty(self) -> bool:
        return self._dirty

    def _edited(self, change) -> None:
        self.mark_dirty()

    def mark_dirty(self) -> None:
        self.changed.emit()
        if not self._dirty:
            self._dirty = True
            if self.history is not None:
                self.history.update(self.image_path, dirty=True)
            self.dirty_changed.emit(True)

    def save(self) -> None:
        """Atomic write of the labelme sidecar (unknown keys kept). Raises OSError/IunetError."""
        if self.annotation is None:
            return
        self.annotation.image_path = self.image_path.name
        self.project.save_annotation(self.image_path, self.annotation)
        if self.history is not None:
            self.history.update(self.image_path, dirty=False,
                                stamp=_stamp(self.project.annotation_path(self.image_path)))
        if self._dirty:
            self._dirty = False
            self.dirty_changed.emit(False)
        self.saved.emit(str(self.project.annotation_path(self.image_path)))

    def mm_per_px(self) -> float | None:
        return self.project.mm_per_px_for(self.image_path, self.annotation)
