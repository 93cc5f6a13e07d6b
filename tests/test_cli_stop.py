"""Ctrl+C during predict or evaluate stops cleanly after the image being done (exit 130), keeping
what was written; a second Ctrl+C interrupts at once."""
import os
import signal

import pytest

from iunet_gui.cli import main
from iunet_gui.cli._common import EXIT_STOPPED, ctrl_c_cancels
from iunet_gui.core.progress import CancelToken
from iunet_gui.inference.predictor import Predictor
from iunet_gui.models.checkpoint import save_checkpoint
from iunet_gui.models.registry import build_preset
from tests.test_training import make_toy


@pytest.fixture
def ctrl_c_at_second_image(tmp_path, monkeypatch):
    """A toy folder of 6 images, a checkpoint, and Ctrl+C pressed while the second image is predicted."""
    data = make_toy(tmp_path / "data", n=6, size=48)
    model, cfg = build_preset("iunet", "default", base=4, depth=3)
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, model.eval(), arch="iunet", config=cfg)
    predict_file, calls = Predictor.predict_file, []

    def with_ctrl_c(self, path, mm=None):
        calls.append(path)
        if len(calls) == 2:
            signal.raise_signal(signal.SIGINT)
        return predict_file(self, path, mm)

    monkeypatch.setattr(Predictor, "predict_file", with_ctrl_c)
    return data, ckpt, calls


def test_predict_stops_after_the_image_it_was_on_and_keeps_its_files(ctrl_c_at_second_image, tmp_path, capsys):
    data, ckpt, calls = ctrl_c_at_second_image
    out = tmp_path / "out"
    assert main(["predict", str(data), "--checkpoint", str(ckpt), "--out", str(out), "--backend", "torch"]) == EXIT_STOPPED
    assert len(calls) == 2  # no image started after Ctrl+C
    assert sorted(p.name for p in out.glob("*_prob.png")) == ["t0_prob.png", "t1_prob.png"]
    captured = capsys.readouterr()
    assert "stopped: 2 of 7 image(s) predicted" in captured.out and "Ctrl+C again" in captured.err


def test_evaluate_stops_without_figures(ctrl_c_at_second_image, capsys):
    data, ckpt, calls = ctrl_c_at_second_image
    assert main(["evaluate", "--checkpoint", str(ckpt), "--data", str(data), "--backend", "torch"]) == EXIT_STOPPED
    assert len(calls) == 2 and "stopped after 2 image(s)" in capsys.readouterr().out


def test_a_second_ctrl_c_interrupts_at_once_and_the_handler_is_put_back():
    before = signal.getsignal(signal.SIGINT)
    token = CancelToken()
    with pytest.raises(KeyboardInterrupt), ctrl_c_cancels(token, "stopping"):
        os.kill(os.getpid(), signal.SIGINT)
        assert token.cancelled
        os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before
