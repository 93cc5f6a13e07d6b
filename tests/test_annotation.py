import json
import math
from pathlib import Path

import pytest

from iunet_gui.core.annotation import Annotation, Shape, sidecar_path
from iunet_gui.core.errors import AnnotationError

DATA = Path(__file__).parent / "data"


def test_loads_a_file_written_by_labelme():
    ann = Annotation.load(DATA / "labelme_written.json")
    assert (ann.image_width, ann.image_height) == (160, 100)
    assert ann.image_data is None and ann.image_path == "part_01.png"
    assert [s.shape_type for s in ann.shapes] == ["rectangle", "polygon", "circle", "linestrip", "point", "line"]
    poly = ann.shapes[1]
    assert poly.group_id == 3 and poly.description == "checked by QA" and poly.flags == {"occluded": False}
    assert poly.extra == {"other_tool_key": "kept"}
    assert ann.extra == {"customTopLevel": {"operator": "anna"}}
    assert ann.warnings == []


def test_round_trip_keeps_every_key_exactly(tmp_path):
    src = json.loads((DATA / "labelme_written.json").read_text())
    out = tmp_path / "part_01.json"
    Annotation.load(DATA / "labelme_written.json").save(out)
    assert json.loads(out.read_text()) == src


def test_written_file_has_labelme_key_order_and_types(tmp_path):
    ann = Annotation.empty("a.png", 20, 10)
    ann.shapes.append(Shape("scratch", [[1, 1], [5, 1], [5, 5]]))
    ann.save(tmp_path / "a.json")
    d = json.loads((tmp_path / "a.json").read_text())
    assert list(d)[:7] == ["version", "flags", "shapes", "imagePath", "imageData", "imageHeight", "imageWidth"]
    assert list(d["shapes"][0]) == ["label", "points", "group_id", "description", "shape_type", "flags", "mask"]
    assert d["shapes"][0]["points"] == [[1.0, 1.0], [5.0, 1.0], [5.0, 5.0]]


def test_size_is_read_from_image_data_when_missing(tmp_path):
    import base64

    import numpy as np

    from iunet_gui.core.images import encode_image

    data = base64.b64encode(encode_image(np.zeros((7, 11, 3), np.uint8))).decode()
    p = tmp_path / "x.json"
    p.write_text(json.dumps({"shapes": [], "imageData": data, "imagePath": "x.png"}))
    ann = Annotation.load(p)
    assert (ann.image_width, ann.image_height) == (11, 7)


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"{not json", "broken JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"[1, 2]", "JSON object"),
        (b'{"shapes": {}}', "'shapes' must be a list"),
        (b'{"shapes": [{"label": 3, "points": []}]}', "'label' must be a string"),
        (b'{"shapes": [{"label": "a", "points": [[1, "x"]]}]}', "point 0"),
        (b'{"shapes": [{"label": "a", "points": [[NaN, 1], [2, 2], [3, 3]]}]}', "NaN"),
        (b'{"shapes": [{"label": "a", "points": [[Infinity, 1], [2, 2], [3, 3]]}]}', "infinite"),
        (b'{"imageWidth": -4, "shapes": []}', "imageWidth"),
        (b'{"shapes": [{"label": "a", "points": [], "group_id": "g"}]}', "group_id"),
    ],
)
def test_bad_files_raise_a_clear_error_naming_the_file(tmp_path, content, fragment):
    p = tmp_path / "bad.json"
    p.write_bytes(content)
    with pytest.raises(AnnotationError) as exc:
        Annotation.load(p)
    assert str(p) in str(exc.value) and fragment in str(exc.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(AnnotationError, match="not found"):
        Annotation.load(tmp_path / "nope.json")


def test_degenerate_polygon_is_kept_with_a_warning(tmp_path):
    p = tmp_path / "a.json"
    p.write_text(json.dumps({"imageWidth": 50, "imageHeight": 50,
                             "shapes": [{"label": "scratch", "points": [[1, 1], [3, 4]], "shape_type": "polygon"}]}))
    ann = Annotation.load(p)
    assert len(ann.shapes) == 1 and ann.shapes[0].is_degenerate
    assert any("at least 3 points" in w for w in ann.warnings)
    ann.save(p)
    assert len(json.loads(p.read_text())["shapes"]) == 1  # never dropped on save


def test_points_outside_the_image_are_clipped_with_a_warning(tmp_path):
    p = tmp_path / "a.json"
    p.write_text(json.dumps({"imageWidth": 50, "imageHeight": 40,
                             "shapes": [{"label": "s", "points": [[-5, 2], [60, 10], [20, 45]]}]}))
    ann = Annotation.load(p)
    assert ann.shapes[0].points == [[0.0, 2.0], [49.0, 10.0], [20.0, 39.0]]
    assert any("clipped" in w for w in ann.warnings)


def test_mm_per_px_is_an_extra_key_that_survives(tmp_path):
    ann = Annotation.empty("a.jpg", 10, 10)
    ann.mm_per_px = 0.035
    ann.save(tmp_path / "a.json")
    again = Annotation.load(tmp_path / "a.json")
    assert math.isclose(again.mm_per_px, 0.035)
    assert json.loads((tmp_path / "a.json").read_text())["mm_per_px"] == 0.035


def test_sidecar_path():
    assert sidecar_path("/x/washer_001.jpg") == Path("/x/washer_001.json")


def test_shape_copy_is_deep():
    s = Shape("a", [[1, 2], [3, 4], [5, 6]], extra={"k": [1]})
    c = s.copy()
    c.points[0][0] = 99
    c.extra["k"].append(2)
    assert s.points[0][0] == 1 and s.extra == {"k": [1]}


@pytest.mark.parametrize("doc, fragment", [
    ({"imageWidth": 10 ** 400, "shapes": []}, "imageWidth"),
    ({"imageWidth": 1e300, "imageHeight": 10, "shapes": []}, "imageWidth"),
    ({"imageWidth": 20.5, "imageHeight": 10, "shapes": []}, "whole number"),
    ({"shapes": [{"label": "a", "points": [[10 ** 400, 1], [1, 2], [3, 4]]}]}, "too large"),
])
def test_absurd_numbers_are_clear_errors(doc, fragment):
    with pytest.raises(AnnotationError, match=fragment) as exc:
        Annotation.from_dict(doc, source="odd.json")
    assert "odd.json" in str(exc.value) and len(str(exc.value)) < 200


def _b64_png(w, h):
    import base64

    import numpy as np

    from iunet_gui.core.images import encode_image

    return base64.b64encode(encode_image(np.zeros((h, w, 3), np.uint8))).decode()


def test_embedded_image_size_wins_over_a_wrong_declared_size_with_a_warning():
    ann = Annotation.from_dict({"shapes": [], "imageData": _b64_png(11, 7), "imageWidth": 100, "imageHeight": 70})
    assert (ann.image_width, ann.image_height) == (11, 7)
    assert any("differ from the embedded image" in w for w in ann.warnings)
    ok = Annotation.from_dict({"shapes": [], "imageData": _b64_png(11, 7), "imageWidth": 11, "imageHeight": 7})
    assert ok.warnings == []


def test_undecodable_image_data_with_a_declared_size_loads_with_a_warning():
    ann = Annotation.from_dict({"shapes": [], "imageData": "bm90IGFuIGltYWdl", "imageWidth": 10, "imageHeight": 8})
    assert (ann.image_width, ann.image_height) == (10, 8) and ann.image_data == "bm90IGFuIGltYWdl"
    assert any("not a decodable image" in w for w in ann.warnings)


def test_windows_image_path_is_normalised_like_labelme():
    ann = Annotation.from_dict({"shapes": [], "imagePath": "..\\photos\\w 01.jpg", "imageWidth": 4, "imageHeight": 4})
    assert ann.image_path == "../photos/w 01.jpg"


@pytest.mark.parametrize("value", [0, -0.02, "0.03", float("inf"), 10 ** 400, True])
def test_unusable_mm_per_px_is_ignored_with_a_warning_and_kept(tmp_path, value):
    ann = Annotation.from_dict({"shapes": [], "imageWidth": 4, "imageHeight": 4, "mm_per_px": value}, source="c.json")
    assert ann.mm_per_px is None and any("mm_per_px" in w for w in ann.warnings)
    assert ann.to_dict()["mm_per_px"] is value  # the operator's value is not rewritten


def test_saves_byte_for_byte_what_labelme_writes(tmp_path):
    """labelme_5_5_saved.json was written by labelme 5.5's own writer (LabelFile.save:
    json.dump(data, ensure_ascii=False, indent=2)); re-saving it changes no byte but the final newline."""
    src = DATA / "labelme_5_5_saved.json"
    ann = Annotation.load(src)
    assert [s.shape_type for s in ann.shapes] == ["rectangle", "polygon"] and ann.image_data is None
    assert ann.shapes[1].label == "oxidation_ä" and ann.shapes[1].description == "Fleck, geprüft"
    ann.save(tmp_path / "out.json")
    assert (tmp_path / "out.json").read_bytes() == src.read_bytes() + b"\n"


def test_a_json_that_is_not_labelme_is_refused_not_read_as_empty(tmp_path):
    p = tmp_path / "w.json"
    p.write_text(json.dumps({"image": "w.jpg", "defects": [{"length_px": 40}], "mm_per_px": 0.03}))
    with pytest.raises(AnnotationError, match="not a labelme annotation"):
        Annotation.load(p)
