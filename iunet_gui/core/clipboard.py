"""Shapes on the clipboard: labelme shape objects as JSON text, so a copy can be pasted into
another image, another window, or a text editor."""
from __future__ import annotations

import json

from iunet_gui.core.annotation import Annotation, Shape
from iunet_gui.core.errors import AnnotationError


def shapes_to_json(shapes: list[Shape]) -> str:
    """`{"shapes": [labelme shape, ...]}` as text."""
    return json.dumps({"shapes": [s.to_dict() for s in shapes]})


def shapes_from_json(text: str) -> list[Shape]:
    """New shapes from `shapes_to_json` text, validated as labelme shapes are; raises AnnotationError."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise AnnotationError("clipboard: not shapes copied from iunet-gui (no JSON)") from None
    if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
        raise AnnotationError("clipboard: not shapes copied from iunet-gui (no 'shapes' list)")
    return Annotation.from_dict({"shapes": data["shapes"]}, source="clipboard").shapes
