"""The training engine on tiny data: it learns, cancels, resumes; mix-up; data loading."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from iunet_gui.core.annotation import Annotation, Shape
from iunet_gui.core.errors import IunetError
from iunet_gui.core.progress import CancelToken
from iunet_gui.training.augment import DIRECTED_GRADIENT_RATIO, geometric, mixup, photometric, texture_direction
from iunet_gui.training.data import CropSampler, load_items, split_items
from iunet_gui.training.losses import segmentation_loss
from iunet_gui.training.trainer import TrainConfig, train


def make_toy(folder, n=6, size=64, seed=0):
    """Bright squares on a noisy background, labelled as labelme polygons; one defect-free image."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        img = rng.normal(90, 12, (size, size, 3)).clip(0, 255).astype(np.uint8)
        ann = Annotation.empty(f"t{i}.png", size, size)
        if i == n - 1:
            ann.flags["defect_free"] = True
        else:
            x, y = rng.integers(8, size - 24, 2)
            img[y:y + 12, x:x + 14] = 210
            ann.shapes.append(Shape("scratch", [[x, y], [x + 13, y], [x + 13, y + 11], [x, y + 11]]))
        cv2.imwrite(str(folder / f"t{i}.png"), img)
        ann.save(folder / f"t{i}.json")
    (folder / "unlabelled.png").write_bytes((folder / "t0.png").read_bytes())
    return folder


def tiny(tmp_path, **kw):
    base = dict(data=str(make_toy(tmp_path / "data")), out=str(tmp_path / "run"), model="iunet", preset="default",
                model_overrides={"base": 4, "depth": 3}, epochs=2, crop=32, crops_per_epoch=8, lr=3e-3,
                max_val_images=2, threads=1, seed=1, scale=1.0)
    base.update(kw)
    return TrainConfig(**base)


def test_load_items_only_labelled_and_defect_free(tmp_path):
    items = load_items(make_toy(tmp_path / "d"))
    assert len(items) == 6  # the unlabelled image is not training data
    assert sum(not it.mask.any() for it in items) == 1
    assert all(it.mask.shape == it.image.shape[:2] for it in items)


def test_split_is_deterministic_and_disjoint(tmp_path):
    items = load_items(make_toy(tmp_path / "d", n=10))
    a, b = split_items(items, 0.2, seed=3)
    a2, b2 = split_items(list(reversed(items)), 0.2, seed=3)
    assert [i.name for i in b] == [i.name for i in b2] and len(b) == 2
    assert not {i.name for i in a} & {i.name for i in b}


def test_a_run_trains_on_the_validation_share_beyond_max_val_images(tmp_path):
    res = train(tiny(tmp_path, epochs=1, val_fraction=0.5, max_val_images=1))
    data = json.loads((Path(res.run_dir) / "config.json").read_text())["data"]
    assert (data["train"]["images"], data["val"]["images"]) == (5, 1)  # 6 labelled images, none left out


def test_crops_focus_on_defects(tmp_path):
    items = load_items(make_toy(tmp_path / "d"))
    s = CropSampler(items, crop=24, focus=1.0, seed=0)
    hits = np.mean([s.sample()[1].any() for _ in range(100)])
    s0 = CropSampler(items, crop=24, focus=0.0, seed=0)
    hits0 = np.mean([s0.sample()[1].any() for _ in range(100)])
    assert hits > 0.7 and hits > hits0 + 0.2  # one image of six is defect-free
    img, m = s.sample()
    assert img.shape == (24, 24, 3) and m.shape == (24, 24)


def test_zoomed_crops_show_a_defect_at_several_sizes():
    from iunet_gui.training.data import Item

    img = np.full((120, 120, 3), 60, np.uint8)
    mask = np.zeros((120, 120), np.uint8)
    img[55:65, 55:65], mask[55:65, 55:65] = 230, 1  # a 10 x 10 px defect
    items = [Item("a", img, mask)]
    areas, fixed = [], []
    s, s0 = CropSampler(items, crop=40, focus=1.0, seed=0, zoom=0.5), CropSampler(items, crop=40, focus=1.0, seed=0)
    for _ in range(200):
        crop, m = s.sample()
        assert crop.shape == (40, 40, 3) and m.shape == (40, 40) and 0 <= m.min() and m.max() <= 1
        assert np.all(crop[m > 0.9].min(axis=-1) > 150) and np.all(crop[m == 0].max(axis=-1) < 150)
        areas.append(float(m.sum()))
        fixed.append(float(s0.sample()[1].sum()))
    assert set(fixed) == {100.0}  # without zoom the defect keeps its size
    assert min(areas) < 60 and max(areas) > 170  # 100 px shown at scales 1/1.5 .. 1.5: 44 .. 225 px


def test_area_sampling_draws_images_mostly_covered_by_a_defect_more_often():
    from iunet_gui.training.data import Item

    img = np.zeros((32, 32, 3), np.uint8)
    large, none = np.zeros((32, 32), np.uint8), np.zeros((32, 32), np.uint8)
    large[:16] = 1  # half the image is defect
    items = [Item("large", img, large), Item("free", img, none)]

    def share_of_large(k):
        s = CropSampler(items, crop=32, focus=0.0, seed=0, area_sampling=k)
        return np.mean([s.sample()[1].any() for _ in range(2000)])

    assert abs(share_of_large(0) - 0.5) < 0.05
    assert abs(share_of_large(6) - 4 / 5) < 0.05  # weights 1 + 6 * 0.5 = 4 against 1
    with pytest.raises(IunetError, match="area_sampling must be >= 0"):
        CropSampler(items, area_sampling=-1)


def test_a_negative_area_sampling_is_refused_before_the_data_load(tmp_path):
    with pytest.raises(IunetError, match="area_sampling"):
        train(tiny(tmp_path, area_sampling=-1, data=str(tmp_path / "no such folder")))


def test_crop_larger_than_image_is_padded(tmp_path):
    items = load_items(make_toy(tmp_path / "d", size=40))
    img, m = CropSampler(items, crop=64, seed=0).sample()
    assert img.shape == (64, 64, 3) and m.shape == (64, 64)


def test_a_padded_crop_labels_the_mirrored_defect_too():
    from iunet_gui.training.data import Item

    img = np.full((40, 50, 3), 90, np.uint8)
    mask = np.zeros((40, 50), bool)
    img[30:38, 20:30] = 220  # a bright defect near the bottom edge
    mask[30:38, 20:30] = True
    im, m = CropSampler([Item("a", img, mask)], crop=64, focus=0.0, seed=0).sample()
    assert im.shape == (64, 64, 3)
    assert np.array_equal(im[..., 0] > 150, m)  # every bright pixel, mirrored ones included, is labelled
    assert m[40:].any()  # the mirror image of the defect lies in the padding


def test_mixup_keeps_masks_in_0_1_and_blends():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 8, 8)).astype(np.float32)
    y = (rng.random((2, 1, 8, 8)) > 0.5).astype(np.float32)
    for _ in range(20):
        xm, ym, lam = mixup(x, y, rng, 0.4)
        assert ym.min() >= 0 and ym.max() <= 1 and 0 <= lam <= 1
        assert xm.shape == x.shape


def test_geometric_moves_image_and_mask_together():
    rng = np.random.default_rng(0)
    img = np.zeros((10, 12, 3), np.uint8)
    m = np.zeros((10, 12), bool)
    img[2, 3] = 255
    m[2, 3] = True
    for _ in range(10):
        a, b = geometric(img, m, rng)
        assert np.array_equal(a[..., 0] == 255, b)
    x = np.zeros((3, 4, 4), np.float32)
    assert photometric(x, rng).shape == x.shape


def test_without_rotation_a_vertical_line_stays_vertical():
    img = np.zeros((12, 12, 3), np.uint8)
    img[:, 4] = 255
    rng = np.random.default_rng(0)
    kept = [geometric(img, img[..., 0] > 0, rng, rotate=False) for _ in range(40)]
    for a, b in kept:
        col = (a[..., 0] == 255).all(axis=0)
        assert col.sum() == 1 and np.array_equal(b, a[..., 0] == 255)
    assert {int(np.argmax((a[..., 0] == 255).all(axis=0))) for a, _ in kept} == {4, 7}  # mirrored too
    turned = [geometric(img, img[..., 0] > 0, rng, rotate=True)[0] for _ in range(40)]
    assert any((a[..., 0] == 255).all(axis=1).any() for a in turned)  # with rotations: sometimes horizontal


def streaked(rng, h=48, w=40):
    """A ground surface: vertical streaks (columns of random brightness) and a little noise."""
    cols = rng.normal(100, 25, (1, w))
    return (cols + rng.normal(0, 5, (h, w))).clip(0, 255).astype(np.uint8)


def test_texture_direction_tells_streaks_from_undirected_texture():
    rng = np.random.default_rng(0)
    ims = [streaked(rng) for _ in range(5)]
    assert texture_direction(ims) > np.log(DIRECTED_GRADIENT_RATIO)
    assert texture_direction([im.T for im in ims]) < -np.log(DIRECTED_GRADIENT_RATIO)
    noise = [rng.normal(100, 25, (48, 40)).clip(0, 255).astype(np.uint8) for _ in range(5)]
    assert abs(texture_direction(noise)) < 0.1
    mixed = ims[:2] + [im.T for im in ims[2:4]]
    assert abs(texture_direction(mixed)) < np.log(DIRECTED_GRADIENT_RATIO)  # directions mixed
    assert texture_direction([np.zeros((8, 8), np.uint8)]) == 0.0  # flat: no direction, no error


def test_training_on_streaked_images_mirrors_but_does_not_rotate(tmp_path, monkeypatch):
    import iunet_gui.training.augment as augment

    d = tmp_path / "tiles"
    d.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        img = streaked(rng)
        m = np.zeros(img.shape, np.uint8)
        m[30:, :] = 255  # an "uneven" band along the bottom
        img[30:] = np.clip(img[30:].astype(int) + 40, 0, 255)
        cv2.imwrite(str(d / f"p{i}.jpg"), img)
        cv2.imwrite(str(d / f"p{i}.png"), m)
    seen, real = [], augment.geometric

    def recorded(img, m, r, rotate=True):
        seen.append(rotate)
        return real(img, m, r, rotate)

    monkeypatch.setattr(augment, "geometric", recorded)
    for setting, rotated in (("auto", False), ("on", True)):
        seen.clear()
        events = []
        res = train(tiny(tmp_path, data=str(d), epochs=1, rotate=setting, out=str(tmp_path / setting)),
                    progress=events.append)
        assert res.status == "done" and seen and set(seen) == {rotated}
        notices = [e.message for e in events if e.stage == "notice" and "not rotated" in (e.message or "")]
        assert bool(notices) != rotated and all("top to bottom" in n for n in notices)
        cfg = json.loads((tmp_path / setting / "config.json").read_text())
        assert cfg["data"]["rotate"] is rotated and cfg["data"]["texture_direction"] > np.log(DIRECTED_GRADIENT_RATIO)
    seen.clear()
    assert train(tiny(tmp_path, epochs=1, out=str(tmp_path / "toy"))).status == "done" and set(seen) == {True}
    with pytest.raises(IunetError, match="rotate"):
        train(tiny(tmp_path, rotate="sometimes"))


def test_dice_is_not_mixed():
    import torch

    z = torch.zeros(1, 1, 4, 4)
    y = torch.full((1, 1, 4, 4), 0.3)
    assert segmentation_loss(z, y, "bce_dice", mixed=True) < segmentation_loss(z, y, "bce_dice", mixed=False)
    with pytest.raises(ValueError, match="unknown loss 'focal'"):
        segmentation_loss(z, y, "focal")


def test_loss_decreases_and_the_run_folder_is_complete(tmp_path):
    res = train(tiny(tmp_path, epochs=6, crops_per_epoch=16, mixup=0.0))
    assert res.status == "done" and res.epochs_done == 6
    losses = [h["train_loss"] for h in res.history]
    assert losses[-1] < losses[0]
    run = tmp_path / "run"
    assert {p.name for p in run.iterdir()} >= {"config.json", "metrics.csv", "best.pt", "last.pt"}
    lines = (run / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,train_loss,val_miou") and len(lines) == 7
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["model"]["arch"] == "iunet" and cfg["data"]["train"]["images"] == 5


def test_seeded_cpu_runs_are_reproducible(tmp_path):
    a = train(tiny(tmp_path / "a", epochs=1))
    b = train(tiny(tmp_path / "b", epochs=1))
    assert a.history[0]["train_loss"] == b.history[0]["train_loss"]


def test_cancel_stops_within_a_step_and_keeps_a_checkpoint(tmp_path):
    token = CancelToken()
    steps = []

    def progress(ev):
        if ev.stage == "train":
            steps.append(ev.step)
            if len(steps) == 3:
                token.cancel()

    res = train(tiny(tmp_path, epochs=50, crops_per_epoch=40), progress=progress, cancel=token)
    assert res.status == "stopped" and len(steps) == 3
    assert res.last_checkpoint is not None and res.last_checkpoint.exists()


def test_resume_continues_where_it_stopped(tmp_path):
    first = train(tiny(tmp_path, epochs=2))
    assert first.epochs_done == 2
    again = train(tiny(tmp_path, epochs=4, resume=True))
    assert again.epochs_done == 4 and [h["epoch"] for h in again.history] == [1, 2, 3, 4]
    with pytest.raises(IunetError, match="nothing to resume"):
        train(tiny(tmp_path, out=str(tmp_path / "empty"), resume=True))


def test_nan_loss_ends_with_a_clear_message(tmp_path, monkeypatch):
    import torch

    def nan_loss(*a, **k):
        return torch.tensor(float("nan"), requires_grad=True)

    monkeypatch.setattr("iunet_gui.training.losses.segmentation_loss", nan_loss)
    res = train(tiny(tmp_path, epochs=1))
    assert res.status == "nan" and "lower --lr" in res.message


def test_no_labelled_images_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    cv2.imwrite(str(tmp_path / "empty" / "x.png"), np.zeros((8, 8), np.uint8))
    with pytest.raises(IunetError, match="no labelled images"):
        train(tiny(tmp_path, data=str(tmp_path / "empty")))


def test_mask_pair_folder_trains(tmp_path):
    d = tmp_path / "pairs"
    d.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        img = rng.integers(0, 120, (48, 40), dtype=np.uint8)
        m = np.zeros((48, 40), np.uint8)
        m[10:20, 5:15] = 255
        img[m > 0] = 230
        cv2.imwrite(str(d / f"p{i}.jpg"), img)
        cv2.imwrite(str(d / f"p{i}.png"), m)
    res = train(tiny(tmp_path, data=str(d), epochs=1))
    assert res.status == "done"


@pytest.mark.parametrize("arch", ["iunet", "unet", "fcn8s", "segnet"])
def test_a_fresh_network_starts_at_the_prior_defect_probability(arch):
    import torch

    from iunet_gui.models.registry import build_preset
    from iunet_gui.training.network import set_output_prior

    torch.manual_seed(0)
    model, _ = build_preset(arch, "default", 3)
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        before = torch.sigmoid(model(x)).mean().item()
        assert set_output_prior(model, 0.01) >= 1
        after = torch.sigmoid(model(x)).mean().item()
    assert abs(before - 0.01) > 0.05  # an untouched network starts near p = 0.5
    assert after == pytest.approx(0.01, abs=0.01)


def test_training_starts_from_the_prior_unless_resuming_and_checks_it(tmp_path):
    import torch

    from iunet_gui.models.checkpoint import load_checkpoint

    res = train(tiny(tmp_path, epochs=1, lr=1e-6, prior=0.02, ema=0))
    ck = load_checkpoint(res.last_checkpoint)
    assert torch.sigmoid(ck.model.heads["2"].bias).item() == pytest.approx(0.02, rel=0.01)  # lr 1e-6: barely moved
    with pytest.raises(IunetError, match="prior"):
        train(tiny(tmp_path, prior=1.5))
    with pytest.raises(IunetError, match="region_weight"):
        train(tiny(tmp_path, region_weight=-0.5))
    res2 = train(tiny(tmp_path, epochs=2, lr=1e-6, prior=0.3, ema=0, resume=True))  # resume keeps the trained bias
    assert torch.sigmoid(load_checkpoint(res2.last_checkpoint).model.heads["2"].bias).item() == pytest.approx(0.02, rel=0.01)


def test_region_weighted_training_uses_the_weights_and_learns(tmp_path):
    res = train(tiny(tmp_path, epochs=6, crops_per_epoch=16, mixup=0.0, region_weight=0.5))
    losses = [h["train_loss"] for h in res.history]
    assert res.status == "done" and losses[-1] < losses[0]
    plain = train(tiny(tmp_path, epochs=1, crops_per_epoch=16, mixup=0.0, out=str(tmp_path / "plain")))
    assert plain.history[0]["train_loss"] != pytest.approx(losses[0], rel=1e-4)  # same seed, other loss


def test_items_at_input_scale_keep_thin_defects_as_soft_targets(tmp_path):
    from iunet_gui.training.data import Item, scaled_items

    mask = np.zeros((40, 60), bool)
    mask[11, 5:45] = True  # a 1-px scratch: at half size it is half a pixel wide
    image = np.zeros((40, 60, 3), np.uint8)
    image[mask] = 200
    (it,) = scaled_items([Item("a", image, mask, 0.04)], 0.5)
    assert it.image.shape == (20, 30, 3) and it.mask.shape == (20, 30) and it.mm_per_px == pytest.approx(0.08)
    assert it.mask.dtype == np.float32 and it.mask.max() == pytest.approx(0.5)
    assert it.mask.sum() == pytest.approx(mask.sum() / 4)  # the defect's area is kept, not dropped
    sampler = CropSampler([it], crop=16, focus=1.0, seed=0)
    assert len(sampler.regions[0]) == 1  # the soft line is still a region that focused crops find
    img, m = sampler.sample()
    assert m.max() == pytest.approx(0.5)


@pytest.mark.parametrize("scale, shape, crop", [(0.3, (103, 131), 16), (0.5, (40, 60), 32)])
def test_fine_targets_line_up_with_the_input_pixels(scale, shape, crop):
    """Each input pixel covers exactly f x f pixels of the finer target, in whole images and in
    crops (also crops padded by reflection beyond a small image): the finer target pooled f x f
    is the coarse soft target, which here is also the image."""
    from iunet_gui.training.data import Item, scaled_items

    rng = np.random.default_rng(0)
    mask = cv2.GaussianBlur(rng.random(shape), (0, 0), 3) > 0.5
    mask[5, 3:40] = True  # a 1-px line
    image = np.repeat((mask * 255).astype(np.uint8)[..., None], 3, axis=2)
    (it,) = scaled_items([Item("a", image, mask)], scale, fine=3)
    f = it.fine_factor
    assert f == 3 and it.fine.shape == (3 * it.mask.shape[0], 3 * it.mask.shape[1])

    def pooled(m):
        return m.reshape(m.shape[0] // f, f, m.shape[1] // f, f).mean(axis=(1, 3))

    assert np.abs(pooled(it.fine / 255.0) - it.mask).max() < 0.01
    sampler = CropSampler([it], crop=crop, focus=0.5, seed=0)
    for _ in range(20):
        img, m = sampler.sample()
        assert img.shape[:2] == (crop, crop) and m.shape == (f * crop, f * crop) and m.dtype == np.float32
        assert np.abs(pooled(m) - img[..., 0] / 255.0).max() < 0.02
        assert np.abs(np.rot90(pooled(m)) - pooled(np.rot90(m))).max() < 1e-6


def test_training_compares_upsampled_logits_with_the_finer_target(tmp_path, monkeypatch):
    import iunet_gui.training.losses as losses

    seen = []
    real = losses.segmentation_loss

    def spy(logits, target, *a, **kw):
        w = kw.get("weight", a[3] if len(a) > 3 else None)
        seen.append((tuple(logits.shape[-2:]), tuple(target.shape[-2:]), None if w is None else tuple(w.shape[-2:])))
        return real(logits, target, *a, **kw)

    monkeypatch.setattr(losses, "segmentation_loss", spy)
    res = train(tiny(tmp_path, epochs=1, crop=16, scale=0.5, region_weight=0.5, fine_loss=2))
    # factor 2 at scale 0.5: the predicting head (the last of the two deep-supervision heads) up-sampled
    # against the finer target, the other head on the input-scale target; once each per step
    assert res.status == "done" and seen[0::2] == [((32, 32), (32, 32), (32, 32))] * (len(seen) // 2)
    assert seen[1::2] == [((16, 16), (16, 16), (16, 16))] * (len(seen) // 2) and len(seen) >= 8
    seen.clear()
    train(tiny(tmp_path, epochs=1, crop=16, scale=0.5, out=str(tmp_path / "coarse")))  # the default: 1
    assert set(seen) == {((16, 16), (16, 16), (16, 16))}
    for bad in (0, 1.5, 3):  # 3 at scale 0.5: finer than the photo
        with pytest.raises(IunetError, match="fine_loss"):
            train(tiny(tmp_path, scale=0.5, fine_loss=bad))


def test_the_fine_loss_outlines_small_defects_better_than_soft_targets(tmp_path):
    """At input scale 0.25 a pit of radius 3-5 px is 1-2 input pixels across: trained on soft targets
    the thresholded, up-sampled prediction outlines it poorly; trained on the up-sampled logits
    against the finer target it outlines it well (same data, seed and steps)."""
    from iunet_gui.inference.predictor import Predictor

    folder = tmp_path / "pits"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):  # image + mask pairs, three pits each
        img = rng.normal(90, 4, (64, 64)).clip(0, 255).astype(np.uint8)
        m = np.zeros((64, 64), np.uint8)
        for _ in range(3):
            cx, cy = rng.integers(8, 56, 2)
            cv2.circle(m, (int(cx), int(cy)), int(rng.integers(3, 6)), 255, -1)
        img[m > 0] = 200
        cv2.imwrite(str(folder / f"p{i}.jpg"), img)
        cv2.imwrite(str(folder / f"p{i}.png"), m)
    iou = {}
    for k in (1, 4):
        res = train(tiny(tmp_path, data=str(folder), out=str(tmp_path / f"run{k}"), scale=0.25, fine_loss=k,
                         epochs=60, crop=16, crops_per_epoch=16, mixup=0.0, photometric=0.0, region_weight=0.0,
                         val_fraction=0.0, loss="bce", ema=0, bn_batches=0, lr=1e-2))
        p = Predictor.from_path(res.last_checkpoint, crop_to_part=False)
        p.tta = False
        inter = union = 0
        for i in range(6):
            gt = cv2.imread(str(folder / f"p{i}.png"), 0) > 0
            found = p.predict(cv2.imread(str(folder / f"p{i}.jpg"))[..., ::-1]).mask
            inter, union = inter + (found & gt).sum(), union + (found | gt).sum()
        iou[k] = inter / union
    # measured: 0.69 -> 0.77 on an Intel CPU, 0.74 -> 0.77 on an AMD EPYC (same torch 2.13.0: the
    # float results, and so the 60 epochs, differ by machine); both gain more than 0.02
    assert iou[4] > iou[1] + 0.02, iou


def test_weight_decay_shrinks_convolution_weights_only_and_resumes(tmp_path):
    import torch

    from iunet_gui.models.checkpoint import load_checkpoint

    def raw(run):
        state = load_checkpoint(Path(run) / "last.pt").trainer_state["raw_state"]
        conv = torch.cat([v.flatten() for k, v in state.items() if v.ndim > 1])
        bn = torch.cat([v.flatten() for k, v in state.items() if k.endswith(".weight") and v.ndim == 1])
        return conv.norm().item(), bn.norm().item()

    steady = dict(schedule="constant", warmup_steps=0)
    plain = train(tiny(tmp_path, out=str(tmp_path / "plain"), **steady))
    decayed = train(tiny(tmp_path, out=str(tmp_path / "decayed"), weight_decay=20.0, **steady))
    assert plain.status == decayed.status == "done"
    (conv0, bn0), (conv1, bn1) = raw(plain.run_dir), raw(decayed.run_dir)
    assert conv1 < 0.8 * conv0  # 8 steps of (1 - lr * wd) = 0.94 each
    assert abs(bn1 - bn0) < 0.1 * bn0  # BN scales are not decayed
    assert load_checkpoint(Path(decayed.run_dir) / "last.pt").meta["train_config"]["weight_decay"] == 20.0
    again = train(tiny(tmp_path, out=str(tmp_path / "decayed"), weight_decay=20.0, epochs=3, resume=True, **steady))
    assert again.epochs_done == 3
    with pytest.raises(IunetError, match="resume with --set weight_decay=20"):
        train(tiny(tmp_path, out=str(tmp_path / "decayed"), epochs=4, resume=True, **steady))


def test_training_with_zoomed_crops_records_the_setting(tmp_path):
    res = train(tiny(tmp_path, zoom=0.3, epochs=1))
    assert res.status == "done" and np.isfinite(res.history[-1]["train_loss"])
    assert json.loads((res.run_dir / "config.json").read_text())["train"]["zoom"] == 0.3


def test_a_run_can_start_from_a_trained_checkpoint(tmp_path):
    import torch

    from iunet_gui.core.errors import CheckpointError
    from iunet_gui.models.checkpoint import load_checkpoint

    learned = train(tiny(tmp_path, out=str(tmp_path / "a"), epochs=8, crops_per_epoch=32, mixup=0.0, prior=0.05,
                         lr=5e-3))
    top = learned.history[-1]["val_miou"]
    assert learned.status == "done" and top > 0.8  # the toy defects are learned
    # the same short run at a learning rate too small to learn: only the starting weights differ
    still = dict(epochs=1, lr=1e-7, prior=0.01, crops_per_epoch=8)
    events = []
    tuned = train(tiny(tmp_path, out=str(tmp_path / "b"), init=str(learned.last_checkpoint),
                       model_overrides={"base": 8, "depth": 2}, **still), progress=events.append)
    scratch = train(tiny(tmp_path, out=str(tmp_path / "c"), **still))
    assert tuned.status == scratch.status == "done"
    assert tuned.history[0]["val_miou"] > top - 0.05  # it starts where the first run ended
    assert scratch.history[0]["val_miou"] < tuned.history[0]["val_miou"] - 0.1
    ck, ck0 = load_checkpoint(tuned.last_checkpoint), load_checkpoint(learned.last_checkpoint)
    assert ck.config == ck0.config  # the checkpoint's architecture, not the model settings given
    assert torch.sigmoid(ck.model.heads["2"].bias).item() != pytest.approx(0.01, abs=0.005)  # no prior reset
    assert ck.meta["train_config"]["init"] == str(learned.last_checkpoint)
    assert any(ev.stage == "notice" and "starting from the weights" in ev.message and "its architecture"
               in ev.message for ev in events)
    with pytest.raises(IunetError, match="use one of them"):
        train(tiny(tmp_path, out=str(tmp_path / "b"), init=str(learned.last_checkpoint), resume=True))
    with pytest.raises(IunetError, match="--model iunet"):
        train(tiny(tmp_path, out=str(tmp_path / "d"), init=str(learned.last_checkpoint), model="unet"))
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="broken.pt"):
        train(tiny(tmp_path, out=str(tmp_path / "e"), init=str(broken)))
    assert not (tmp_path / "e").exists()  # failed before anything was written
