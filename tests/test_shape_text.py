"""Qt-free pieces the window shows: a shape measured for the Shapes list, shapes as clipboard text."""
import math

import pytest

from iunet_gui.core.annotation import Shape
from iunet_gui.core.clipboard import shapes_from_json, shapes_to_json
from iunet_gui.core.errors import AnnotationError
from iunet_gui.core.measure import describe_shape, measure_shape, shape_outline


def test_rectangle_and_circle_are_measured_through_their_outline():
    rect = Shape("hole", [[10, 10], [110, 30]], "rectangle")
    assert shape_outline(rect) == [[10, 10], [110, 10], [110, 30], [10, 30]]
    d = measure_shape(rect, mm_per_px=0.1)
    assert d.length_px == pytest.approx(100) and d.width_px == pytest.approx(20)
    assert d.length_mm == pytest.approx(10.0) and d.label == "hole"
    circle = Shape("hole", [[50, 50], [80, 50]], "circle")
    d = measure_shape(circle)
    assert 2 * 30 * math.cos(math.pi / 64) <= d.length_px <= 60 + 1e-6


def test_describe_gives_label_kind_and_length():
    bar = Shape("scratch", [[0, 0], [50, 0], [50, 10], [0, 10]])
    assert describe_shape(bar) == "scratch — 50.0 px"
    assert describe_shape(bar, 0.02) == "scratch — 1.00 mm"
    assert describe_shape(Shape("hole", [[0, 0], [3, 4]], "rectangle")) == "hole ▭ — 4.0 px"
    assert describe_shape(Shape("scratch", [[0, 0], [1, 1]])) == "scratch — 2 point(s), incomplete"
    assert measure_shape(Shape("scratch", [[0, 0], [1, 1]])) is None


def test_mask_shape_is_measured_through_its_pixels():
    import base64

    import cv2
    import numpy as np

    m = np.zeros((10, 40), np.uint8)
    m[4:6, 5:35] = 255
    data = base64.b64encode(cv2.imencode(".png", m)[1].tobytes()).decode()
    d = measure_shape(Shape("scratch", [[100, 200], [139, 209]], "mask", mask=data))
    assert (d.length_px, d.width_px) == pytest.approx((29, 1))  # through pixel centres, as masks are measured
    assert d.centroid == pytest.approx((100 + 19.5, 200 + 4.5))


def test_clipboard_text_round_trip_gives_new_equal_shapes():
    a = Shape("scratch", [[1, 2], [30, 2], [30, 40]], description="note", extra={"k": 1})
    b = Shape("hole", [[5, 5], [9, 9]], "circle")
    back = shapes_from_json(shapes_to_json([a, b]))
    assert [s.to_dict() for s in back] == [a.to_dict(), b.to_dict()]
    assert back[0] is not a


@pytest.mark.parametrize("text", ["hello", "[]", '{"shapes": 3}', '{"shapes": [{"points": [[0, 0]]}]}'])
def test_clipboard_text_that_is_not_shapes_is_refused(text):
    with pytest.raises(AnnotationError, match="clipboard"):
        shapes_from_json(text)
