"""A tiny project with a golden set and two models trained on it, shared by the registry, gate,
comparison and Models panel tests (registered in conftest.py): `models` (trained once per test module)
and `project` (a fresh copy of the project, its own database, for each test)."""
import shutil

import pytest

from iunet_gui.app.golden import GoldenSets, training_exclusions
from iunet_gui.app.registry import ModelRegistry
from iunet_gui.core.annotation import Annotation
from iunet_gui.training.trainer import TrainConfig, train
from tests.test_training import make_toy

GOLDEN = ["t0.png", "t1.png", "t7.png"]  # two NG parts and a defect-free one


def train_config(data, out, **kw):
    base = dict(data=str(data), out=str(out), model="iunet", preset="default", model_overrides={"base": 4, "depth": 3},
                epochs=6, crop=32, crops_per_epoch=16, lr=3e-3, max_val_images=2, threads=1, seed=1, scale=1.0,
                bn_batches=4)
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A project with a golden set, a model trained on its other images ("good") and one trained on
    the same images with every label taken away ("bad": it has never seen a defect)."""
    root = tmp_path_factory.mktemp("registry")
    proj = make_toy(root / "proj", n=8, size=64)
    blank = root / "blank"
    shutil.copytree(proj, blank)
    for j in blank.glob("t*.json"):
        ann = Annotation.load(j)
        ann.shapes.clear()
        ann.flags["defect_free"] = True
        ann.save(j)
    with ModelRegistry(proj) as reg:
        GoldenSets(reg).add([proj / n for n in GOLDEN])
        exclude, _ = training_exclusions(reg)
    good = train(train_config(proj, root / "good", exclude=exclude))
    bad = train(train_config(blank, root / "bad", exclude=exclude, prior=0.001))
    return root, proj, blank, good, bad


@pytest.fixture
def project(models, tmp_path):
    """A fresh copy of the project (its own database) and the two runs."""
    root, proj, blank, good, bad = models
    copy = tmp_path / "proj"
    shutil.copytree(proj, copy)
    return copy, blank, good, bad
