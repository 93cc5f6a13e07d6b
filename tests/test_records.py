"""app.records: the inspection log (SQLite, WAL, versioned schema, transactions, parameters only)."""
import sqlite3

import pytest

from iunet_gui.app.records import LOG_FILE, MIGRATIONS, SCHEMA_VERSION, InspectionLog, LogError, content_hash
from iunet_gui.core.errors import IunetError
from iunet_gui.core.measure import Defect
from iunet_gui.core.spec import Verdict


def _defects():
    a = Defect(34.0, 3.0, 10.0, 80.0, (5.0, 6.0), [[0, 0], [34, 0], [34, 3], [0, 3]], label="scratch")
    a.probability = 0.91
    b = Defect(8.0, 2.0, 0.0, 12.0, (50.0, 60.0), [[0, 0], [8, 0], [8, 2], [0, 2]])
    return [a, b]


def test_inspections_defects_and_decisions_are_kept_and_nothing_is_overwritten(tmp_path):
    with InspectionLog(tmp_path) as log:
        assert log.path == tmp_path / LOG_FILE and log.version == SCHEMA_VERSION
        verdict = Verdict("NG", ["scratch 3.4 mm > 2.0 mm"], [0], [])
        first = log.log_inspection("a.jpg", "h1", "m1.pt", 0.5, verdict, _defects(), mm_per_px=0.1,
                                   scores={"iou_defect": 0.7})
        second = log.log_inspection("a.jpg", "h1", "m2.pt", 0.4, Verdict("OK"), [], mm_per_px=0.1)
        log.log_inspection("b.jpg", "h2", "m2.pt", 0.4, Verdict("check", ["x"], [], [0]), _defects()[:1])
        dec = log.log_decision(first, 0, "confirm", note="real scratch", reviewer="ann")
        log.log_decision(first, None, "override_ok", note="cosmetic")
    with InspectionLog(tmp_path / LOG_FILE) as log:  # reopened: all of it is there
        latest = log.latest_inspections()
        assert [(r["image_path"], r["model_id"]) for r in latest] == [("a.jpg", "m2.pt"), ("b.jpg", "m2.pt")]
        assert [r["id"] for r in log.inspections_of("a.jpg")] == [first, second]
        old = log.inspection(first)
        assert old["status"] == "NG" and old["reasons"] == ["scratch 3.4 mm > 2.0 mm"]
        assert old["scores"] == {"iou_defect": 0.7}
        rows = log.defects(first)
        assert [r["class"] for r in rows] == ["scratch", "defect"]
        assert rows[0]["length_mm"] == pytest.approx(3.4) and rows[0]["area_mm2"] == pytest.approx(0.8)
        assert rows[0]["probability"] == pytest.approx(0.91) and rows[1]["probability"] is None
        assert [r["judged"] for r in rows] == ["ng", "ok"] and rows[0]["box"][1] == [34.0, 0.0]
        decisions = log.decisions(first)
        assert [d["id"] for d in decisions][0] == dec
        assert [(d["decision"], d["defect_index"], d["reviewer"]) for d in decisions][0] == ("confirm", 0, "ann")
        assert decisions[1]["reviewer"]  # the OS user name when not given
        assert log.integrity() == "ok"
        assert log.count("inspections") == 3 and log.count("decisions") == 2


def test_wal_mode_and_a_plain_sqlite_tool_reads_the_file(tmp_path):
    InspectionLog(tmp_path).close()
    db = sqlite3.connect(tmp_path / LOG_FILE)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"inspections", "defects", "decisions", "training_runs",
                      "models", "registry_state", "golden_images", "gate_decisions"}  # app.registry
    db.close()


def test_values_are_parameters_never_sql(tmp_path):
    evil = "x'); DROP TABLE inspections; --"
    with InspectionLog(tmp_path) as log:
        iid = log.log_inspection(evil, evil, evil, 0.5, Verdict("OK", [evil]), [])
        log.log_decision(iid, None, "confirm_verdict", note=evil, reviewer=evil)
        assert log.inspection(iid)["image_path"] == evil and log.decisions(iid)[0]["note"] == evil
        assert log.count("inspections") == 1


def test_bad_decisions_are_refused_and_write_nothing(tmp_path):
    with InspectionLog(tmp_path) as log:
        iid = log.log_inspection("a.jpg", None, "m", 0.5, Verdict("OK"), [])
        for args in ((iid, 0, "looks fine"), (iid, None, "confirm"), (iid, 0, "override_ng"), (iid + 7, None,
                                                                                              "override_ng")):
            with pytest.raises(IunetError):
                log.log_decision(*args)
        assert log.count("decisions") == 0


def test_an_older_schema_is_migrated_forward_and_a_newer_one_refused(tmp_path):
    path = tmp_path / LOG_FILE
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute("INSERT INTO inspections (image_path, created, status) VALUES ('old.jpg', '2020-01-01', 'OK')")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with InspectionLog(path) as log:
        assert log.version == SCHEMA_VERSION
        assert [r["image_path"] for r in log.latest_inspections()] == ["old.jpg"]
    db = sqlite3.connect(path)
    assert "inspections_image" in {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(LogError, match="newer"):
        InspectionLog(path)


def test_a_missing_project_folder_is_a_clear_error_and_creates_nothing(tmp_path):
    with pytest.raises(LogError, match="no such project folder"):
        InspectionLog(tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / LOG_FILE
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(LogError, match="inspection log"):
        InspectionLog(path)
    assert path.read_bytes().startswith(b"not a database")


def test_training_runs_and_content_hash(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"abc")
    assert content_hash(tmp_path / "a.bin") == "a9993e364706816aba3e25717850c26c9cd0d89d"
    with InspectionLog(tmp_path) as log:
        log.log_training_run("run1/best.pt", 24, {"epochs": 3}, {"miou": 0.81})
        assert [(r["model_id"], r["data_size"], r["settings"], r["metrics"]) for r in log.training_runs()] == [
            ("run1/best.pt", 24, {"epochs": 3}, {"miou": 0.81})]
