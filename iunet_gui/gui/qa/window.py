"""The QA station's part of the main window: the Inspection menu (Specification…, the review keys),
File > Export Inspection Report…, the Review dock, the verdict banner and defect outlines over the
canvas, and the verdicts in the image list. The window calls `project_opened` and `image_opened`."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QInputDialog

from iunet_gui.app.records import InspectionLog
from iunet_gui.gui.jobs import Job
from iunet_gui.gui.menus import add_action
from iunet_gui.gui.qa.banner import VerdictBanner, VerdictOverlay
from iunet_gui.gui.qa.colors import verdict_color
from iunet_gui.gui.qa.review_panel import ReviewDock
from iunet_gui.gui.qa.spec_dialog import SpecDialog
from iunet_gui.gui.qa.station import QAStation, image_key

REFRESH_MS = 150


class QAWindow(QObject):
    def __init__(self, win):
        super().__init__(win)
        self.win = win
        self.station = QAStation(win)
        self.dock = ReviewDock(self.station, win)
        win.addDockWidget(Qt.RightDockWidgetArea, self.dock)
        win.tabifyDockWidget(win.model_dock, self.dock)
        win.model_dock.raise_()
        self.banner = VerdictBanner(win.canvas)
        self.overlay = VerdictOverlay(win.canvas.scene())
        self.spec_dialog: SpecDialog | None = None
        self.export_job: Job | None = None
        self.on_show = False  # the Review dock's tab is the one on show (isVisible says so for hidden tabs too)
        self.station.reviewing = lambda: self.on_show
        self.station.changed.connect(self.refresh)
        self._refresh_soon = QTimer(self)  # inspections come in a stream during Predict all: one refresh
        self._refresh_soon.setSingleShot(True)
        self._refresh_soon.setInterval(REFRESH_MS)
        self._refresh_soon.timeout.connect(self.refresh)
        self.station.inspected.connect(lambda: self._refresh_soon.isActive() or self._refresh_soon.start())
        self.station.failed.connect(lambda text: win.statusBar().showMessage(text, 8000))
        self.dock.item_chosen.connect(self.open_item)
        self.dock.defect_changed.connect(self._draw)
        self.dock.visibilityChanged.connect(self._review_keys_enabled)
        self._build_actions()
        self._review_keys_enabled(False)

    # -- actions and menus ----------------------------------------------------------------------
    def _build_actions(self) -> None:
        win, act = self.win, lambda *a, **k: add_action(self.win, *a, **k)
        self.act_spec = act("&Specification…", self.edit_specification, "Ctrl+Shift+L",
                            tip="Limits per defect class that make a part NG, and the margins of 'check'")
        self.act_report = act("Export &Inspection Report…", self.export_report,
                              tip="The inspection log as an HTML report, a PDF and a CSV of every defect")
        self.act_confirm = act("&Confirm Defect", lambda: self.decide_defect("confirm"), "Y")
        self.act_false = act("&False Alarm", lambda: self.decide_defect("false_alarm"), "N")
        self.act_verdict = act("Confirm &Verdict", self.confirm_verdict, ["Return", "Enter"],
                               tip="Confirm the image's verdict (while drawing: close the polygon)")
        self.act_ok = act("Override to &OK…", lambda: self.override("override_ok"), "O")
        self.act_ng = act("Override to N&G…", lambda: self.override("override_ng"), "G")
        self.act_next = act("Next &Undecided Image", lambda: self.step(1), ["J", "]"])
        self.act_prev = act("Previous Undecided Ima&ge", lambda: self.step(-1), ["K", "["])
        self.review_actions = (self.act_confirm, self.act_false, self.act_verdict, self.act_ok, self.act_ng,
                               self.act_next, self.act_prev)
        bar = win.menuBar()
        menus = [a for a in bar.actions() if a.menu() is not None]
        menu = bar.addMenu("&Inspection") if not menus else None
        if menu is None:
            from PySide6.QtWidgets import QMenu

            menu = QMenu("&Inspection", bar)
            bar.insertMenu(menus[-1], menu)  # before Help
        self.menu = menu
        menu.addAction(self.act_spec)
        menu.addAction(self.dock.toggleViewAction())
        menu.addSeparator()
        for a in self.review_actions:
            menu.addAction(a)
        menu.addSeparator()
        menu.addAction(self.act_report)
        file_menu = menus[0].menu() if menus else None
        if file_menu is not None:
            file_menu.insertAction(win.act_quit, self.act_report)
            file_menu.insertSeparator(win.act_quit)

    def _review_keys_enabled(self, visible: bool) -> None:
        """The review keys work while the Review dock is on show; otherwise Enter and the letters are the
        canvas's and the other panels' as before."""
        self.on_show = bool(visible)
        for a in self.review_actions:
            a.setEnabled(self.on_show)
        if visible and self.station.look_again():  # another window or a line PC may have logged meanwhile
            self.refresh()

    # -- the window's events --------------------------------------------------------------------
    def project_opened(self, project) -> None:
        self.station.project_opened(project)

    def image_opened(self) -> None:
        doc = self.win.document
        self.station.image_opened(doc)
        self.dock.show_image(doc.image_path if doc is not None else None)
        self._draw()

    def refresh(self) -> None:
        self._refresh_soon.stop()
        self._refresh()

    def _refresh(self) -> None:
        """The log changed: the image list's verdicts, the queue, the open image's banner and outlines."""
        self.dock.refresh()
        project = self.win.project
        if project is not None:
            rows = {image_key(p): k for k, p in enumerate(project.images)}
            for it in self.dock.everything:
                row = rows.get(image_key(it.image_path))
                if row is not None:
                    final = it.final_status
                    shown = final if final == it.verdict.status else f"{it.verdict.status}→{final}"
                    self.win.images_dock.set_verdict(row, shown, verdict_color(final), it.reasons)
        self._draw()

    def _draw(self) -> None:
        doc = self.win.document
        it = self.station.item(doc.image_path) if doc is not None else None
        if it is None:
            self.banner.show(None)
            self.overlay.clear()
            return
        self.banner.show(it.verdict.status, it.reasons, it.final_status if it.decided else None)
        decisions = {int(d["idx"]): it.defect_decision(int(d["idx"])) for d in it.defects}
        self.overlay.show(it.defects, decisions, self.dock.current_defect() if self.on_show else None)

    def open_item(self, item) -> None:
        project = self.win.project
        if project is None:
            return
        key = image_key(item.image_path)
        row = next((k for k, p in enumerate(project.images) if image_key(p) == key), None)
        if row is None:
            self.win.statusBar().showMessage(f"{item.image_path} is not in this folder any more", 6000)
            return
        self.win.go_to(row)

    # -- decisions ------------------------------------------------------------------------------
    def _current(self):
        it = self.dock.current
        if it is None:
            self.win.statusBar().showMessage("This image has no inspection to review: Predict it (Ctrl+P)", 4000)
        return it

    def decide_defect(self, decision: str) -> None:
        it = self._current()
        index = self.dock.current_defect()
        if it is None or index is None:
            return
        if self.station.decide(it, index, decision):
            self.dock.next_undecided_defect()

    def confirm_verdict(self) -> None:
        if self.win.canvas.drawing:  # Enter closes the polygon being drawn, as without the review
            self.win.canvas.finish_polygon()
            return
        it = self._current()
        if it is not None and self.station.decide(it, None, "confirm_verdict"):
            self.step(1)

    def override(self, decision: str) -> None:
        it = self._current()
        if it is None:
            return
        word = "OK" if decision == "override_ok" else "NG"
        note = self.ask_note(f"Override to {word}", f"Why is {Path(it.image_path).name} {word}? (a short note)")
        if note is not None and self.station.decide(it, None, decision, note):
            self.step(1)

    def ask_note(self, title: str, label: str) -> str | None:
        """The reviewer's note, None when they cancel (a dialog)."""
        text, ok = QInputDialog.getText(self.win, title, label)
        return text.strip() if ok else None

    def step(self, direction: int) -> None:
        row = self.dock.undecided_row(direction)
        if row is None:
            self.win.statusBar().showMessage("No undecided image " + ("after" if direction > 0 else "before")
                                             + " this one in the queue", 4000)
            return
        self.dock.choose_row(row)

    # -- specification and report ---------------------------------------------------------------
    def edit_specification(self) -> None:
        project = self.win.project
        if project is None:
            self.win.statusBar().showMessage("Open a folder first: the specification is the project's", 4000)
            return
        names = [c.name for c in project.settings.classes]
        predictor = self.win.model_dock.models.predictor  # a multi-class model's kinds get rows too
        names += [k for k in (predictor.classes if predictor is not None else ()) if k not in names]
        self.spec_dialog = dlg = SpecDialog(self.station.specification(), names, self.win)
        dlg.accepted.connect(lambda: self._store_specification(dlg))
        dlg.open()

    def _store_specification(self, dlg: SpecDialog) -> None:
        try:
            self.station.set_specification(dlg.specification)
        except OSError as exc:
            self.win.error("Could not save the specification", str(exc))
            return
        self.win.statusBar().showMessage("Specification saved; the next predictions are judged by it", 5000)

    def ask_report_folder(self) -> str:
        start = str(self.win.project.folder) if self.win.project else str(Path.home())
        return QFileDialog.getExistingDirectory(self.win, "Export the inspection report into", start)

    def export_report(self) -> bool:
        """Write the log's report (app.reports) into a chosen folder in the background; False when it
        does not start. `export_job` runs it; the status bar tells the files written."""
        if self.station.log is None:
            self.win.statusBar().showMessage("Nothing inspected yet: Predict or Predict All first", 4000)
            return False
        if self.export_job is not None:
            self.win.statusBar().showMessage("The report is being written", 4000)
            return False
        folder = self.ask_report_folder()
        self.win.keys_to_canvas.focus_canvas()
        if not folder:
            return False
        log_path, project = self.station.log.path, self.win.project

        def work(progress, cancel):
            with InspectionLog(log_path) as log:  # its own connection, in the worker's thread
                return write_reports(log, Path(folder), project)

        self.export_job = job = Job(work, self)
        job.succeeded.connect(lambda written: self.win.statusBar().showMessage(
            "Report written: " + ", ".join(str(p) for p in written), 10000))
        job.failed.connect(lambda message: self.win.error("Could not export the report", message))
        job.finished.connect(self._export_done)
        self.win.statusBar().showMessage(f"Writing the inspection report into {folder}…")
        job.start()
        return True

    def _export_done(self) -> None:
        self.export_job = None

    def shut_down(self, timeout_ms: int = 120000) -> None:
        """Wait for a report being written, then close the log."""
        if self.export_job is not None:
            self.export_job.wait(timeout_ms)
        self.station.close()


def write_reports(log, folder: Path, project) -> list[Path]:
    """HTML, PDF and CSV of the inspection log (app.reports) into `folder`; the PDF by Chromium where
    one is installed, else by Qt (app.reports.pdf: the same writer as `iunet-gui report`)."""
    from iunet_gui.app.reports import KINDS
    from iunet_gui.app.reports import write_reports as write

    folder_text = str(Path(project.folder).resolve()) if project is not None else ""
    return list(write(log, folder, KINDS, folder=folder_text).values())
