"""core.spec: specifications (validated) and the verdicts they give; the project stores one."""
import json
import math

import pytest

from iunet_gui.core.errors import IunetError, SpecError
from iunet_gui.core.measure import Defect
from iunet_gui.core.project import SETTINGS_FILE, Project
from iunet_gui.core.spec import ClassLimits, Specification, judge


def _defect(length_px, width_px=3.0, area_px=60.0, label=None, probability=None):
    d = Defect(length_px, width_px, 0.0, area_px, (10.0, 10.0), [[0, 0], [1, 0], [1, 1], [0, 1]], label=label)
    if probability is not None:
        d.probability = probability
    return d


SPEC = Specification({"scratch": ClassLimits(max_length_mm=2.0), "defect": ClassLimits(max_length_mm=5.0)})


def test_a_defect_over_its_class_limit_is_ng_with_the_reason_in_words():
    v = judge([_defect(10), _defect(34, label="scratch")], SPEC, 0.1, 0.5)
    assert v.status == "NG"
    assert v.reasons == ["scratch 3.4 mm > 2.0 mm"]
    assert v.ng == [1] and v.check == []


def test_a_class_without_limits_of_its_own_is_judged_by_those_of_defect():
    assert judge([_defect(40, label="hole")], SPEC, 0.1, 0.5).status == "OK"
    v = judge([_defect(70, label="hole")], SPEC, 0.1, 0.5)
    assert (v.status, v.reasons) == ("NG", ["hole 7.0 mm > 5.0 mm"])


def test_no_defects_is_ok_and_sizes_within_the_margin_of_a_limit_are_check():
    assert judge([], SPEC, 0.1, 0.5).status == "OK"
    for length in (19.0, 21.0):  # 1.9 and 2.1 mm: within 10 % of 2.0 mm, on either side
        v = judge([_defect(length, label="scratch")], SPEC, 0.1, 0.5)
        assert v.status == "check", length
        assert v.check == [0] and "near the 2.0 mm limit" in v.reasons[0]
    assert judge([_defect(17.0, label="scratch")], SPEC, 0.1, 0.5).status == "OK"
    assert judge([_defect(23.0, label="scratch")], SPEC, 0.1, 0.5).status == "NG"


def test_a_limit_broken_clearly_is_ng_although_another_size_is_near_its_limit():
    spec = Specification({"defect": ClassLimits(max_length_mm=2.0, max_width_mm=0.5)})
    v = judge([_defect(80, width_px=5.2)], spec, 0.1, 0.5)  # 8 mm long (> 2), 0.52 mm wide (near 0.5)
    assert v.status == "NG" and v.ng == [0] and v.check == [0]
    assert v.reasons == ["defect 8.0 mm > 2.0 mm"]
    v = judge([_defect(19, width_px=5.2)], spec, 0.1, 0.5)  # both sizes only near their limits
    assert v.status == "check" and v.ng == []


def test_a_probability_near_the_threshold_makes_the_decision_doubtful():
    v = judge([_defect(34, label="scratch", probability=0.55)], SPEC, 0.1, 0.5)
    assert v.status == "check" and v.ng == [0] and v.check == [0]
    assert any("p=0.55" in r for r in v.reasons)
    # a clear NG defect elsewhere decides the part whatever the doubtful one is
    v = judge([_defect(34, label="scratch", probability=0.55), _defect(34, label="scratch", probability=0.95)],
              SPEC, 0.1, 0.5)
    assert v.status == "NG" and v.ng == [0, 1]
    assert judge([_defect(34, label="scratch", probability=0.95)], SPEC, 0.1, 0.5).status == "NG"


def test_width_area_and_count_limits():
    spec = Specification({"defect": ClassLimits(max_width_mm=0.5, max_area_mm2=2.0, max_count=1)})
    v = judge([_defect(10, width_px=8)], spec, 0.1, 0.5)
    assert v.reasons == ["defect width 0.8 mm > 0.5 mm"]
    v = judge([_defect(10, width_px=2, area_px=400)], spec, 0.1, 0.5)
    assert v.reasons == ["defect area 4.0 mm² > 2.0 mm²"]
    v = judge([_defect(5, 1, 4), _defect(5, 1, 4)], spec, 0.1, 0.5)
    assert (v.status, v.reasons, v.ng) == ("NG", ["defect: 2 found > 1 allowed"], [0, 1])


def test_uncalibrated_images_are_flagged_never_judged_in_pixels():
    v = judge([_defect(1000, label="scratch")], SPEC, None, 0.5)
    assert v.status == "uncalibrated" and v.ng == []
    assert "not calibrated" in v.reasons[0]
    assert judge([], SPEC, None, 0.5).status == "OK"
    # a count needs no calibration: the default specification (no defect allowed) still says NG
    assert judge([_defect(3)], None, None, 0.5).status == "NG"


def test_round_trip_and_nonsense_rejected_with_clear_messages():
    spec = Specification({"scratch": ClassLimits(2.0, 0.3, 1.5, 2)}, prob_band=0.05, size_margin=0.2)
    assert Specification.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    bad = [
        ({"limits": {"scratch": {"max_length_mm": -1}}}, "max_length_mm must be > 0"),
        ({"limits": {"scratch": {"max_length_mm": math.nan}}}, "finite"),
        ({"limits": {"scratch": {"max_length_mm": "2"}}}, "must be a number"),
        ({"limits": {"scratch": {"max_lenght_mm": 2}}}, "unknown key(s) 'max_lenght_mm'"),
        ({"limits": {"scratch": {"max_count": 1.5}}}, "whole number"),
        ({"limits": {"scratch": {"max_count": -1}}}, "max_count must be >= 0"),
        ({"limits": {"": {}}}, "non-empty name"),
        ({"limits": []}, "expected an object"),
        ({"prob_band": 0.7}, "prob_band must be >= 0 and <= 0.5"),
        ({"size_margin": True}, "must be a number"),
        ({"colour": "red"}, "unknown key(s) 'colour'"),
        ([], "expected an object"),
    ]
    for raw, words in bad:
        with pytest.raises(SpecError) as info:
            Specification.from_dict(raw)
        assert words in str(info.value), (raw, str(info.value))
        assert isinstance(info.value, IunetError)


def test_the_project_stores_its_specification_atomically_and_reads_it_back(tmp_path):
    project = Project.open(tmp_path)
    assert project.specification is None
    spec = Specification({"scratch": ClassLimits(max_length_mm=2.0, max_count=3)}, prob_band=0.05)
    project.specification = spec
    saved = json.loads((tmp_path / SETTINGS_FILE).read_text())
    assert saved["specification"]["limits"]["scratch"]["max_length_mm"] == 2.0
    assert Project.open(tmp_path).specification == spec
    saved["specification"]["prob_band"] = -1
    (tmp_path / SETTINGS_FILE).write_text(json.dumps(saved))
    with pytest.raises(SpecError, match="prob_band"):
        _ = Project.open(tmp_path).specification
    project.specification = None
    assert "specification" not in json.loads((tmp_path / SETTINGS_FILE).read_text())
