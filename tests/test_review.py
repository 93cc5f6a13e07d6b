"""app.review: the review queue (worst first, filters) and decisions written into the labels."""
import cv2
import numpy as np

from iunet_gui.app.records import InspectionLog
from iunet_gui.app.review import KNOWN_NEGATIVES, REVIEWED_FLAG, apply_decisions_to_labels, progress, review_queue
from iunet_gui.core.annotation import Annotation, Shape
from iunet_gui.core.measure import Defect
from iunet_gui.core.project import Project
from iunet_gui.core.spec import Verdict


def _d(label=None):
    return Defect(30.0, 3.0, 0.0, 60.0, (20.0, 20.0), [[10, 10], [40, 10], [40, 13], [10, 13]], label=label)


def _log(tmp_path):
    log = InspectionLog(tmp_path)
    ids = {
        "ok.jpg": log.log_inspection("ok.jpg", None, "m", 0.5, Verdict("OK"), []),
        "unc.jpg": log.log_inspection("unc.jpg", None, "m", 0.5, Verdict("uncalibrated", ["not calibrated"]), [_d()]),
        "ng_a.jpg": log.log_inspection("ng_a.jpg", None, "m", 0.5, Verdict("NG", ["scratch"], [0]), [_d("scratch")],
                                       scores={"iou_defect": 0.9, "unmatched_gt": 0, "unmatched_pred": 0}),
        "check.jpg": log.log_inspection("check.jpg", None, "m", 0.5, Verdict("check", ["near"], [], [0]), [_d()]),
        "ng_b.jpg": log.log_inspection("ng_b.jpg", None, "m", 0.5, Verdict("NG", ["hole"], [0]), [_d("hole")],
                                       scores={"iou_defect": 0.2, "unmatched_gt": 1, "unmatched_pred": 0}),
    }
    return log, ids


def test_worst_first_then_by_disagreement_with_the_labels(tmp_path):
    log, ids = _log(tmp_path)
    queue = review_queue(log)
    assert [it.image_path for it in queue] == ["ng_b.jpg", "ng_a.jpg", "check.jpg", "unc.jpg", "ok.jpg"]
    assert queue[0].verdict.ng == [0] and queue[2].verdict.check == [0]
    assert progress(queue) == (0, 5)
    log.log_decision(ids["ng_b.jpg"], None, "override_ok", note="polishing mark", reviewer="bo")
    log.log_decision(ids["check.jpg"], 0, "false_alarm")
    queue = review_queue(log)
    assert progress(queue) == (1, 5)
    assert queue[0].decided and queue[0].final_status == "OK" and queue[0].decisions[0]["note"] == "polishing mark"
    assert queue[2].defect_decision(0) == "false_alarm" and not queue[2].decided
    log.close()


def test_filters_by_verdict_class_and_reviewer_status(tmp_path):
    log, ids = _log(tmp_path)
    log.log_decision(ids["ng_a.jpg"], None, "confirm_verdict")
    assert [it.image_path for it in review_queue(log, verdict="NG")] == ["ng_b.jpg", "ng_a.jpg"]
    assert [it.image_path for it in review_queue(log, verdict=("OK", "check"))] == ["check.jpg", "ok.jpg"]
    assert [it.image_path for it in review_queue(log, kind="hole")] == ["ng_b.jpg"]
    assert [it.image_path for it in review_queue(log, reviewer_status="decided")] == ["ng_a.jpg"]
    assert len(review_queue(log, reviewer_status="undecided")) == 4
    # re-inspected: the queue shows the latest inspection, the earlier decision stays in the log
    new = log.log_inspection("ng_a.jpg", None, "m2", 0.5, Verdict("OK"), [])
    item = [it for it in review_queue(log) if it.image_path == "ng_a.jpg"][0]
    assert item.inspection_id == new and not item.decided
    assert log.decisions(ids["ng_a.jpg"])[0]["decision"] == "confirm_verdict"
    log.close()


def test_decisions_become_labels_once_and_a_later_decision_wins(tmp_path):
    cv2.imwrite(str(tmp_path / "w.png"), np.zeros((60, 80, 3), np.uint8))
    drawn = Annotation.empty("w.png", 80, 60)
    miss = Shape("scratch", [[1, 1], [9, 1], [9, 4]])
    drawn.shapes.append(miss)
    project = Project.open(tmp_path)
    project.save_annotation(tmp_path / "w.png", drawn)
    with InspectionLog(tmp_path) as log:
        iid = log.log_inspection(str(tmp_path / "w.png"), None, "m.pt", 0.5, Verdict("NG", ["x"], [0]),
                                 [_d("scratch"), _d()])
        log.log_decision(iid, 0, "confirm", reviewer="ann")
        log.log_decision(iid, 1, "false_alarm", note="dust", reviewer="ann")
        ann = apply_decisions_to_labels(project, tmp_path / "w.png", log.decisions(iid), log.defects(iid),
                                        model_id="m.pt")
        again = apply_decisions_to_labels(project, tmp_path / "w.png", log.decisions(iid), log.defects(iid))
        assert len(again.shapes) == 2 and len(again.extra[KNOWN_NEGATIVES]) == 1
        saved = project.load_annotation(tmp_path / "w.png")
        assert saved.shapes[0].label == "scratch" and saved.shapes[0].points == miss.points  # the drawn miss
        confirmed = saved.shapes[1]
        assert confirmed.flags == {REVIEWED_FLAG: True} and "m.pt" in ann.shapes[1].description
        assert confirmed.points == [[10.0, 10.0], [40.0, 10.0], [40.0, 13.0], [10.0, 13.0]]
        assert saved.extra[KNOWN_NEGATIVES][0]["note"] == "dust"
        log.log_decision(iid, 0, "false_alarm", reviewer="bo")  # changed their mind
        ann = apply_decisions_to_labels(project, tmp_path / "w.png", log.decisions(iid), log.defects(iid))
        assert [s.points for s in ann.shapes] == [miss.points]
        assert sorted(n["defect"] for n in ann.extra[KNOWN_NEGATIVES]) == [0, 1]
