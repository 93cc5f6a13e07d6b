"""The Review dock: every inspected image of the project, worst first (app.review.review_queue), filters
by verdict, defect class and reviewer status, the reviewer's progress, and the open image's defects with
what was decided about each. The keys that decide are the window's (gui.qa.window)."""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from iunet_gui.app.review import ReviewItem, progress, review_queue
from iunet_gui.core.spec import STATUSES
from iunet_gui.gui.qa.colors import verdict_color
from iunet_gui.gui.qa.station import image_key
from iunet_gui.gui.theme import color_swatch

ANY = ("All verdicts", "All classes", "Decided or not")  # each filter's first entry: no filter
KEYS_HELP = ("Y confirm defect · N false alarm · Enter confirm verdict · O / G override to OK / NG · "
             "J / ] next undecided · K / [ previous · draw a missed defect (Ctrl+N)")
DECISION_WORDS = {"confirm": "confirmed", "false_alarm": "false alarm", None: "undecided"}


def queue_text(item: ReviewItem) -> str:
    final = item.final_status
    verdict = item.verdict.status if final == item.verdict.status else f"{item.verdict.status}→{final}"
    reason = item.reasons[0] if item.reasons else ("no defect" if not item.defects else "")
    return f"{'✓' if item.decided else '•'} {verdict}  {Path(item.image_path).name}" + (f" — {reason}" if reason else "")


def defect_text(item: ReviewItem, d: dict) -> str:
    idx = int(d["idx"])
    size = f"{d['length_mm']:.2f} mm" if d.get("length_mm") is not None else f"{d['length_px']:.0f} px"
    prob = f" p {d['probability']:.2f}" if d.get("probability") is not None else ""
    judged = {"ng": " NG", "check": " check"}.get(d.get("judged"), "")
    return f"#{idx + 1} {d.get('class') or 'defect'} {size}{prob}{judged} — {DECISION_WORDS[item.defect_decision(idx)]}"


class ReviewDock(QDockWidget):
    item_chosen = Signal(object)  # the ReviewItem whose image the reviewer picked in the queue
    defect_changed = Signal()  # another defect of the open image is the current one

    def __init__(self, station, parent=None):
        super().__init__("Review", parent)
        self.setObjectName("review")
        self.station = station
        self.items: list[ReviewItem] = []  # the queue on show (filtered)
        self.everything: list[ReviewItem] = []  # every image's latest inspection
        self.current: ReviewItem | None = None  # the open image's inspection
        self._quiet = False
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(6, 6, 6, 6)
        filters = QHBoxLayout()
        self.verdict_filter = self._combo("Verdict", [ANY[0], *STATUSES])
        self.kind_filter = self._combo("Defect class", [ANY[1]])
        self.status_filter = self._combo("Reviewer status", [ANY[2], "undecided", "decided"])
        for box in (self.verdict_filter, self.kind_filter, self.status_filter):
            filters.addWidget(box)
        lay.addLayout(filters)
        self.progress = QLabel("No inspected image yet: Predict (Ctrl+P) or Predict All")
        self.progress.setObjectName("review-progress")
        lay.addWidget(self.progress)
        self.queue = QListWidget()
        self.queue.setObjectName("review-queue")
        self.queue.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # long reasons are cut: the tooltip has them
        self.queue.setTextElideMode(Qt.ElideRight)
        lay.addWidget(self.queue, 3)
        self.reasons = QLabel()
        self.reasons.setWordWrap(True)
        lay.addWidget(self.reasons)
        self.defects = QListWidget()
        self.defects.setObjectName("review-defects")
        lay.addWidget(self.defects, 2)
        keys = QLabel(KEYS_HELP)
        keys.setWordWrap(True)
        keys.setObjectName("count")
        lay.addWidget(keys)
        self.setWidget(w)
        self.queue.currentRowChanged.connect(self._row_changed)
        self.defects.currentRowChanged.connect(lambda _r: self.defect_changed.emit())

    def _combo(self, tip: str, entries: list[str]) -> QComboBox:
        box = QComboBox()
        box.addItems(entries)
        box.setToolTip(f"Filter by {tip.lower()}")
        box.setAccessibleName(tip)
        box.currentIndexChanged.connect(lambda _i: self.refresh())
        return box

    # -- the queue ----------------------------------------------------------------------------
    def filters(self) -> dict:
        pick = {box: (None if box.currentIndex() <= 0 else box.currentText())
                for box in (self.verdict_filter, self.kind_filter, self.status_filter)}
        return {"verdict": pick[self.verdict_filter], "kind": pick[self.kind_filter],
                "reviewer_status": pick[self.status_filter]}

    def refresh(self) -> None:
        """The queue again from the log (keeping the open image's row), its progress and classes."""
        log = self.station.log
        self.everything = everything = review_queue(log) if log is not None else []
        self.items = review_queue(log, **self.filters()) if log is not None else []
        self._refresh_kinds(everything)
        decided, total = progress(everything)
        if total:
            self.progress.setText(f"Reviewed {decided} / {total} images" + (
                f" · {len(self.items)} shown" if len(self.items) != total else ""))
        self._quiet = True
        self.queue.clear()
        for it in self.items:
            row = QListWidgetItem(color_swatch(verdict_color(it.final_status)), queue_text(it))
            row.setForeground(QColor(verdict_color(it.final_status)))
            row.setToolTip("\n".join([it.image_path, *it.reasons]))
            self.queue.addItem(row)
        self._quiet = False
        doc = self.station.win.document
        self.show_image(doc.image_path if doc is not None else None)

    def _refresh_kinds(self, everything: list[ReviewItem]) -> None:
        kinds = sorted({d.get("class") or "defect" for it in everything for d in it.defects})
        have = [self.kind_filter.itemText(i) for i in range(1, self.kind_filter.count())]
        if kinds != have:
            chosen = self.kind_filter.currentText()
            self.kind_filter.blockSignals(True)
            self.kind_filter.clear()
            self.kind_filter.addItems([ANY[1], *kinds])
            self.kind_filter.setCurrentText(chosen if chosen in kinds else ANY[1])
            self.kind_filter.blockSignals(False)

    def row_of(self, image) -> int:
        key = image_key(image)
        return next((k for k, it in enumerate(self.items) if image_key(it.image_path) == key), -1)

    def _row_changed(self, row: int) -> None:
        if not self._quiet and 0 <= row < len(self.items):
            self.item_chosen.emit(self.items[row])

    def undecided_row(self, step: int) -> int | None:
        """The next (step 1) or previous (-1) undecided image's row from the open one, None if none."""
        start = self.queue.currentRow()
        rows = range(start + 1, len(self.items)) if step > 0 else range(start - 1, -1, -1)
        if start < 0:
            rows = range(len(self.items)) if step > 0 else range(len(self.items) - 1, -1, -1)
        return next((r for r in rows if not self.items[r].decided), None)

    def choose_row(self, row: int) -> None:
        self.queue.setCurrentRow(row)

    # -- the open image -------------------------------------------------------------------------
    def show_image(self, image) -> None:
        """Select the open image's row and list its defects (the whole-log item, filtered or not)."""
        self.current = self.station.item(image) if image is not None else None
        self._quiet = True
        self.queue.setCurrentRow(self.row_of(image) if image is not None else -1)
        self._quiet = False
        keep = self.defects.currentRow()
        self.defects.clear()
        it = self.current
        if it is None:
            self.reasons.setText("This image has not been inspected." if image is not None else "")
            return
        self.reasons.setText(f"<b style='color:{verdict_color(it.final_status)}'>{it.verdict.status}</b>"
                             + ("" if it.final_status == it.verdict.status else f" → {it.final_status}")
                             + "".join(f"<br>• {html.escape(r)}" for r in it.reasons))
        for d in it.defects:
            self.defects.addItem(defect_text(it, d))
        if self.defects.count():
            self.defects.setCurrentRow(min(max(keep, 0), self.defects.count() - 1))

    def current_defect(self) -> int | None:
        row = self.defects.currentRow()
        return int(self.current.defects[row]["idx"]) if self.current is not None and row >= 0 else None

    def next_undecided_defect(self) -> None:
        """Move to the open image's next defect without a decision (after the current one)."""
        it = self.current
        if it is None or not it.defects:
            return
        n, start = len(it.defects), self.defects.currentRow()
        for k in range(1, n + 1):
            row = (start + k) % n
            if it.defect_decision(int(it.defects[row]["idx"])) is None:
                self.defects.setCurrentRow(row)
                return
