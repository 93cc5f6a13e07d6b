"""Bright and dark thin defects are learnt alike: the training pipeline does not lose bright thin lines,
and the polarity augmentation (training.augment.polarity) teaches one polarity from the other."""
import cv2
import numpy as np
import pytest

from iunet_gui.core.annotation import Annotation, Shape
from iunet_gui.core.detection import find_defects
from iunet_gui.core.errors import IunetError
from iunet_gui.training.augment import polarity
from iunet_gui.training.config import TrainConfig, check_config


def _line(rng, size):
    """A 1.5-2.5 px wide straight line, 18-30 px long, as a polygon inside the image."""
    while True:
        p0, ang, length = rng.uniform(6, size - 6, 2), rng.uniform(0, np.pi), rng.uniform(18, 30)
        d = np.array([np.cos(ang), np.sin(ang)])
        n = np.array([-d[1], d[0]]) * rng.uniform(1.5, 2.5) / 2
        p1 = p0 + length * d
        if np.all((p1 > 4) & (p1 < size - 4)):
            return np.array([p0 - n, p1 - n, p1 + n, p0 + n])


def make_lines(folder, n, sign, seed, size=64, contrast=45):
    """`n` shaded, noisy grey images with one or two thin lines `contrast` grey levels brighter (sign
    +1) or darker (-1) than the metal around them, labelled as labelme polygons."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    xx = np.mgrid[0:size, 0:size][1]
    for i in range(n):
        img = 120 + 25 * np.sin(xx / size * rng.uniform(1, 4) + rng.uniform(0, 6)) + rng.normal(0, 6, (size, size))
        ann = Annotation.empty(f"l{i}.png", size, size)
        for _ in range(int(rng.integers(1, 3))):
            poly = _line(rng, size)
            m = np.zeros((size, size), np.uint8)
            cv2.fillPoly(m, [np.round(poly * 4).astype(np.int32)], 1, shift=2)
            img[m > 0] += sign * contrast
            ann.shapes.append(Shape("scratch", poly.round(2).tolist()))
        cv2.imwrite(str(folder / f"l{i}.png"), np.repeat(np.clip(img, 0, 255).astype(np.uint8)[:, :, None], 3, 2))
        ann.save(folder / f"l{i}.json")
    return folder


def train_on(tmp_path, sign, share, epochs=7, setting="polarity"):
    from iunet_gui.training.trainer import train

    data = make_lines(tmp_path / f"train{sign}{share}{setting}", 12, sign, seed=1)
    cfg = TrainConfig(data=str(data), out=str(tmp_path / f"run{sign}{share}{setting}"), model="iunet",
                      model_overrides={"base": 4, "depth": 3}, epochs=epochs, crop=48, crops_per_epoch=16, lr=1e-2,
                      val_fraction=0.1, max_val_images=1, threads=1, seed=1, scale=1.0, **{setting: share},
                      bn_batches=4, warmup_steps=5)
    return train(cfg).last_checkpoint


def recall(checkpoint, folder) -> tuple[float, float]:
    """(labelled lines found / labelled lines, false alarms per image) of a checkpoint on `folder`."""
    from iunet_gui.core.project import Project
    from iunet_gui.inference.predictor import Predictor

    pred = Predictor.from_path(checkpoint, crop_to_part=False, threads=1)
    pred.tta = False  # one pass: what the network itself learnt
    project = Project.open(folder)
    found, labelled, alarms = 0, 0, 0
    for img in project.images:
        defects, false_alarms = find_defects(pred.predict_path(img).mask, project.ground_truth_mask(img))
        found, labelled, alarms = found + sum(d.found for d in defects), labelled + len(defects), alarms + false_alarms
    return found / labelled, alarms / len(project.images)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """Lines the training never saw: bright ones and dark ones."""
    root = tmp_path_factory.mktemp("fresh")
    return {+1: make_lines(root / "bright", 10, +1, seed=2), -1: make_lines(root / "dark", 10, -1, seed=3)}


def test_a_tiny_model_trained_on_bright_thin_lines_finds_bright_thin_lines(tmp_path, fresh):
    found, alarms = recall(train_on(tmp_path, +1, TrainConfig.polarity, epochs=12), fresh[+1])  # the defaults
    assert found >= 0.9 and alarms <= 0.3


def test_with_both_polarities_a_model_trained_on_dark_lines_finds_bright_ones(tmp_path, fresh):
    with_flip = recall(train_on(tmp_path, -1, 0.5), fresh[+1])
    without = recall(train_on(tmp_path, -1, 0.0), fresh[+1])
    assert with_flip[0] >= 0.9 and with_flip[1] <= 0.3
    assert without[0] < with_flip[0]  # dark lines alone do not teach bright ones as well


def test_inverting_the_labelled_dark_lines_alone_teaches_bright_ones(tmp_path, fresh):
    found, alarms = recall(train_on(tmp_path, -1, 0.5, setting="defect_polarity"), fresh[+1])
    assert found >= 0.9 and alarms <= 0.3


def test_polarity_inverts_fine_detail_and_keeps_the_shading():
    x = np.tile(np.linspace(-1, 1, 40, dtype=np.float32), (3, 40, 1))  # shading left to right
    x[:, 20, :] += 1.0  # a bright line
    out = polarity(x.copy(), np.random.default_rng(0), share=1.0)
    assert out[0, 20, 10] < out[0, 17, 10] - 0.5 and out[0, 20, 10] < out[0, 23, 10] - 0.5  # the line now dark
    assert np.allclose(out[:, 5:15, 5:35], x[:, 5:15, 5:35], atol=0.05)  # the shading away from it kept
    assert polarity(x, np.random.default_rng(0), share=0.0) is x
    rng = np.random.default_rng(1)
    assert 0.4 < np.mean([polarity(x, rng, 0.5) is not x for _ in range(400)]) < 0.6


def test_defect_polarity_inverts_the_labelled_line_alone():
    x = np.full((3, 40, 40), 0.2, np.float32)
    x[:, 10, :] += 1.0  # an unlabelled bright line (a rim's highlight)
    x[:, 30, :] += 1.0  # a labelled bright scratch
    target = np.zeros((40, 40), np.uint8)
    target[30, :] = 1
    out = polarity(x.copy(), np.random.default_rng(0), share=1.0, where=target)
    assert out[0, 30, 20] < out[0, 26, 20] - 0.5  # the scratch now dark
    assert np.allclose(out[:, :22], x[:, :22])  # the highlight and the metal away from the scratch kept
    kinds = np.zeros((40, 40, 2), np.float32)  # a multi-class target (H, W, K)
    kinds[30, :, 1] = 1
    assert np.allclose(polarity(x.copy(), np.random.default_rng(0), 1.0, where=kinds), out)
    assert polarity(x, np.random.default_rng(0), 1.0, where=np.zeros((40, 40))) is x  # no defect: unchanged


def test_polarity_share_out_of_range_is_refused():
    with pytest.raises(IunetError, match="polarity"):
        check_config(TrainConfig(data="d", polarity=1.5))
    with pytest.raises(IunetError, match="defect_polarity"):
        check_config(TrainConfig(data="d", defect_polarity=-0.1))
