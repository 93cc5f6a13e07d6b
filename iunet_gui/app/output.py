"""Where a prediction's files go and how they are written: stem.png (mask), stem_prob.png
(probability) and the measured defects as JSON, optionally labelme polygons; never over the images
and labels they came from."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from iunet_gui.core.errors import IunetError


def output_folder(out, image, mirror_root=None) -> Path:
    """Where an image's prediction files go: `out`, or with `mirror_root` the image's own sub-folder
    of it repeated under `out` (two images of one name in two class folders do not overwrite each
    other's files)."""
    if mirror_root is None:
        return Path(out)
    try:
        return Path(out) / Path(image).parent.relative_to(mirror_root)
    except ValueError:  # not under the root
        return Path(out)


def check_output_folder(out, images, mirror_root=None) -> None:
    """Refuse an output folder where any image's files would land beside it: its stem.png mask and
    stem.json would overwrite the image and the operator's labels there."""
    clash = sorted({Path(p).name for p in images
                    if output_folder(out, p, mirror_root).resolve() == Path(p).resolve().parent})
    if clash:
        raise IunetError(f"{Path(out).resolve()}: the predictions would be written over the images and labels "
                         f"there ({', '.join(clash[:3])}{' …' if len(clash) > 3 else ''}); choose another output "
                         "folder")


def save_prediction(out, image, res, predictor, mm_per_px: float | None,
                    labelme: bool = False) -> list[Path]:
    """Write one image's prediction into the folder `out` as `iunet-gui predict` does: stem.png (mask
    0/255), stem_prob.png (probability 0..255) and the measured defects as JSON: stem.json, or with
    `labelme` stem_defects.json plus stem.json as labelme polygons of the mask. A multi-class model's
    JSON also names its classes, its polygons take each defect's kind, and stem_classes.png holds its
    class map (0 = background, k = the k-th class). Each file is written atomically; returns the paths written."""
    from iunet_gui.core.annotation import Annotation, predicted_shapes
    from iunet_gui.core.atomic import atomic_write_json
    from iunet_gui.core.images import save_image, save_mask

    out, image = Path(out), Path(image)
    stem = image.stem
    written = [out / f"{stem}.png", out / f"{stem}_prob.png", out / (f"{stem}_defects.json" if labelme else
                                                                         f"{stem}.json")]
    save_mask(written[0], res.mask)
    save_image(written[1], (res.prob * 255 + 0.5).astype(np.uint8))
    atomic_write_json(written[2], {
        "image": str(image), "model": predictor.name, "backend": predictor.backend,
        "threshold": predictor.threshold, "flip_mean": predictor.tta, "mm_per_px": mm_per_px,
        "timing_ms": {k: round(v, 1) for k, v in res.timing_ms.items()},
        "defects": [d.to_dict() for d in res.defects],
        **({"classes": list(res.classes)} if getattr(res, "class_map", None) is not None else {})})
    kinds = getattr(res, "class_map", None)
    if labelme:
        h, w = res.mask.shape
        ann = Annotation(image_path=_relpath(image, out), image_width=w, image_height=h)
        ann.mm_per_px = mm_per_px
        if kinds is None:
            ann.shapes.extend(predicted_shapes(res.mask, "defect", predictor.name, min_area=predictor.min_area_px))
        else:
            for k, name in enumerate(res.classes, start=1):
                ann.shapes.extend(predicted_shapes(kinds == k, name, predictor.name, min_area=predictor.min_area_px))
        ann.save(out / f"{stem}.json")
        written.append(out / f"{stem}.json")
    if kinds is not None:
        save_image(out / f"{stem}_classes.png", kinds)
        written.append(out / f"{stem}_classes.png")
    return written


def _relpath(img: Path, out: Path) -> str:
    """The image's path as seen from the output folder (labelme resolves imagePath against its JSON)."""
    try:
        return os.path.relpath(img.resolve(), out.resolve())
    except ValueError:  # another drive on Windows
        return str(img.resolve())
