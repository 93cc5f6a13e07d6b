"""An image or a labels file that cannot be read. A broken image is marked in the list and nothing shows; a
broken labels file leaves its image showing without labels, and the file is never saved over: the user starts
the image's labels over (the file is kept aside as name.json.broken) or leaves them for later."""
from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from iunet_gui.core.annotation import Annotation
from iunet_gui.core.errors import AnnotationError, IunetError
from iunet_gui.gui.document import STATUS_BROKEN, ImageDocument, annotation_status


def show_broken_image(win, row: int, exc: IunetError) -> bool:
    """Mark the image at `row` broken, show nothing of it and tell the user; False (the image is not open)."""
    win.images_dock.set_status(row, STATUS_BROKEN)
    win.document = None
    win.canvas.set_document(None)
    win.status.show_image(None, None)
    win.model_dock.image_opened()  # no prediction of the image before stays on show
    win.qa.image_opened()
    win.error("Cannot open image", f"{exc}\n\nThe file stays in the list, marked broken; nothing was "
                                   f"changed on disk.")
    return False


def without_labels(win, doc: ImageDocument) -> ImageDocument:
    """A document of `doc`'s image with no labels, kept out of the edit history (reopening the image asks
    again); `win.broken_labels` names the labels file that cannot be read."""
    image, path = doc.image, doc.image_path
    doc = ImageDocument(win.project, path)
    doc.image = image
    doc.annotation = Annotation.empty(path, image.shape[1], image.shape[0])
    win.broken_labels = win.project.annotation_path(path)
    return doc


def labels_broken(win, exc: AnnotationError) -> None:
    """The image shows without labels; its labels file stays as it is until the user starts over."""
    win.images_dock.set_status(win.row, STATUS_BROKEN)
    win.status.show_saved(None)
    win.act_start_over.setEnabled(True)
    name = win.broken_labels.name
    if win.ask_start_over(f"{exc}\n\nStart the labels of {win.document.image_path.name} over? {name} is "
                          f"kept beside it as {name}.broken; nothing is deleted."):
        win.start_labels_over()
    else:
        win.statusBar().showMessage(f"{name} cannot be read: edits of this image are not saved until you "
                                    f"start its labels over (Edit > Start Labels Over)", 15000)


def ask_start_over(win, text: str) -> bool:
    """Whether to start a broken labels file over (a dialog; with `win.quiet_errors` the answer is no)."""
    if win.quiet_errors:
        win.errors.append(f"Broken labels file: {text}")
        return False
    box = QMessageBox(QMessageBox.Warning, "Broken labels file", text, parent=win)
    start = box.addButton("Start labels over", QMessageBox.AcceptRole)
    box.addButton("Not now", QMessageBox.RejectRole)
    box.setDefaultButton(start)
    box.exec()
    return box.clickedButton() is start


def start_labels_over(win) -> bool:
    """Keep the open image's broken labels file aside (name.json.broken) and save its labels anew."""
    if win.broken_labels is None or win.document is None:
        return False
    try:
        kept = win.project.set_aside_annotation(win.document.image_path)
    except IunetError as exc:
        win.error("Cannot start the labels over", str(exc))
        return False
    win.broken_labels = None
    win.act_start_over.setEnabled(False)
    win.images_dock.set_status(win.row, annotation_status(win.document.annotation))
    win.status.show_saved(win.document.dirty)
    if win.document.dirty:
        win.autosave_timer.start()
    win.statusBar().showMessage(f"The broken labels file is kept as {kept.name}; this image's labels "
                                f"start over", 10000)
    return True
