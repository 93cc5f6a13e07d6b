"""A folder whose first image no decoder accepts opens: that image is marked broken with the
"cannot read image" message, and the next one opens with the toolbar's Next Image button."""
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolBar

from iunet_gui.core.images import save_image
from iunet_gui.gui.document import STATUS_BROKEN
from tests.gui_util import open_window
from tests.image_files import png_claiming


def test_a_first_image_beyond_the_decoders_limit_is_marked_broken(qtbot, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    png_claiming(folder / "a_huge.png")
    save_image(folder / "b_fine.png", np.full((40, 60, 3), 90, np.uint8))
    win = open_window(qtbot, tmp_path, folder)
    assert win.document is None and win.images_dock.status(0) == STATUS_BROKEN
    assert any("cannot read image" in e and "a_huge.png" in e for e in win.errors)
    toolbar = win.findChild(QToolBar)
    qtbot.mouseClick(toolbar.widgetForAction(win.act_next), Qt.LeftButton)  # the toolbar's Next Image
    qtbot.waitUntil(lambda: win.document is not None)
    assert win.document.image_path.name == "b_fine.png"
