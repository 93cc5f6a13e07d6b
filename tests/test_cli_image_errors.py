"""An image no decoder accepts is a one-line "cannot read image" error with exit 2 in every
command that reads images (predict, measure, calibrate), never a traceback."""
import subprocess
import sys

import pytest

from iunet_gui.cli import main
from iunet_gui.models.checkpoint import save_checkpoint
from iunet_gui.models.registry import build_preset
from tests.image_files import png_claiming


@pytest.fixture
def huge(tmp_path):
    folder = tmp_path / "odd"
    folder.mkdir()
    return png_claiming(folder / "huge.png")


def test_measure_and_calibrate_refuse_it_with_one_line(huge, capsys):
    for argv in (["measure", str(huge)], ["calibrate", str(huge), "--outer-diameter-mm", "30"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1
        assert f"cannot read image {huge}: its header claims more pixels than the decoder accepts" in err


def test_predict_says_which_image_it_could_not_read_and_exits_2(huge, tmp_path, capsys):
    model, cfg = build_preset("iunet", "default", base=4)
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, model.eval(), arch="iunet", config=cfg)
    out = tmp_path / "out"
    assert main(["predict", str(huge), "--checkpoint", str(ckpt), "--out", str(out), "--backend", "torch"]) == 2
    printed = capsys.readouterr().out
    assert f"skipped: huge.png: cannot read image {huge}" in printed
    assert not list(out.iterdir())  # nothing written for it


def test_no_traceback_in_a_real_process(huge):
    r = subprocess.run([sys.executable, "-m", "iunet_gui", "measure", str(huge)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and "cannot read image" in r.stderr and "Traceback" not in r.stderr
