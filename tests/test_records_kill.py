"""The inspection log loses no committed record: a writer killed with SIGKILL at random moments (over
50 times) leaves a sound database holding every record it reported committed; two processes writing
at once corrupt nothing."""
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from iunet_gui.app.records import LOG_FILE, InspectionLog

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

WRITER = textwrap.dedent("""
    import sys
    from types import SimpleNamespace
    from iunet_gui.app.records import InspectionLog
    from iunet_gui.core.spec import Verdict

    log = InspectionLog(sys.argv[1])
    tag, count = sys.argv[2], int(sys.argv[3])
    print("ready", flush=True)
    defect = SimpleNamespace(length_px=30.0, width_px=3.0, area_px=60.0, length_mm=None, width_mm=None,
                             angle_deg=5.0, centroid=(1.0, 2.0), box=[[0, 0], [30, 0], [30, 3], [0, 3]],
                             label="scratch", probability=0.9)
    k = 0
    while count <= 0 or k < count:
        iid = log.log_inspection(f"{tag}_{k}.jpg", "hash", "model.pt", 0.5,
                                 Verdict("NG", ["scratch 3.0 mm > 2.0 mm"], [0]), [defect, defect], mm_per_px=0.1)
        print(f"i {iid}", flush=True)  # reported only once committed
        did = log.log_decision(iid, 0, "confirm", note=f"{tag} {k}", reviewer=tag)
        print(f"d {did}", flush=True)
        k += 1
    log.close()
""")


def _writer(tmp_path, tag, count=0):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    return subprocess.Popen([sys.executable, str(script), str(tmp_path / LOG_FILE), tag, str(count)],
                            stdout=subprocess.PIPE, text=True)


def _committed(out: str) -> tuple[set[int], set[int]]:
    """The ids the writer printed in full lines (a line cut by the kill is not a report)."""
    lines = out.split("\n")[:-1]  # the last piece has no newline yet: cut mid-print
    ins = {int(x.split()[1]) for x in lines if x.startswith("i ")}
    dec = {int(x.split()[1]) for x in lines if x.startswith("d ")}
    return ins, dec


def test_sigkill_at_random_moments_loses_no_committed_record(tmp_path):
    rng = random.Random(30)
    reported_i, reported_d, kills, started = set(), set(), 0, time.monotonic()
    while kills < 55 and time.monotonic() - started < 50:
        proc = _writer(tmp_path, f"w{kills}")
        assert proc.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.08))
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        kills += 1
        ins, dec = _committed(out)
        reported_i |= ins
        reported_d |= dec
        with InspectionLog(tmp_path) as log:
            assert log.integrity() == "ok", f"after kill {kills}"
            have_i = {r["id"] for r in log._read("SELECT id FROM inspections")}
            have_d = {r["id"] for r in log._read("SELECT id FROM decisions")}
            assert reported_i <= have_i, f"kill {kills}: lost inspections {sorted(reported_i - have_i)[:5]}"
            assert reported_d <= have_d, f"kill {kills}: lost decisions {sorted(reported_d - have_d)[:5]}"
            # a transaction is whole: each inspection has both its defects
            counts = log._read("SELECT COUNT(*) AS n FROM defects GROUP BY inspection_id HAVING n != 2")
            assert counts == []
    assert kills >= 50, f"only {kills} kills in the time allowed"
    assert len(reported_i) > 50  # the writers were killed while writing, not before


def test_two_processes_writing_at_once_corrupt_nothing(tmp_path):
    InspectionLog(tmp_path).close()
    procs = [_writer(tmp_path, tag, count=150) for tag in ("a", "b")]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    with InspectionLog(tmp_path) as log:
        assert log.integrity() == "ok"
        assert log.count("inspections") == 300 and log.count("decisions") == 300 and log.count("defects") == 600
        for tag, out in zip(("a", "b"), outs):
            ins, dec = _committed(out)
            assert len(ins) == 150 and len(dec) == 150
            notes = [r["note"] for r in log._read("SELECT note FROM decisions WHERE reviewer = ? ORDER BY id", (tag,))]
            assert notes == [f"{tag} {k}" for k in range(150)]
