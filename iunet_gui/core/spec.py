"""A part's specification and the verdict it gives an inspected image (Qt-free, torch-free).

A Specification holds, per defect class, limits on length (mm), width (mm), area (mm2) and count per
part; a defect whose class has no limits of its own is judged by the limits of "defect" (the one class
until the network names kinds). The part-level rule: any limit exceeded -> NG.

`judge(defects, spec, mm_per_px, threshold)` gives a Verdict:
- "NG" when a limit is clearly exceeded (by more than `size_margin`, by a defect whose probability lies
  outside the band around the threshold), with the reasons in words ("scratch 3.4 mm > 2.0 mm");
- "check" when the decision rests on a doubtful defect: its probability within `prob_band` of the
  threshold, or a size within `size_margin` (a fraction) of a limit, on either side;
- "uncalibrated" when a size limit applies but the image has no mm per pixel: never judged in pixels
  (a count limit needs no calibration and still makes a part NG);
- "OK" otherwise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from iunet_gui.core.errors import SpecError

DEFAULT_CLASS = "defect"
STATUSES = ("NG", "check", "uncalibrated", "OK")  # worst first
_LIMIT_KEYS = ("max_length_mm", "max_width_mm", "max_area_mm2", "max_count")
_SPEC_KEYS = ("limits", "prob_band", "size_margin")


@dataclass(frozen=True)
class ClassLimits:
    """Limits of one defect class; None: no limit."""

    max_length_mm: float | None = None
    max_width_mm: float | None = None
    max_area_mm2: float | None = None
    max_count: int | None = None

    @property
    def sizes(self) -> dict[str, float]:
        """The size limits that are set, by key."""
        return {k: getattr(self, k) for k in _LIMIT_KEYS[:3] if getattr(self, k) is not None}

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in _LIMIT_KEYS}

    @classmethod
    def from_dict(cls, d, where: str = "limits") -> ClassLimits:
        if not isinstance(d, dict):
            raise SpecError(f"{where}: expected an object of limits, found {type(d).__name__}")
        unknown = sorted(set(d) - set(_LIMIT_KEYS))
        if unknown:
            raise SpecError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                            f"known: {', '.join(_LIMIT_KEYS)}")
        values = {}
        for k in _LIMIT_KEYS[:3]:
            values[k] = _number(d.get(k), f"{where}.{k}")
        count = d.get("max_count")
        if count is not None:
            if isinstance(count, bool) or not isinstance(count, int) and not (
                    isinstance(count, float) and count.is_integer()):
                raise SpecError(f"{where}.max_count must be a whole number, found {count!r:.40}")
            if count < 0:
                raise SpecError(f"{where}.max_count must be >= 0, found {count}")
            count = int(count)
        values["max_count"] = count
        return cls(**values)


def _number(v, where: str, low: float = 0.0, high: float = math.inf, low_open: bool = True) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SpecError(f"{where} must be a number, found {v!r:.40}")
    v = float(v)
    if math.isnan(v) or math.isinf(v):
        raise SpecError(f"{where} must be a finite number, found {v}")
    if (v <= low if low_open else v < low) or v > high:
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        raise SpecError(f"{where} must be {bound}" + (f" and <= {high:g}" if high < math.inf else "")
                        + f", found {v:g}")
    return v


@dataclass
class Specification:
    """Limits per defect class, and the margins that make a verdict "check"."""

    limits: dict[str, ClassLimits] = field(default_factory=dict)
    prob_band: float = 0.10  # |p - threshold| <= band: the defect is doubtful
    size_margin: float = 0.10  # a size within this fraction of a limit: doubtful

    def limits_for(self, cls: str | None) -> ClassLimits | None:
        """The limits that judge a defect of class `cls` (its own, else those of "defect")."""
        return self.limits.get(cls or DEFAULT_CLASS) or self.limits.get(DEFAULT_CLASS)

    def to_dict(self) -> dict:
        return {"limits": {k: v.to_dict() for k, v in self.limits.items()}, "prob_band": self.prob_band,
                "size_margin": self.size_margin}

    @classmethod
    def from_dict(cls, d, where: str = "specification") -> Specification:
        """A Specification from its dict; SpecError names the first nonsense value."""
        if not isinstance(d, dict):
            raise SpecError(f"{where}: expected an object, found {type(d).__name__}")
        unknown = sorted(set(d) - set(_SPEC_KEYS))
        if unknown:
            raise SpecError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(_SPEC_KEYS)}")
        raw = d.get("limits", {})
        if not isinstance(raw, dict):
            raise SpecError(f"{where}.limits: expected an object of defect class -> limits")
        limits = {}
        for name, lim in raw.items():
            if not isinstance(name, str) or not name.strip():
                raise SpecError(f"{where}.limits: a defect class needs a non-empty name")
            limits[name] = ClassLimits.from_dict(lim, f"{where}.limits[{name!r}]")
        band = _number(d.get("prob_band", 0.10), f"{where}.prob_band", 0.0, 0.5, low_open=False)
        margin = _number(d.get("size_margin", 0.10), f"{where}.size_margin", 0.0, 1.0, low_open=False)
        return cls(limits, band, margin)

    @classmethod
    def default(cls) -> Specification:
        """No defect allowed: the specification of a project that has not set one."""
        return cls({DEFAULT_CLASS: ClassLimits(max_count=0)})


@dataclass
class Verdict:
    status: str  # "OK" | "NG" | "check" | "uncalibrated"
    reasons: list[str] = field(default_factory=list)
    ng: list[int] = field(default_factory=list)  # indices of the defects that break a limit
    check: list[int] = field(default_factory=list)  # indices of the doubtful defects

    def to_dict(self) -> dict:
        return {"status": self.status, "reasons": list(self.reasons), "ng": list(self.ng), "check": list(self.check)}

    @classmethod
    def from_dict(cls, d: dict) -> Verdict:
        return cls(d["status"], list(d.get("reasons", [])), list(d.get("ng", [])), list(d.get("check", [])))


_WORDS = {"max_length_mm": ("", "mm"), "max_width_mm": ("width ", "mm"), "max_area_mm2": ("area ", "mm²")}


def defect_class(d) -> str:
    """A defect's class: its label (or `kind`), else "defect"."""
    return getattr(d, "label", None) or getattr(d, "kind", None) or DEFAULT_CLASS


def defect_probability(d) -> float | None:
    for name in ("probability", "confidence", "prob"):
        v = getattr(d, name, None)
        if v is not None:
            return float(v)
    return None


def defect_sizes(d, mm_per_px: float | None) -> dict[str, float] | None:
    """A defect's length, width (mm) and area (mm2); None when uncalibrated."""
    if not mm_per_px:
        return None
    length = getattr(d, "length_mm", None)
    width = getattr(d, "width_mm", None)
    return {"max_length_mm": d.length_px * mm_per_px if length is None else length,
            "max_width_mm": d.width_px * mm_per_px if width is None else width,
            "max_area_mm2": d.area_px * mm_per_px * mm_per_px}


def judge(defects, spec: Specification | None, mm_per_px: float | None, threshold: float) -> Verdict:
    """The verdict of one image's measured defects (see the module's docstring)."""
    spec = spec or Specification.default()
    sure, doubt, near_idx = [], [], []  # breaking a limit clearly / doubtfully; doubtful defects
    ng_reasons, check_reasons = [], []
    uncalibrated = False
    by_class: dict[str, list[int]] = {}
    for i, d in enumerate(defects):
        cls = defect_class(d)
        by_class.setdefault(cls, []).append(i)
        limits = spec.limits_for(cls)
        p = defect_probability(d)
        unsure = p is not None and abs(p - threshold) <= spec.prob_band  # is it a defect at all?
        if unsure:
            check_reasons.append(f"{cls} p={p:.2f} near the threshold {threshold:.2f}")
        sizes = defect_sizes(d, mm_per_px)
        if limits is not None and limits.sizes and sizes is None:
            uncalibrated = True
        broken = near = False  # a limit broken clearly; a size within the margin of its limit
        for key, limit in (limits.sizes.items() if limits is not None and sizes is not None else ()):
            value, (word, unit) = sizes[key], _WORDS[key]
            if abs(value - limit) <= spec.size_margin * limit:
                near = True
                check_reasons.append(f"{cls} {word}{value:.2f} {unit} near the {_fmt(limit)} {unit} limit")
            elif value > limit:
                broken = True
                ng_reasons.append(f"{cls} {word}{value:.1f} {unit} > {_fmt(limit)} {unit}")
        if broken:  # one limit broken clearly is NG whatever its other sizes are
            (doubt if unsure else sure).append(i)
        if unsure or near:
            near_idx.append(i)
    for cls, idx in by_class.items():
        limits = spec.limits_for(cls)
        if limits is None or limits.max_count is None or len(idx) <= limits.max_count:
            continue
        clear = [i for i in idx if not _doubtful_p(defects[i], threshold, spec)]
        ng_reasons.append(f"{cls}: {len(idx)} found > {limits.max_count} allowed")
        (sure if len(clear) > limits.max_count else doubt).extend(idx)
    ng = sorted(set(sure) | set(doubt))
    check = sorted(set(near_idx))
    if sure:
        return Verdict("NG", _unique(ng_reasons), ng, check)
    if uncalibrated:
        return Verdict("uncalibrated", ["not calibrated: no mm per pixel, sizes not judged"]
                       + _unique(ng_reasons + check_reasons), ng, check)
    if doubt or check:
        return Verdict("check", _unique(ng_reasons + check_reasons), ng, check)
    return Verdict("OK", [], [], [])


def _doubtful_p(d, threshold: float, spec: Specification) -> bool:
    p = defect_probability(d)
    return p is not None and abs(p - threshold) <= spec.prob_band


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def _fmt(x: float) -> str:
    """A limit as written: 2.0, 0.25, 12.5."""
    return f"{x:.1f}" if round(x, 1) == x else f"{x:g}"
