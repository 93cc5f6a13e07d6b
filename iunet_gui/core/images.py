"""Image files in, normalised 8-bit arrays out (RGB or gray), and atomic image/mask writes."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from iunet_gui.core.atomic import atomic_write_bytes
from iunet_gui.core.errors import ImageLoadError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def is_image_file(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def _to_uint8(img: np.ndarray) -> np.ndarray:
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.uint16:
        # 10/12/14-bit cameras store their values in 16-bit files: scale by the bit depth the
        # data uses (the next standard depth above its maximum), so they are not near black.
        used = int(img.max()).bit_length() if img.size else 16
        depth = next(d for d in (8, 10, 12, 14, 16) if used <= d)
        return (img >> (depth - 8)).astype(np.uint8) if depth > 8 else img.astype(np.uint8)
    if img.dtype == bool:
        return img.astype(np.uint8) * 255
    if np.issubdtype(img.dtype, np.floating):
        img = np.nan_to_num(img.astype(np.float64))
        hi = float(img.max()) if img.size else 1.0
        scale = 255.0 if hi <= 1.0 else 1.0
        return np.clip(img * scale, 0, 255).astype(np.uint8)
    info = np.iinfo(img.dtype)
    return np.clip(img.astype(np.float64) * 255.0 / max(info.max, 1), 0, 255).astype(np.uint8)


def _decode(path: Path) -> np.ndarray:
    """Decode with OpenCV (handles non-ASCII paths via imdecode), Pillow as fallback. Any decoder
    failure (cv2.error for a header beyond OpenCV's pixel limit, Pillow's decompression-bomb check,
    a truncated file) raises ImageLoadError "cannot read image PATH: reason"."""
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0:
        raise ImageLoadError(f"cannot read image {path}: the file is empty")
    try:
        img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    except Exception as exc:
        reason = _reason(exc)
        if "MAX_IMAGE_PIXELS" in reason:
            reason = f"its header claims more pixels than the decoder accepts ({reason})"
        raise ImageLoadError(f"cannot read image {path}: {reason}") from None
    if img is not None:
        if img.ndim == 3 and img.shape[2] == 4:
            img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
        elif img.ndim == 3 and img.shape[2] == 3:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        return _apply_exif_orientation(img, exif_orientation(path))
    try:
        from PIL import Image

        with Image.open(path) as pil:
            pil.load()
            if pil.mode in ("P", "PA", "CMYK", "YCbCr", "LA"):
                pil = pil.convert("RGBA" if "A" in pil.mode or pil.mode == "P" else "RGB")
            return np.asarray(pil)
    except Exception as exc:
        raise ImageLoadError(f"cannot read image {path}: not a readable image (corrupt or unsupported format: "
                             f"{_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    """A decoder's complaint in one line: OpenCV's "error: (-215:Assertion failed) ... in function"
    text is cut to its message."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, cv2.error) and getattr(exc, "err", None):
        text = " ".join(str(exc.err).split())
    return text[:300]


def exif_orientation(path: str | os.PathLike) -> int:
    """The EXIF orientation tag (1-8) of an image file; 1 when absent or unreadable."""
    try:
        from PIL import Image

        with Image.open(path) as pil:
            value = pil.getexif().get(0x0112, 1)
        return int(value) if int(value) in range(1, 9) else 1
    except Exception:
        return 1


def _apply_exif_orientation(img: np.ndarray, orientation: int) -> np.ndarray:
    """Turn the stored pixels upright as viewers (and labelme) show them (PIL's exif_transpose)."""
    if orientation in (5, 6, 7, 8):
        img = np.swapaxes(img, 0, 1)  # transpose: now also rotate/flip as below
        orientation = {5: 1, 6: 2, 7: 3, 8: 4}[orientation]
    if orientation == 2:
        img = img[:, ::-1]
    elif orientation == 3:
        img = img[::-1, ::-1]
    elif orientation == 4:
        img = img[::-1]
    return np.ascontiguousarray(img)


def _normalised(img: np.ndarray, path: Path) -> np.ndarray:
    """A decoded array as uint8 gray (HxW) or RGB (HxWx3)."""
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim not in (2, 3) or img.size == 0 or min(img.shape[:2]) == 0:
        raise ImageLoadError(f"cannot read image {path}: it has no pixels (shape {img.shape})")
    img = _to_uint8(img)
    if img.ndim == 3:
        if img.shape[2] == 4:
            img = img[:, :, :3]
        elif img.shape[2] == 2:  # gray + alpha
            img = img[:, :, 0]
        elif img.shape[2] != 3:
            raise ImageLoadError(f"cannot read image {path}: unsupported channel count {img.shape[2]}")
    return img


def load_image(path: str | os.PathLike, mode: str = "rgb") -> np.ndarray:
    """Load any common image as uint8: mode "rgb" -> HxWx3, "gray" -> HxW.

    16-bit, float, RGBA (alpha dropped), palette and grayscale images are converted.
    Missing, empty or corrupt files raise ImageLoadError naming the file.
    """
    if mode not in ("rgb", "gray"):
        raise ValueError(f"mode must be 'rgb' or 'gray', not {mode!r}")
    path = Path(path)
    if not path.exists():
        raise ImageLoadError(f"cannot read image {path}: image file not found")
    if path.is_dir():
        raise ImageLoadError(f"cannot read image {path}: it is a folder, not an image")
    try:
        img = _normalised(_decode(path), path)
    except ImageLoadError:
        raise
    except OSError as exc:
        raise ImageLoadError(f"cannot read image {path}: {exc.strerror or _reason(exc)}") from None
    except Exception as exc:
        raise ImageLoadError(f"cannot read image {path}: {_reason(exc)}") from None
    if mode == "gray":
        return img if img.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(img if img.ndim == 3 else cv2.cvtColor(img, cv2.COLOR_GRAY2RGB))


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) as shown upright (EXIF orientation), from the header where Pillow can."""
    try:
        from PIL import Image

        with Image.open(path) as pil:
            w, h = int(pil.width), int(pil.height)
        return (h, w) if exif_orientation(path) in (5, 6, 7, 8) else (w, h)
    except Exception:
        img = load_image(path)
        return img.shape[1], img.shape[0]


def encode_image(array: np.ndarray, suffix: str = ".png", quality: int = 92) -> bytes:
    """Encode an RGB (HxWx3) or gray (HxW) uint8 array to PNG/JPEG/... bytes."""
    img = np.asarray(array)
    if img.dtype == bool:
        img = img.astype(np.uint8) * 255
    elif img.dtype != np.uint8:
        img = _to_uint8(img)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2BGR)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGBA2BGRA)
    elif img.ndim != 2:
        raise ImageLoadError(f"cannot encode an array of shape {img.shape} as an image")
    params = []
    if suffix.lower() in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    try:
        ok, buf = cv2.imencode(suffix, np.ascontiguousarray(img), params)
    except cv2.error:
        ok = False
    if not ok:
        raise ImageLoadError(f"cannot encode an image as {suffix!r} (use .png, .jpg, .bmp or .tif)")
    return buf.tobytes()


def save_image(path: str | os.PathLike, array: np.ndarray, quality: int = 92) -> None:
    """Atomically write an RGB or gray uint8 image; the format follows the suffix."""
    path = Path(path)
    atomic_write_bytes(path, encode_image(array, path.suffix or ".png", quality))


def read_mask(path: str | os.PathLike) -> np.ndarray:
    """A mask image as bool HxW: a pixel is defect where its value is >= 128."""
    return load_image(path, mode="gray") >= 128


def save_mask(path: str | os.PathLike, mask: np.ndarray) -> None:
    """Atomically write a bool mask as a 0/255 PNG."""
    save_image(path, np.asarray(mask, dtype=bool).astype(np.uint8) * 255)
