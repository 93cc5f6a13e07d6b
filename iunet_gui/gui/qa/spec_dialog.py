"""Inspection > Specification…: per defect class the limits on length, width, area and count per part,
the probability band and size margin that make a verdict "check". An empty field is no limit; a value
that makes no sense is named in the dialog, which stays open until it is fixed or cancelled."""
from __future__ import annotations

import math

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from iunet_gui.core.errors import SpecError
from iunet_gui.core.spec import DEFAULT_CLASS, Specification

COLUMNS = (("max_length_mm", "Length mm"), ("max_width_mm", "Width mm"), ("max_area_mm2", "Area mm²"),
           ("max_count", "Count"))


def _text(v) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _value(text: str, where: str, whole: bool = False):
    t = text.strip().replace(",", ".")
    if not t:
        return None
    try:
        v = float(t)
    except ValueError:
        raise SpecError(f"{where}: {text.strip()!r} is not a number") from None
    if whole and not math.isnan(v) and not math.isinf(v) and v.is_integer():
        return int(v)
    return v


class SpecDialog(QDialog):
    """Edits a copy; `specification` is the accepted one (None until accepted)."""

    def __init__(self, spec: Specification | None, classes: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Specification")
        self.setObjectName("specification")
        self.specification: Specification | None = None
        spec = spec or Specification.default()
        names = [DEFAULT_CLASS] + [c for c in classes if c != DEFAULT_CLASS]
        names += [c for c in spec.limits if c not in names]
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Limits per part; empty: no limit. A class without limits of its own is "
                             f"judged by the “{DEFAULT_CLASS}” row. Any limit exceeded: NG."))
        grid = QGridLayout()
        grid.addWidget(QLabel("<b>Class</b>"), 0, 0)
        for c, (_key, title) in enumerate(COLUMNS):
            grid.addWidget(QLabel(f"<b>{title}</b>"), 0, c + 1)
        self.fields: dict[str, dict[str, QLineEdit]] = {}
        for r, name in enumerate(names):
            grid.addWidget(QLabel(name), r + 1, 0)
            limits = spec.limits.get(name)
            row = {}
            for c, (key, title) in enumerate(COLUMNS):
                edit = QLineEdit(_text(getattr(limits, key)) if limits is not None else "")
                edit.setPlaceholderText("no limit")
                edit.setObjectName(f"{name}.{key}")
                edit.setAccessibleName(f"{name} {title}")
                grid.addWidget(edit, r + 1, c + 1)
                row[key] = edit
            self.fields[name] = row
        lay.addLayout(grid)
        form = QFormLayout()
        self.band = QLineEdit(_text(spec.prob_band))
        self.band.setToolTip("A defect whose probability is within this of the threshold makes the verdict 'check'")
        self.margin = QLineEdit(_text(spec.size_margin))
        self.margin.setToolTip("A size within this fraction of a limit (either side) makes the verdict 'check'")
        form.addRow("Check band (probability ±)", self.band)
        form.addRow("Check margin (fraction of a limit)", self.margin)
        lay.addLayout(form)
        self.error = QLabel()
        self.error.setObjectName("spec-error")
        self.error.setStyleSheet("color: #c62828; font-weight: 600;")
        self.error.setWordWrap(True)
        self.error.hide()
        lay.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

    def read(self) -> Specification:
        """The specification in the fields; SpecError names the first field that makes no sense."""
        limits = {}
        for name, row in self.fields.items():
            values = {key: _value(edit.text(), f"{name} {title}", key == "max_count")
                      for (key, title), edit in zip(COLUMNS, row.values())}
            if any(v is not None for v in values.values()):
                limits[name] = values
        band = _value(self.band.text(), "check band")
        margin = _value(self.margin.text(), "check margin")
        raw = {"limits": limits, "prob_band": 0.10 if band is None else band,
               "size_margin": 0.10 if margin is None else margin}
        return Specification.from_dict(raw, "specification")

    def accept(self) -> None:
        try:
            self.specification = self.read()
        except SpecError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        super().accept()
