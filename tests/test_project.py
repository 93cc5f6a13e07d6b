import json

import cv2
import numpy as np
import pytest

from iunet_gui.core.annotation import Annotation, Shape
from iunet_gui.core.errors import ProjectError
from iunet_gui.core.project import SETTINGS_FILE, Project


def _img(path, h=20, w=30):
    cv2.imwrite(str(path), np.full((h, w, 3), 128, np.uint8))


def test_labelme_project_lists_images_naturally_and_loads_annotations(tmp_path):
    for n in ("img10", "img2", "img1"):
        _img(tmp_path / f"{n}.png")
    ann = Annotation.empty("img2.png", 30, 20)
    ann.shapes.append(Shape("scratch", [[1, 1], [10, 1], [10, 5]]))
    ann.save(tmp_path / "img2.json")
    p = Project.open(tmp_path)
    assert p.kind == "labelme"
    assert [i.name for i in p.images] == ["img1.png", "img2.png", "img10.png"]
    assert p.load_annotation(tmp_path / "img1.png") is None
    assert p.load_annotation(tmp_path / "img2.png").shapes[0].label == "scratch"
    gt = p.ground_truth_mask(tmp_path / "img2.png")
    assert gt.shape == (20, 30) and gt[2, 5]
    assert p.is_labelled(tmp_path / "img2.png") and not p.is_labelled(tmp_path / "img1.png")


def test_mask_pair_folder(tmp_path):
    for n in ("a", "b"):
        cv2.imwrite(str(tmp_path / f"{n}.jpg"), np.zeros((8, 8), np.uint8))
        m = np.zeros((8, 8), np.uint8)
        m[2:4, 2:4] = 200
        cv2.imwrite(str(tmp_path / f"{n}.png"), m)
    p = Project.open(tmp_path)
    assert p.kind == "mask_pairs"
    assert [i.name for i in p.images] == ["a.jpg", "b.jpg"]
    assert p.ground_truth_mask(p.images[0]).sum() == 4


def test_settings_round_trip_and_calibration_precedence(tmp_path):
    _img(tmp_path / "x.png")
    p = Project.open(tmp_path)
    assert [c.name for c in p.settings.classes] == ["scratch", "edge_crack", "hole", "oxidation"]
    p.settings.mm_per_px = 0.04
    p.settings.ensure_class("burr")
    p.save_settings()
    q = Project.open(tmp_path)
    assert q.settings.mm_per_px == 0.04 and q.settings.classes[-1].name == "burr"
    assert q.mm_per_px_for(tmp_path / "x.png") == 0.04
    ann = Annotation.empty("x.png", 30, 20)
    ann.mm_per_px = 0.03
    ann.save(tmp_path / "x.json")
    assert q.mm_per_px_for(tmp_path / "x.png") == 0.03


def test_broken_settings_fall_back_without_touching_the_file(tmp_path):
    _img(tmp_path / "x.png")
    (tmp_path / SETTINGS_FILE).write_text("{broken")
    p = Project.open(tmp_path)
    assert p.settings_error and "unreadable" in p.settings_error
    assert (tmp_path / SETTINGS_FILE).read_text() == "{broken"
    with pytest.raises(ProjectError):
        Project.open(tmp_path, strict=True)
    (tmp_path / SETTINGS_FILE).write_text(json.dumps({"mm_per_px": -1}))
    assert "positive" in Project.open(tmp_path).settings_error


def test_missing_folder(tmp_path):
    with pytest.raises(ProjectError, match="not found"):
        Project.open(tmp_path / "nope")


def test_data_set_root_of_class_folders_is_read_one_level_down(tmp_path):
    for cls_dir, stems in (("MT_Crack", ("n10", "n2")), ("MT_Free", ("n1",))):
        (tmp_path / cls_dir).mkdir()
        for n in stems:
            cv2.imwrite(str(tmp_path / cls_dir / f"{n}.jpg"), np.zeros((8, 8), np.uint8))
            cv2.imwrite(str(tmp_path / cls_dir / f"{n}.png"), np.full((8, 8), 255 * (cls_dir != "MT_Free"), np.uint8))
    (tmp_path / ".hidden").mkdir()
    cv2.imwrite(str(tmp_path / ".hidden" / "x.jpg"), np.zeros((8, 8), np.uint8))
    p = Project.open(tmp_path)
    assert p.kind == "mask_pairs"
    assert [i.relative_to(tmp_path).as_posix() for i in p.images] == ["MT_Crack/n2.jpg", "MT_Crack/n10.jpg",
                                                                       "MT_Free/n1.jpg"]
    assert p.ground_truth_mask(p.images[0]).all() and not p.ground_truth_mask(p.images[2]).any()


def test_a_folder_with_images_is_not_searched_below(tmp_path):
    _img(tmp_path / "top.png")
    (tmp_path / "old").mkdir()
    _img(tmp_path / "old" / "other.png")
    assert [i.name for i in Project.open(tmp_path).images] == ["top.png"]


@pytest.mark.parametrize("settings, fragment", [
    ({"classes": 5}, "'classes' must be a list"),
    ({"classes": "scratch"}, "'classes' must be a list"),
    ({"classes": [{"color": "#ffffff"}]}, "non-empty 'name'"),
    ({"mm_per_px": 10 ** 400}, "positive number"),
    ({"washer_outer_diameter_mm": float("nan")}, "positive number"),
    ([1, 2], "JSON object"),
])
def test_settings_of_the_wrong_shape_are_a_clear_project_error(tmp_path, settings, fragment):
    _img(tmp_path / "x.png")
    (tmp_path / SETTINGS_FILE).write_text(json.dumps(settings))
    with pytest.raises(ProjectError, match=fragment):
        Project.open(tmp_path, strict=True)
    p = Project.open(tmp_path)
    assert fragment in p.settings_error and p.settings.classes[0].name == "scratch"


def test_ground_truth_has_the_size_of_the_real_image(tmp_path):
    _img(tmp_path / "a.png", h=20, w=30)
    ann = Annotation.empty("a.png", 300, 200)  # stale size in the JSON
    ann.shapes.append(Shape("scratch", [[1, 1], [10, 1], [10, 5]]))
    ann.save(tmp_path / "a.json")
    gt = Project.open(tmp_path).ground_truth_mask(tmp_path / "a.png")
    assert gt.shape == (20, 30) and gt[2, 5]


def test_a_data_set_root_skips_the_folders_the_app_writes(tmp_path):
    import cv2
    import numpy as np

    from iunet_gui.core.project import Project

    for sub in ("MT_Crack", "iunet_predictions", "iunet_runs"):
        (tmp_path / sub).mkdir()
        cv2.imwrite(str(tmp_path / sub / "x.png"), np.zeros((8, 8), np.uint8))
    assert [p.relative_to(tmp_path).as_posix() for p in Project.open(tmp_path).images] == ["MT_Crack/x.png"]


def test_a_broken_labels_file_is_set_aside_never_overwriting_one(tmp_path):
    _img(tmp_path / "a.png")
    (tmp_path / "a.json").write_text("{first")
    p = Project.open(tmp_path)
    kept = p.set_aside_annotation(tmp_path / "a.png")
    assert kept == tmp_path / "a.json.broken" and kept.read_text() == "{first"
    assert not (tmp_path / "a.json").exists() and not p.is_labelled(tmp_path / "a.png")
    (tmp_path / "a.json").write_text("{second")
    kept2 = p.set_aside_annotation(tmp_path / "a.png")
    assert kept2 == tmp_path / "a.json.broken.2" and kept2.read_text() == "{second"
    assert kept.read_text() == "{first"  # the first one is still there
    assert [i.name for i in Project.open(tmp_path).images] == ["a.png"]


def test_setting_aside_a_missing_labels_file_says_so(tmp_path):
    _img(tmp_path / "a.png")
    with pytest.raises(ProjectError, match=r"a\.json: cannot keep it aside"):
        Project.open(tmp_path).set_aside_annotation(tmp_path / "a.png")


def test_a_broken_labels_file_is_set_aside_without_hard_links_too(tmp_path, monkeypatch):
    import errno
    import os

    _img(tmp_path / "a.png")
    (tmp_path / "a.json").write_text("{first")
    (tmp_path / "a.json.broken").write_text("{older")

    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    kept = Project.open(tmp_path).set_aside_annotation(tmp_path / "a.png")
    assert kept == tmp_path / "a.json.broken.2" and kept.read_text() == "{first"
    assert (tmp_path / "a.json.broken").read_text() == "{older" and not (tmp_path / "a.json").exists()


def test_run_and_predictions_folders_are_named_in_the_project(tmp_path):
    from iunet_gui.core.project import PREDICTIONS_FOLDER, RUNS_FOLDER, new_run_folder, predictions_folder

    first = new_run_folder(tmp_path, now=0)
    assert first.parent == tmp_path / RUNS_FOLDER and not first.exists()
    first.mkdir(parents=True)
    second = new_run_folder(tmp_path, now=0)  # the same second: never another run's folder
    assert second.name == first.name + "-2"
    assert predictions_folder(tmp_path, first / "best.pt") == tmp_path / PREDICTIONS_FOLDER / first.name
    assert predictions_folder(tmp_path, tmp_path / "models" / "tiles.onnx") == tmp_path / PREDICTIONS_FOLDER / "tiles"
