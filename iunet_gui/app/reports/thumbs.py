"""Report thumbnails: the photo, small, with the predicted defects over it (the mask tinted where the
caller has it) and each defect's rotated rectangle in its verdict's colour, as a JPEG data URI."""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

COLOURS_BGR = {"ng": (40, 40, 230), "check": (0, 165, 255), "ok": (60, 200, 240)}  # NG red, check orange, ok yellow
THUMB_WIDTH = 360


def thumbnail_uri(image_path, defects: list[dict], mask: np.ndarray | None = None, width: int = THUMB_WIDTH) -> str | None:
    """`data:image/jpeg;base64,...` of the image with its defects drawn; None when it cannot be read."""
    import cv2

    from iunet_gui.core.errors import IunetError
    from iunet_gui.core.images import load_image

    try:
        rgb = load_image(Path(image_path), "rgb")
    except (IunetError, OSError):
        return None
    img = np.ascontiguousarray(rgb[..., ::-1])
    h, w = img.shape[:2]
    scale = min(1.0, width / w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    if mask is not None:  # the predicted mask, at the image's size or already shrunk (small_mask)
        m = cv2.resize(np.asarray(mask, np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
        tint = small.copy()
        tint[m] = (0, 0, 255)
        small = cv2.addWeighted(tint, 0.45, small, 0.55, 0)
    for d in defects:
        box = np.asarray(d.get("box") or [], np.float64).reshape(-1, 2)
        if len(box) < 2:
            continue
        colour = COLOURS_BGR.get(d.get("judged") or "ok", COLOURS_BGR["ok"])
        pts = np.round(box * scale * 4).astype(np.int32)
        cv2.polylines(small, [pts], True, colour, 2, cv2.LINE_AA, shift=2)
    ok, jpg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 82])
    return "data:image/jpeg;base64," + base64.b64encode(jpg.tobytes()).decode("ascii") if ok else None


def small_mask(mask: np.ndarray, width: int = THUMB_WIDTH) -> np.ndarray:
    """A predicted mask shrunk to thumbnail size (kept per image for a report, at little memory)."""
    import cv2

    h, w = mask.shape[:2]
    scale = min(1.0, width / w)
    m = np.asarray(mask, np.uint8)
    return cv2.resize(m, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA) > 0
