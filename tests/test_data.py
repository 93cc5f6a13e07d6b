"""Training data: region-balanced defect crops, unreadable annotations reported, summaries."""
import cv2
import numpy as np

from iunet_gui.training.data import CropSampler, Item, data_summary, load_items, split_items
from tests.test_training import make_toy


def _two_defects():
    img = np.full((200, 200, 3), 80, np.uint8)
    mask = np.zeros((200, 200), bool)
    mask[10:60, 10:60] = True  # a large stain: 2500 px
    mask[180:182, 180:182] = True  # a tiny pit: 4 px, marked 255 in the image
    img[mask] = 200
    img[180:182, 180:182] = 255
    return Item("a.png", img, mask)


def test_focused_crops_visit_every_defect_region_equally():
    s = CropSampler([_two_defects()], crop=32, focus=1.0, seed=0)
    assert [len(r) for r in s.regions[0]] == [2500, 4]
    crops = [s.sample() for _ in range(400)]
    pit = np.mean([(img == 255).any() for img, _ in crops])
    stain = np.mean([(img == 200).any() for img, _ in crops])
    assert 0.4 < pit < 0.6 and 0.4 < stain < 0.6  # by pixels, the 4-pixel pit would get 0.2 % of the crops
    assert all(m.any() for _, m in crops)


def test_crops_are_deterministic_per_seed():
    a = CropSampler([_two_defects()], crop=32, focus=0.5, seed=4)
    b = CropSampler([_two_defects()], crop=32, focus=0.5, seed=4)
    for _ in range(20):
        (ia, ma), (ib, mb) = a.sample(), b.sample()
        assert np.array_equal(ia, ib) and np.array_equal(ma, mb)


def test_defect_free_items_give_random_crops():
    it = Item("free.png", np.zeros((50, 60, 3), np.uint8), np.zeros((50, 60), bool))
    img, m = CropSampler([it], crop=32, focus=1.0, seed=0).sample()
    assert img.shape == (32, 32, 3) and not m.any()


def test_unreadable_annotations_are_reported_not_fatal(tmp_path):
    data = make_toy(tmp_path / "d", n=4)
    (data / "t0.json").write_text("{ broken")
    notes = []
    items = load_items(data, progress=lambda ev: notes.append(ev) if ev.stage == "notice" else None)
    assert len(items) == 3 and "t0.json" in notes[0].message


def test_split_changes_with_the_seed_and_summary_counts(tmp_path):
    items = load_items(make_toy(tmp_path / "d", n=12))
    splits = {tuple(sorted(i.name for i in split_items(items, 0.25, seed=s)[1])) for s in range(6)}
    assert len(splits) > 1 and all(len(v) == 3 for v in splits)
    tr, va = split_items(items, 0.25, seed=0)
    summ = data_summary(tr, va, tmp_path / "d")
    assert summ["train"]["images"] == 9 and summ["val"]["images"] == 3
    assert summ["train"]["defect_free"] + summ["val"]["defect_free"] == 1
    assert 0 < summ["train"]["defect_pixel_share"] < 0.2


def test_images_beyond_the_validation_cap_are_trained_on(tmp_path):
    items = load_items(make_toy(tmp_path / "d", n=12))
    tr, va = split_items(items, 0.25, seed=0)
    tr2, va2 = split_items(items, 0.25, seed=0, max_val=2)
    assert len(va2) == 2 and len(tr2) == 10  # not 9 + 2 with one image in neither
    assert [i.name for i in va2] == [i.name for i in va[:2]]  # the same first validation images
    assert sorted(i.name for i in tr2 + va2) == sorted(i.name for i in items)


def test_mask_pairs_with_a_size_mismatch_are_a_clear_error(tmp_path):
    import pytest

    from iunet_gui.core.errors import IunetError

    d = tmp_path / "pairs"
    d.mkdir()
    cv2.imwrite(str(d / "a.jpg"), np.zeros((20, 30), np.uint8))
    cv2.imwrite(str(d / "a.png"), np.zeros((21, 30), np.uint8))
    with pytest.raises(IunetError, match="a.jpg"):
        load_items(d)
