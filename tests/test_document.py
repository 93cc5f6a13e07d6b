"""The Qt-free annotation document: edits find shapes by identity and report what changed."""
import pytest

from iunet_gui.core.annotation import Annotation, Shape
from iunet_gui.core.document import ADDED, FLAGS, LABEL, POINTS, REMOVED, REPLACED, AnnotationDocument


def make():
    doc = AnnotationDocument(Annotation.empty("a.png", 100, 80))
    seen = []
    doc.subscribe(seen.append)
    return doc, seen


def test_a_copy_on_top_of_its_original_is_another_shape():
    doc, seen = make()
    original = Shape("scratch", [[1.0, 1.0], [20.0, 1.0], [10.0, 15.0]])
    copy = original.copy()
    assert copy != original and copy.to_dict() == original.to_dict()
    doc.add([original])
    doc.add([copy])
    assert doc.remove([copy]) == [1]
    assert doc.shapes == [original] and doc.shapes[0] is original
    doc.set_points(original, [[2, 2], [21, 2], [11, 16]])
    assert doc.annotation.to_dict()["shapes"][0]["points"] == [[2.0, 2.0], [21.0, 2.0], [11.0, 16.0]]
    assert [c.kind for c in seen] == [ADDED, ADDED, REMOVED, POINTS]
    assert seen[2].shapes[0] is copy and seen[3].shapes[0] is original


def test_shapes_go_back_where_they_were():
    doc, _ = make()
    a, b, c = (Shape(x, [[0, 0], [5, 0], [0, 5]]) for x in "abc")
    doc.add([a, b, c])
    positions = doc.remove([c, a])
    assert positions == [2, 0] and doc.shapes == [b]
    doc.add([c, a], positions)
    assert [s.label for s in doc.shapes] == ["a", "b", "c"]


def test_edits_of_a_shape_not_in_the_document_are_refused():
    doc, seen = make()
    inside = Shape("a", [[0, 0], [5, 0], [0, 5]])
    doc.add([inside])
    stranger = inside.copy()
    for edit in (lambda: doc.set_points(stranger, [[1, 1]]), lambda: doc.set_label(stranger, "b"),
                 lambda: doc.remove([stranger]), lambda: doc.replace(stranger, Shape("c", [[0, 0]]))):
        with pytest.raises(ValueError, match="not in this annotation"):
            edit()
    with pytest.raises(ValueError, match="already in this annotation"):
        doc.add([inside])
    assert stranger not in doc and inside in doc and len(seen) == 1


def test_label_replace_and_flags_are_reported():
    doc, seen = make()
    a = Shape("a", [[0, 0], [5, 0], [0, 5]])
    doc.add([a])
    doc.set_label(a, "hole")
    b = Shape("b", [[1, 1], [6, 1], [1, 6]])
    doc.replace(a, b)
    doc.set_flag("reviewed", True)
    doc.set_flag("reviewed", None)
    assert [c.kind for c in seen] == [ADDED, LABEL, REPLACED, FLAGS, FLAGS]
    assert seen[2].old is a and seen[2].shapes == (b,)
    assert doc.shapes == [b] and a.label == "hole" and doc.flags == {}


def test_unsubscribe_stops_the_reports():
    doc = AnnotationDocument(Annotation.empty("a.png", 10, 10))
    seen = []
    stop = doc.subscribe(seen.append)
    doc.set_flag("reviewed", True)
    stop()
    doc.set_flag("reviewed", None)
    assert len(seen) == 1
