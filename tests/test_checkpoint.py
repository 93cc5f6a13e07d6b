import pytest
import torch

from iunet_gui.core.errors import CheckpointError
from iunet_gui.models.checkpoint import load_checkpoint, save_checkpoint
from iunet_gui.models.registry import build_preset


def test_round_trip_rebuilds_the_same_network(tmp_path):
    model, cfg = build_preset("iunet", "default", base=4)
    model.eval()
    p = tmp_path / "m.pt"
    save_checkpoint(p, model, arch="iunet", config=cfg, classes=["defect"], meta={"threshold": 0.4, "note": "x"})
    ck = load_checkpoint(p)
    assert ck.arch == "iunet" and ck.config == cfg and ck.threshold == 0.4 and ck.meta["note"] == "x"
    x = torch.randn(1, 3, 33, 47)
    with torch.no_grad():
        assert torch.allclose(model(x), ck.model(x))


@pytest.mark.parametrize("content, fragment", [
    (b"", "empty"),
    (b"garbage bytes", "not a readable"),
])
def test_broken_files(tmp_path, content, fragment):
    p = tmp_path / "bad.pt"
    p.write_bytes(content)
    with pytest.raises(CheckpointError, match=fragment):
        load_checkpoint(p)


def test_foreign_and_future_checkpoints(tmp_path):
    p = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, p)
    with pytest.raises(CheckpointError, match="not an iunet-gui checkpoint"):
        load_checkpoint(p)
    model, cfg = build_preset("unet", "default", base=4)
    save_checkpoint(p, model, arch="unet", config=cfg)
    data = torch.load(p, weights_only=True)
    data["format_version"] = 99
    torch.save(data, p)
    with pytest.raises(CheckpointError, match="version 99"):
        load_checkpoint(p)


def test_code_in_a_pickle_is_refused_and_never_runs(tmp_path):
    """A checkpoint whose pickle calls `open(marker, "w")` when unpickled: loading refuses it, and
    the marker file is never created (the code did not run)."""
    marker = tmp_path / "payload-ran"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    p = tmp_path / "evil.pt"
    torch.save({"format": "iunet-gui-checkpoint", "format_version": 1, "x": Evil()}, p)
    with pytest.raises(CheckpointError) as refused:
        load_checkpoint(p)
    assert not marker.exists(), "the checkpoint's pickled code ran while loading"
    assert "not a readable iunet-gui checkpoint" in str(refused.value)


def test_weights_that_do_not_fit(tmp_path):
    model, cfg = build_preset("iunet", "default", base=4)
    p = tmp_path / "m.pt"
    save_checkpoint(p, model, arch="iunet", config={**cfg, "base": 6, "widths": [6, 12, 24, 48]})
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(p)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "none.pt")
