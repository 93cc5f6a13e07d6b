"""One prediction of the window judged by its project's specification and written to the inspection
log by the app layer's Judge (app.verdicts): the verdict `iunet-gui inspect` gives the same image."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from iunet_gui.app.verdicts import Judge


def log_prediction(log, project, p, mask=None, defects=None, threshold: float | None = None):
    """Judge a gui.model ImagePrediction `p` (or what is on show of it: `mask`, `defects` cut at
    `threshold`) and add it to `log`; returns (the inspection's id, its core.spec Verdict). Raises
    IunetError for a specification or log that cannot be used."""
    prob = p.prob.astype(np.float32) / 255.0 if p.prob.dtype == np.uint8 else p.prob
    res = SimpleNamespace(prob=prob, mask=p.mask if mask is None else mask,
                          defects=list(p.defects if defects is None else defects))
    item = SimpleNamespace(image=p.image, prediction=res, mm_per_px=p.mm_per_px, verdict=None, inspection_id=None)
    Judge(None, log, p.model.name)(item, project, p.threshold if threshold is None else threshold,
                                   getattr(p, "record", None))
    return item.inspection_id, item.verdict
