"""The review queue of the inspection log, and review decisions turned into labels (Qt-free).

`review_queue(log)` lists the latest inspection of every image, worst first: NG, check, uncalibrated,
OK; within a verdict, the images that disagree most with their labels first (where labelled), then in
the order they were inspected. `apply_decisions_to_labels` writes what a reviewer decided into the
image's labelme annotation: confirmed detections become shapes flagged as reviewed model output, false
alarms are kept as the image's known negatives (the annotation's "iunet_known_negatives" list), and the
misses are the shapes the reviewer drew (already labels).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from iunet_gui.app.records import IMAGE_DECISIONS
from iunet_gui.core.spec import STATUSES, Verdict

REVIEWED_FLAG = "reviewed_model_output"  # a confirmed detection's shape flag
KNOWN_NEGATIVES = "iunet_known_negatives"  # the annotation's list of false alarms (top-level key)
SOURCE_KEY = "iunet_source"  # a confirmed shape's origin: {"inspection": id, "defect": index}


@dataclass
class ReviewItem:
    inspection_id: int
    image_path: str
    verdict: Verdict
    reasons: list[str]
    defects: list[dict]
    decided: bool  # the image's verdict is confirmed or overridden
    decisions: list[dict] = field(default_factory=list)
    disagreement: float | None = None  # 1 - defect IoU against its labels; None when unlabelled
    model_id: str | None = None
    created: str = ""

    @property
    def final_status(self) -> str:
        """The verdict after review: the latest override, else the verdict."""
        for d in reversed(self.decisions):
            if d["decision"] == "override_ok":
                return "OK"
            if d["decision"] == "override_ng":
                return "NG"
            if d["decision"] == "confirm_verdict":
                return self.verdict.status
        return self.verdict.status

    def defect_decision(self, index: int) -> str | None:
        """The latest decision on one defect ("confirm" / "false_alarm"), None when undecided."""
        for d in reversed(self.decisions):
            if d["defect_index"] == index and d["decision"] in ("confirm", "false_alarm"):
                return d["decision"]
        return None


def disagreement(scores: dict | None) -> float | None:
    """How far an image's prediction is from its labels: 1 - defect IoU, plus one per missed or false
    defect; None when it is not labelled."""
    if not scores:
        return None
    return (1.0 - float(scores.get("iou_defect") or 0.0) + int(scores.get("unmatched_gt") or 0)
            + int(scores.get("unmatched_pred") or 0))


def review_item(log, row: dict) -> ReviewItem:
    defects = log.defects(row["id"])
    decisions = log.decisions(row["id"])
    verdict = Verdict(row["status"], list(row["reasons"]), [d["idx"] for d in defects if d["judged"] == "ng"],
                      [d["idx"] for d in defects if d["judged"] == "check"])
    return ReviewItem(row["id"], row["image_path"], verdict, list(row["reasons"]), defects,
                      any(d["decision"] in IMAGE_DECISIONS for d in decisions), decisions,
                      disagreement(row.get("scores")), row.get("model_id"), row.get("created", ""))


def review_queue(log, verdict=None, kind: str | None = None, reviewer_status: str | None = None) -> list[ReviewItem]:
    """The latest inspection of each image as ReviewItems, worst first. Filters: `verdict` (a status or
    a collection of them), `kind` (images with a defect of that class), `reviewer_status` ("decided" /
    "undecided")."""
    if reviewer_status not in (None, "decided", "undecided"):
        raise ValueError(f"reviewer_status: 'decided', 'undecided' or None, not {reviewer_status!r}")
    wanted = None if verdict is None else ({verdict} if isinstance(verdict, str) else set(verdict))
    items = []
    for row in log.latest_inspections():
        if wanted is not None and row["status"] not in wanted:
            continue
        item = review_item(log, row)
        if kind is not None and not any(d["class"] == kind for d in item.defects):
            continue
        if reviewer_status is not None and item.decided != (reviewer_status == "decided"):
            continue
        items.append(item)
    rank = {s: k for k, s in enumerate(STATUSES)}
    items.sort(key=lambda it: (rank.get(it.verdict.status, len(rank)),
                               -(it.disagreement if it.disagreement is not None else -1.0), it.inspection_id))
    return items


def progress(items: list[ReviewItem]) -> tuple[int, int]:
    """(decided, total) of a queue."""
    return sum(it.decided for it in items), len(items)


def apply_decisions_to_labels(project, image_path, decisions: list[dict], defects: list[dict], *,
                              model_id: str | None = None, save: bool = True):
    """Write the effective (latest) decision on each defect into the image's annotation: "confirm" adds
    the defect as a shape flagged REVIEWED_FLAG (its `points` when given, else its rotated rectangle),
    "false_alarm" keeps it among the annotation's known negatives (a later decision undoes an earlier
    one). Applying again changes nothing. Returns the annotation (saved atomically with `save`)."""
    from iunet_gui.core.annotation import Annotation
    from iunet_gui.core.images import image_size

    image_path = Path(image_path)
    ann = project.load_annotation(image_path)
    if ann is None:
        w, h = image_size(image_path)
        ann = Annotation.empty(image_path, w, h)
    latest: dict[int, dict] = {}
    for d in decisions:
        if d["defect_index"] is not None and d["decision"] in ("confirm", "false_alarm"):
            latest[int(d["defect_index"])] = d
    by_index = {int(d["idx"]): d for d in defects}
    negatives = [n for n in ann.extra.get(KNOWN_NEGATIVES, []) if isinstance(n, dict)]
    for index, decision in sorted(latest.items()):
        defect = by_index.get(index)
        if defect is None:
            continue
        source = {"inspection": int(decision["inspection_id"]), "defect": index}
        _drop(ann, negatives, source)
        if decision["decision"] == "confirm":
            ann.shapes.append(_shape_of(defect, source, decision, model_id))
        else:
            negatives.append({**source, "class": defect.get("class"), "box": defect.get("box"),
                              "reviewer": decision.get("reviewer"), "note": decision.get("note", "")})
    if negatives:
        ann.extra[KNOWN_NEGATIVES] = negatives
    else:
        ann.extra.pop(KNOWN_NEGATIVES, None)
    if save:
        project.save_annotation(image_path, ann)
    return ann


def _drop(ann, negatives: list[dict], source: dict) -> None:
    """Remove what an earlier decision on the same detection put into the annotation."""
    ann.shapes[:] = [s for s in ann.shapes if s.extra.get(SOURCE_KEY) != source]
    negatives[:] = [n for n in negatives if {"inspection": n.get("inspection"), "defect": n.get("defect")} != source]


def _shape_of(defect: dict, source: dict, decision: dict, model_id: str | None):
    from iunet_gui.core.annotation import Shape

    points = defect.get("points") or defect.get("box") or []
    who = decision.get("reviewer") or "a reviewer"
    return Shape(defect.get("class") or "defect", [[round(float(x), 2), round(float(y), 2)] for x, y in points],
                 description=f"reviewed model output ({model_id or 'model'}), confirmed by {who}",
                 flags={REVIEWED_FLAG: True}, extra={SOURCE_KEY: dict(source)})
