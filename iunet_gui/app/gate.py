"""The champion/challenger gate: a new model (challenger) and the model in use (champion) are both
scored on the project's golden set (app.golden) -- the paper's Table 3 (MIoU, defect IoU, pixel
accuracy, accuracy) and Table 4 (mean and max length error in mm), per class where there are
classes, verdict agreement where the project has a specification, ms per image -- and the
challenger becomes the model in use only when it does not regress beyond the Tolerances. A refused
challenger can still be put in use with an override, whose note is required and logged."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from iunet_gui.core.errors import IunetError

EXIT_REFUSED = 4  # `iunet-gui train --gate`: the challenger was refused


@dataclass(frozen=True)
class Tolerances:
    """How much worse than the champion a challenger may be on the golden set."""

    miou_points: float = 0.5  # MIoU may drop by at most this many points (percent)
    length_error_mm: float = 0.05  # the mean length error may grow by at most this much
    new_missed_ng: int = 0  # NG parts the champion finds and the challenger misses


def missed_ng(records: list[dict]) -> list[str]:
    """Images with labelled defects in which the model found none of them (an NG part let through)."""
    return [r["name"] for r in records if r.get("defects_labelled", r.get("defects_gt", 0)) > 0
            and r.get("defects_found", r.get("matched", 0)) == 0]


def golden_figures(model, project_folder, images, settings=None, progress=None, cancel=None) -> dict:
    """The figures of `model` (a checkpoint or ONNX path) on `images` of the project: the summary of
    core.metrics (Table 3 and 4 and the defect-level figures), `ms_per_image`, `missed_ng` (image
    names), `per_image` records and, with a specification, `verdict_agreement`."""
    import numpy as np

    from iunet_gui.app.inspect import inspect_images
    from iunet_gui.app.settings import InspectSettings, open_predictor
    from iunet_gui.core.project import Project

    images = [Path(p) for p in images]
    if not images:
        raise IunetError("the golden set is empty: add labelled images to it first")
    project = Project.open(project_folder)
    settings = (settings or InspectSettings()).validated()
    predictor = open_predictor(model, settings)
    found = {}  # image name -> its predicted defects

    def each(ev):
        if ev.result is not None:
            found[ev.result.image.name] = ev.result.prediction.defects
        if progress:
            progress(ev)

    run = inspect_images(predictor, images, settings, project=project, progress=each, cancel=cancel)
    if run.summary is None:
        raise IunetError(f"{model}: no image of the golden set could be scored ({'; '.join(run.failures[:3])})")
    out = dict(run.summary)
    out["ms_per_image"] = float(np.mean(run.times_ms)) if run.times_ms else None
    out["missed_ng"] = missed_ng(run.records)
    out["per_image"] = run.records
    out["verdict_agreement"] = _verdict_agreement(project, images, found, predictor)
    return out


def _verdict_agreement(project, images, found: dict, predictor) -> float | None:
    """Share of images whose verdict from the prediction equals the verdict from the labels, under
    the project's specification (None without one, or without a calibrated labelled image)."""
    spec = getattr(project, "specification", None)
    if spec is None:
        return None
    from iunet_gui.core.measure import measure_regions
    from iunet_gui.core.spec import judge

    agree = n = 0
    for img in images:
        mm, gt = project.mm_per_px_for(img), project.ground_truth_mask(img)
        if not mm or gt is None or img.name not in found:
            continue
        labelled = [d for _, d in measure_regions(gt, mm, merge_gap_px=predictor.merge_gap_px,
                                                  chain_gap_px=predictor.chain_gap_px)]
        truth = judge(labelled, spec, mm, predictor.threshold).status
        agree += truth == judge(found[img.name], spec, mm, predictor.threshold).status
        n += 1
    return agree / n if n else None


@dataclass
class GateVerdict:
    accepted: bool
    reasons: list[str] = field(default_factory=list)  # why refused (or notes when accepted)


def judge_challenger(challenger: dict, champion: dict | None, tol: Tolerances = Tolerances()) -> GateVerdict:
    """Accept or refuse `challenger` against `champion` (golden_figures of both; None: no champion)."""
    if champion is None:
        return GateVerdict(True, ["no model in use to compare with"])
    reasons = []
    drop = 100 * (champion["miou"] - challenger["miou"])
    if drop > tol.miou_points + 1e-9:
        reasons.append(f"MIoU {100 * challenger['miou']:.2f} % is {drop:.2f} points below the model in use "
                       f"({100 * champion['miou']:.2f} %; tolerance {tol.miou_points:g} points)")
    a, b = challenger.get("length_error_mean_mm"), champion.get("length_error_mean_mm")
    if a is not None and b is not None and a - b > tol.length_error_mm + 1e-9:
        reasons.append(f"mean length error {a:.3f} mm is {a - b:.3f} mm above the model in use ({b:.3f} mm; "
                       f"tolerance {tol.length_error_mm:g} mm)")
    new = sorted(set(challenger.get("missed_ng", [])) - set(champion.get("missed_ng", [])))
    if len(new) > tol.new_missed_ng:
        reasons.append(f"{len(new)} NG part(s) the model in use finds are missed: {', '.join(new[:5])}"
                       + (" ..." if len(new) > 5 else ""))
    return GateVerdict(not reasons, reasons)


@dataclass
class GateOutcome:
    challenger_id: int
    champion_id: int | None
    verdict: GateVerdict
    challenger: dict
    champion: dict | None
    decision_id: int  # its row in gate_decisions
    in_use: bool  # the challenger is now the model in use
    notice: str = ""  # e.g. the golden set's labels changed since it was frozen
    champion_reused: bool = False  # the champion's figures are the registry's, not scored again

    @property
    def accepted(self) -> bool:
        return self.verdict.accepted


def _compact(figures: dict | None) -> dict | None:
    """The figures kept in the registry and log (without the per-image records)."""
    return None if figures is None else {k: v for k, v in figures.items() if k != "per_image"}


def golden_fingerprint(model, project, images, settings=None) -> str:
    """SHA-1 of everything a model's figures on a golden set depend on: the model file's bytes, the
    images (names and bytes) with their labels and calibration, the project's specification and the
    inspection settings. Figures stored with the same fingerprint are the ones scoring would give again."""
    import hashlib
    import json
    from dataclasses import asdict

    from iunet_gui.app.records import content_hash, json_ready
    from iunet_gui.app.registry import labels_hash
    from iunet_gui.app.settings import InspectSettings

    images = sorted(Path(p) for p in images)
    h = hashlib.sha1()
    h.update(content_hash(model).encode() + b"\0" + labels_hash(project, images).encode())
    for img in images:
        h.update(f"\0{img.name}\0{content_hash(img) if img.is_file() else '-'}\0{project.mm_per_px_for(img)}".encode())
    spec = project.settings.extra.get("specification")
    h.update(json.dumps(json_ready(spec), sort_keys=True).encode())
    h.update(json.dumps(json_ready(asdict(settings or InspectSettings())), sort_keys=True).encode())
    return h.hexdigest()


def _stored_figures(entry, fingerprint: str) -> dict | None:
    """The entry's figures on the golden set as the registry keeps them, when they were scored on the
    same images, labels, calibration and settings (same fingerprint, whatever the set's name); else None."""
    golden = entry.golden or {}
    if golden.get("fingerprint") == fingerprint:
        return {k: v for k, v in golden.items() if k != "fingerprint"}
    return None


def run_gate(registry, challenger_id: int, tol: Tolerances = Tolerances(), settings=None, set_name: str | None = None,
             progress=None, cancel=None) -> GateOutcome:
    """Score the challenger and the model in use on the golden set, keep both figures in the registry,
    log the decision and, when accepted, make the challenger the model in use. The champion's figures
    stored by an earlier gate are reused when nothing they depend on changed (golden_fingerprint)."""
    from iunet_gui.app.golden import DEFAULT_SET, GoldenSets

    set_name = set_name or DEFAULT_SET
    sets = GoldenSets(registry)
    images = sets.images(set_name)
    changed = sets.changed(set_name)
    notice = (f"the labels of {len(changed)} golden image(s) changed since they were added: {', '.join(changed[:5])}"
              if changed else "")
    challenger = registry.get(challenger_id)
    champion = registry.in_use()
    if champion is not None and champion.id == challenger.id:
        champion = None
    ch = golden_figures(challenger.path, registry.folder, images, settings, progress, cancel)
    registry.set_golden(challenger.id, set_name,
                        {**_compact(ch), "fingerprint": golden_fingerprint(challenger.path, sets.project, images,
                                                                           settings)})
    cp, reused = None, False
    if champion is not None:
        key = golden_fingerprint(champion.path, sets.project, images, settings)
        cp = _stored_figures(champion, key)
        reused = cp is not None
        if cp is None:
            cp = golden_figures(champion.path, registry.folder, images, settings, progress, cancel)
            registry.set_golden(champion.id, set_name, {**_compact(cp), "fingerprint": key})
    verdict = judge_challenger(ch, cp, tol)
    decision = registry.log_gate(challenger.id, None if champion is None else champion.id, verdict.accepted,
                                 verdict.reasons, figures={"challenger": _compact(ch), "champion": _compact(cp),
                                                           "golden_set": set_name, "tolerances": tol.__dict__,
                                                           "champion_reused": reused})
    if verdict.accepted:
        registry.set_in_use(challenger.id)
    return GateOutcome(challenger.id, None if champion is None else champion.id, verdict, ch, cp, decision,
                       verdict.accepted, notice, reused)


def override(registry, outcome: GateOutcome, note: str, reviewer: str | None = None) -> int:
    """Put a refused challenger in use anyway. The note (why) is required and logged; returns the log row."""
    if not str(note or "").strip():
        raise IunetError("an override of the gate needs a note saying why")
    if outcome.accepted:
        raise IunetError("the challenger was accepted: nothing to override")
    row = registry.log_gate(outcome.challenger_id, outcome.champion_id, True, outcome.verdict.reasons,
                            overridden=True, note=str(note).strip(), reviewer=reviewer)
    registry.set_in_use(outcome.challenger_id)
    outcome.in_use = True
    return row
