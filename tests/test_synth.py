import json

import numpy as np

from iunet_gui.cli import main
from iunet_gui.core.annotation import Annotation
from iunet_gui.core.geometry import shapes_to_mask
from iunet_gui.core.synth import WasherSpec, generate_dataset, render_washer


def test_rendering_is_deterministic():
    a = render_washer(np.random.default_rng(5), WasherSpec(width=320, height=256))
    b = render_washer(np.random.default_rng(5), WasherSpec(width=320, height=256))
    assert np.array_equal(a.image, b.image)
    assert a.annotation.to_dict() == b.annotation.to_dict()


def test_full_size_image_with_every_defect_kind_and_matching_ground_truth():
    s = render_washer(np.random.default_rng(11), WasherSpec(defects=["scratch", "edge_crack", "hole", "oxidation"]))
    assert s.image.shape == (1024, 1280, 3) and s.image.dtype == np.uint8
    assert {sh.label for sh in s.annotation.shapes} == {"scratch", "edge_crack", "hole", "oxidation"}
    assert 0.025 < s.mm_per_px < 0.045
    gray = s.image.mean(axis=2)
    for kind, m in s.defect_masks:
        shapes = [sh for sh in s.annotation.shapes if sh.label == kind]
        gt = shapes_to_mask(shapes, (1024, 1280))
        assert (gt & m).sum() >= 0.95 * m.sum()  # the polygons cover the drawn defect
        ring = np.zeros_like(m)
        cy, cx = np.argwhere(m).mean(axis=0).astype(int)
        ring[max(cy - 40, 0):cy + 40, max(cx - 40, 0):cx + 40] = True
        around = ring & ~gt
        assert abs(gray[m].mean() - gray[around].mean()) > 3  # the defect is visible
    for sh in s.annotation.shapes:
        pts = np.array(sh.points)
        assert len(pts) >= 3 and (pts >= 0).all() and (pts[:, 0] < 1280).all() and (pts[:, 1] < 1024).all()


def test_defect_free_washer_has_no_shapes_and_the_flag():
    s = render_washer(np.random.default_rng(2), WasherSpec(width=320, height=256, defects=[]))
    assert s.annotation.shapes == [] and s.annotation.flags == {"defect_free": True}


def test_generate_dataset_writes_images_json_and_settings(tmp_path):
    paths = generate_dataset(tmp_path, 3, seed=1, defect_free_ratio=0.34)
    assert [p.name for p in paths] == ["washer_000.jpg", "washer_001.jpg", "washer_002.jpg"]
    anns = [Annotation.load(p.with_suffix(".json")) for p in paths]
    assert sum(a.defect_free for a in anns) == 1
    assert all(a.image_path == p.name and a.mm_per_px for a, p in zip(anns, paths))
    settings = json.loads((tmp_path / "iunet_project.json").read_text())
    assert settings["washer_outer_diameter_mm"] == 30.0


def test_cli_synth_and_bad_args(tmp_path, capsys):
    assert main(["synth", "--out", str(tmp_path / "o"), "--count", "1", "--seed", "3"]) == 0
    assert (tmp_path / "o" / "washer_000.json").exists()
    assert main(["synth", "--out", str(tmp_path / "o"), "--count", "0"]) == 2
    assert "--count" in capsys.readouterr().err
