"""The open image's flags, Mark Reviewed and Mark Defect-Free: each change is an undoable edit of its labels."""
from __future__ import annotations

from PySide6.QtGui import QAction

from iunet_gui.gui import commands as cmd


def toggle_reviewed(win) -> None:
    _toggle(win, "reviewed", win.act_reviewed)


def toggle_defect_free(win) -> None:
    """Mark the image defect-free or not; an image with shapes cannot be marked."""
    if win.document and win.document.shapes and not win.document.annotation.defect_free:
        win.statusBar().showMessage("This image has shapes: delete them before marking it defect-free", 5000)
        win.act_defect_free.setChecked(False)
        return
    _toggle(win, "defect_free", win.act_defect_free)


def _toggle(win, key: str, action: QAction) -> None:
    if win.document is None:
        action.setChecked(False)
        return
    value = not bool(win.document.annotation.flags.get(key))
    win.canvas.undo_stack.push(cmd.SetFlag(win.canvas.edits, key, value if value else None))


def show_flags(win) -> None:
    """Check the flag actions as the open image's labels say."""
    flags = win.document.annotation.flags if win.document and win.document.annotation else {}
    win.act_reviewed.setChecked(bool(flags.get("reviewed")))
    win.act_defect_free.setChecked(bool(flags.get("defect_free")))
