"""Saving keeps what a file carried: an embedded image (labelme's imageData) survives a save, from
the core and from the window (edit with a real key, save with Ctrl+S)."""
import base64
import json

import numpy as np

from iunet_gui.core.annotation import Annotation, Shape
from iunet_gui.core.images import encode_image


def _embedded_png(w=40, h=30):
    img = np.zeros((h, w, 3), np.uint8)
    img[5:20, 10:30] = (200, 60, 20)
    return img, base64.b64encode(encode_image(img)).decode()


def _labelme_file(path, data):
    path.write_text(json.dumps({
        "version": "5.5.0", "flags": {}, "imagePath": "a.png", "imageData": data, "imageHeight": 30,
        "imageWidth": 40, "shapes": [{"label": "scratch", "points": [[2, 2], [12, 2]], "group_id": None,
                                      "description": "", "shape_type": "line", "flags": {}, "mask": None}]}))


def test_an_embedded_image_survives_load_edit_and_save(tmp_path):
    img, data = _embedded_png()
    src = tmp_path / "a.json"
    _labelme_file(src, data)
    ann = Annotation.load(src)
    ann.shapes.append(Shape("hole", [[20, 20], [25, 25]], shape_type="rectangle"))
    ann.save(tmp_path / "b.json")
    saved = json.loads((tmp_path / "b.json").read_text())["imageData"]
    assert saved == data
    import cv2

    decoded = cv2.imdecode(np.frombuffer(base64.b64decode(saved), np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
    assert np.array_equal(decoded, img)


def test_the_window_keeps_an_embedded_image_when_it_saves(qtbot, tmp_path):
    from PySide6.QtCore import Qt

    from iunet_gui.core.images import save_image
    from tests.gui_util import open_window

    folder = tmp_path / "imgs"
    folder.mkdir()
    img, data = _embedded_png()
    save_image(folder / "a.png", img)
    _labelme_file(folder / "a.json", data)
    win = open_window(qtbot, tmp_path, folder)
    with qtbot.waitActive(win):
        win.activateWindow()
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key_R, Qt.ControlModifier | Qt.ShiftModifier)  # Mark Reviewed: an edit
    assert win.document.dirty
    qtbot.keyClick(win.canvas, Qt.Key_S, Qt.ControlModifier)
    assert not win.document.dirty
    saved = json.loads((folder / "a.json").read_text())
    assert saved["flags"].get("reviewed") is True and saved["imageData"] == data
