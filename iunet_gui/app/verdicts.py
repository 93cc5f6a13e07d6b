"""Each inspected image's verdict by the specification, and its row in the inspection log.

`defect_probabilities` gives each predicted defect the peak probability inside its rotated rectangle
(where the mask is set), so that core.spec.judge can tell a doubtful detection (close to the threshold)
from a sure one. `Judge` finds the specification of each image's project (once per project) and, with
a log, writes the inspection with its defects.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from iunet_gui.core.spec import Specification, judge


def defect_probabilities(prob: np.ndarray, mask: np.ndarray, defects) -> None:
    """Set `probability` on each defect: the highest probability of its mask pixels within its box."""
    import cv2

    h, w = prob.shape[:2]
    for d in defects:
        box = np.asarray(d.box, np.float64).reshape(-1, 2)
        x0, y0 = (max(int(np.floor(v)) - 1, 0) for v in box.min(0))
        x1, y1 = min(int(np.ceil(box[:, 0].max())) + 2, w), min(int(np.ceil(box[:, 1].max())) + 2, h)
        if x1 <= x0 or y1 <= y0:
            d.probability = None
            continue
        inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillConvexPoly(inside, np.round(box - (x0, y0)).astype(np.int32), 1)
        cv2.polylines(inside, [np.round(box - (x0, y0)).astype(np.int32)], True, 1)
        sel = inside.astype(bool) & mask[y0:y1, x0:x1]
        region = prob[y0:y1, x0:x1][sel if sel.any() else inside.astype(bool)]
        d.probability = round(float(region.max()), 4) if region.size else None


class Judge:
    """Verdicts of inspected images: by `spec` when given, else by each image's project's own
    specification (core.spec.Specification.default() where none is set); logged to `log` if given."""

    def __init__(self, spec: Specification | None = None, log=None, model_id: str | None = None):
        self.spec, self.log, self.model_id = spec, log, model_id
        self._specs: dict[Path, Specification] = {}

    def spec_of(self, project) -> Specification:
        if self.spec is not None:
            return self.spec
        key = Path(project.folder)
        if key not in self._specs:
            self._specs[key] = project.specification or Specification.default()  # SpecError: bad input
        return self._specs[key]

    def __call__(self, item, project, threshold: float, record: dict | None = None):
        """Set `item.verdict` (and `item.inspection_id` when logging) of an app.inspect.InspectedImage."""
        from iunet_gui.app.records import content_hash

        res = item.prediction
        defect_probabilities(res.prob, res.mask, res.defects)
        spec = self.spec_of(project)
        item.verdict = judge(res.defects, spec, item.mm_per_px, threshold)
        if self.log is not None:
            scores = None if record is None else {k: v for k, v in record.items() if not isinstance(v, (list, dict))}
            item.inspection_id = self.log.log_inspection(
                Path(item.image).resolve(), content_hash(item.image), self.model_id, threshold, item.verdict,
                res.defects, mm_per_px=item.mm_per_px, specification=spec.to_dict(), scores=scores)
        return item.verdict
