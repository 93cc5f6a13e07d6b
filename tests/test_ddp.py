"""The train command under torchrun with 2 CPU processes (gloo): the processes agree on stopping."""
import os
import subprocess
import sys

from iunet_gui.models.checkpoint import load_checkpoint
from tests.test_training import make_toy


def test_ddp_time_limit_stops_every_process_together(tmp_path):
    data = make_toy(tmp_path / "data", n=4, size=48)
    # Large validation images keep rank 0 validating and saving for seconds after the agreed stop,
    # while rank 1 has nothing left to do: both must still end cleanly (exit code 0).
    val = make_toy(tmp_path / "val", n=6, size=1024, seed=1)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--standalone",
                        "-m", "iunet_gui", "train", "--data", str(data), "--val", str(val), "--scale", "1",
                        "--out", str(tmp_path / "run"),
                        "--epochs", "1000", "--crop", "32", "--set", "crops_per_epoch=8", "--threads", "1",
                        "--time-limit", "0.05", "--model-config", "base=4", "depth=3"],
                       capture_output=True, text=True, timeout=180, env=env)
    assert r.returncode == 0, r.stderr[-8000:]  # each rank's error sits before torchrun's summary
    assert r.stdout.count("time_limit: time limit of 0.05 min reached") == 1  # rank 0 speaks, rank 1 stopped too
    ck = load_checkpoint(tmp_path / "run" / "last.pt")
    assert ck.config["base"] == 4 and ck.meta["train_config"]["time_limit_min"] == 0.05
