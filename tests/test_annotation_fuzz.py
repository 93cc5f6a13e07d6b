import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from iunet_gui.core.annotation import Annotation
from iunet_gui.core.errors import AnnotationError

huge = st.sampled_from([10 ** 400, -(10 ** 400), 1e308, 65536, 2 ** 63])  # overflow float(), absurd sizes
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=5)
    | huge,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
point = st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text(max_size=2), huge),
                 min_size=0, max_size=3)
shape = st.fixed_dictionaries(
    {"label": st.one_of(st.text(max_size=5), st.integers(), st.none()),
     "points": st.one_of(st.lists(point, max_size=6), json_values)},
    optional={"shape_type": st.one_of(st.sampled_from(["polygon", "rectangle", "circle", "line", "point", "bogus"]),
                                      json_values),
              "group_id": json_values, "flags": json_values, "description": json_values, "mask": json_values},
)
document = st.fixed_dictionaries(
    {},
    optional={"shapes": st.one_of(st.lists(shape, max_size=4), json_values), "imageHeight": json_values,
              "imageWidth": json_values, "imagePath": json_values, "imageData": json_values, "flags": json_values,
              "version": json_values},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document)
@example({"shapes": [{"label": "", "points": [], "shape_type": "bogus"}]})  # an unknown type with too few points
def test_reader_never_fails_with_anything_but_its_own_error(doc):
    try:
        ann = Annotation.from_dict(doc, source="fuzz.json")
    except AnnotationError as exc:
        assert "fuzz.json" in str(exc)
        return
    json.dumps(ann.to_dict(), allow_nan=True)  # whatever loads can be written back


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_only_annotation_errors(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("fz") / "x.json"
    p.write_bytes(data)
    try:
        Annotation.load(p)
    except AnnotationError:
        pass


lone_surrogates = st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(document, st.one_of(st.none(), lone_surrogates))
def test_whatever_loads_saves_and_reloads_identically(tmp_path, doc, odd_label):
    """Loading, saving and loading again changes nothing more (clipping etc. happen once)."""
    if odd_label is not None and isinstance(doc.get("shapes"), list) and doc["shapes"] \
            and isinstance(doc["shapes"][0], dict):
        doc["shapes"][0]["label"] = odd_label  # "\ud800" is legal escaped JSON, not encodable UTF-8
    try:
        ann = Annotation.from_dict(doc, source="fuzz.json")
    except AnnotationError:
        return
    p = tmp_path / "rt.json"
    ann.save(p)
    again = Annotation.load(p)
    assert json.dumps(again.to_dict(), sort_keys=True) == json.dumps(ann.to_dict(), sort_keys=True)
