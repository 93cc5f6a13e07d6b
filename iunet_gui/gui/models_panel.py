"""The Models panel (a dock) and the registry's part of the window: every model the project knows
(app.registry) with its columns, the model in use marked; use, rename, delete (asked; the files of the
model in use can't be deleted), export to ONNX, open the run folder, compare. The window calls
`project_opened`; the Model panel's model choice and the end of a training run come here: a chosen
model is registered and put in use, a trained one goes through the gate (app.gate) and, when
refused, the window asks whether to use it anyway, with a note that goes into the log."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QInputDialog, QMessageBox

from iunet_gui.core.errors import IunetError
from iunet_gui.gui.menus import add_action
from iunet_gui.gui.models_table import ModelsDock


class ModelsWindowPart(QObject):
    """The registry of the open project and what the window does with it."""

    changed = Signal()

    def __init__(self, win):
        super().__init__(win)
        self.win = win
        self.registry = None
        self.outcomes: list = []  # the gate's outcomes of this session (tests read them)
        self.jobs: list = []  # workers reading checkpoints' details
        self.dock = ModelsDock(win)
        win.addDockWidget(Qt.RightDockWidgetArea, self.dock)
        win.tabifyDockWidget(win.model_dock, self.dock)
        win.model_dock.raise_()
        d = self.dock
        d.use_clicked.connect(self.use)
        d.rename_clicked.connect(self.rename)
        d.delete_clicked.connect(self.delete)
        d.export_clicked.connect(self.export_onnx)
        d.folder_clicked.connect(self.open_run_folder)
        d.compare_clicked.connect(self.compare)
        self.on_show = False  # the dock's tab is the one on show (a tabified dock stays "visible" behind others)
        d.visibilityChanged.connect(self._shown)
        self.compare_view = None
        self.act_golden = add_action(win, "Add to &Golden Set", self.add_open_image_to_golden,
                                     tip="Put the open labelled image in the golden set the gate scores models on")
        self._add_menu_entries()
        images = win.images_dock.list  # right-click an image (which opens it): Add to Golden Set
        images.setContextMenuPolicy(Qt.ActionsContextMenu)
        images.addAction(self.act_golden)
        win.model_dock.models.model_changed.connect(self._model_chosen)

    def _add_menu_entries(self) -> None:
        bar = self.win.menuBar()
        menus = [a.menu() for a in bar.actions() if a.menu() is not None]
        target = next((m for m in menus if m.title().replace("&", "") in ("Model", "View")), menus[-1] if menus else None)
        if target is not None:
            target.addSeparator()
            target.addAction(self.dock.toggleViewAction())
            target.addAction(self.act_golden)

    # -- the project --------------------------------------------------------------------------------
    def project_opened(self, project) -> None:
        """Open the project's registry; the model in use there becomes the window's, else the window's
        model is registered as the model in use."""
        from iunet_gui.app.registry import ModelRegistry

        self.close()
        try:
            self.registry = ModelRegistry(project.folder)
        except IunetError as exc:
            self.win.error("Model registry", f"{exc}\nModels are not registered for this folder.")
            return
        controller = self.win.model_dock.models
        in_use = self.registry.in_use()
        if in_use is not None and in_use.path.is_file():
            if controller.checkpoint is None or Path(controller.checkpoint).resolve() != in_use.path:
                controller.set_checkpoint(in_use.path)
        else:
            self._model_chosen()
        self.refresh()

    def close(self) -> None:
        for job in list(self.jobs):
            job.wait()
        if self.registry is not None:
            self.registry.close()
            self.registry = None

    def refresh(self) -> None:
        if self.registry is None:
            self.dock.show_models([], [])
            return
        from iunet_gui.app.golden import GoldenSets

        self.dock.show_models(self.registry.models(), [p.name for p in GoldenSets(self.registry).images()])
        self.changed.emit()

    def _source_of(self, path: Path) -> str:
        from iunet_gui.gui.model.controller import DEFAULT_CHECKPOINT

        if path.suffix.lower() == ".onnx":
            return "onnx"
        return "shipped" if path.resolve() == Path(DEFAULT_CHECKPOINT).resolve() else "file"

    def _model_chosen(self) -> None:
        """The Model panel's model, registered (once) and marked in use."""
        ckpt = self.win.model_dock.models.checkpoint
        if self.registry is None or ckpt is None or not Path(ckpt).is_file():
            return
        in_use = self.registry.in_use()
        if in_use is not None and in_use.path == Path(ckpt).resolve():
            return
        try:
            entry = self.registry.register(ckpt, self._source_of(Path(ckpt)), describe=False)
        except IunetError as exc:
            self.win.error("Model registry", str(exc))
            return
        self.registry.set_in_use(entry.id)
        self.refresh()
        self.describe_pending()

    def _shown(self, visible: bool) -> None:
        self.on_show = visible
        self.describe_pending()

    def describe_pending(self) -> None:
        """Read the details of checkpoints registered without them, in a worker, once the panel is on
        show (opening the window imports no torch)."""
        from iunet_gui.gui.jobs import Job

        if self.registry is None or not self.on_show or self.jobs:
            return
        registry = self.registry
        pending = [e.id for e in registry.models() if e.arch is None]
        if not pending:
            return
        job = Job(lambda _progress, _cancel: [registry.describe(i) for i in pending], self)
        job.succeeded.connect(lambda _entry: self.refresh() if self.registry is registry else None)
        job.failed.connect(lambda text: self.win.statusBar().showMessage(f"Model registry: {text}", 8000))
        job.finished.connect(lambda: self.jobs.remove(job) if job in self.jobs else None)
        self.jobs.append(job)
        job.start()

    # -- training and the gate ----------------------------------------------------------------------
    def training_config(self, cfg):
        """The run's config with the golden set left out; the notice goes to the status bar."""
        if self.registry is None:
            return cfg
        from dataclasses import replace

        from iunet_gui.app.golden import training_exclusions

        names, notice = training_exclusions(self.registry, cfg.include_golden)
        if notice:
            self.win.statusBar().showMessage(notice, 8000)
        return replace(cfg, exclude=sorted(set(cfg.exclude) | set(names))) if names else cfg

    def admit(self, result) -> bool:
        """A finished run's model: registered, gated on the golden set; True when it may be put in use
        (accepted, no golden set to score on, or the user overrode the gate with a note)."""
        from iunet_gui.app.gate import run_gate

        entry = self._challenger(result)
        if entry is None or isinstance(entry, bool):
            return bool(entry)
        try:
            outcome = run_gate(self.registry, entry.id)
        except IunetError as exc:
            return self._gate_failed(str(exc))
        return self._decide(outcome)

    def admit_later(self, result, done) -> None:
        """`admit` with the scoring in a worker (the window stays live); `done(bool)` is called with the answer."""
        from iunet_gui.app.gate import run_gate
        from iunet_gui.gui.jobs import Job

        entry = self._challenger(result)
        if entry is None or isinstance(entry, bool):
            done(bool(entry))
            return
        registry = self.registry
        self.win.statusBar().showMessage("Scoring the new model and the model in use on the golden set…")
        job = Job(lambda progress, cancel: run_gate(registry, entry.id, progress=progress, cancel=cancel), self)
        job.succeeded.connect(lambda outcome: done(self._decide(outcome)))
        job.failed.connect(lambda text: done(self._gate_failed(text)))
        job.stopped.connect(lambda _partial: done(self._gate_failed("the gate was stopped")))
        job.finished.connect(lambda: self.jobs.remove(job) if job in self.jobs else None)
        self.jobs.append(job)
        job.start()

    def _challenger(self, result):
        """The run's registered model; True when it goes in use ungated (no registry, no golden set);
        False when it can't be registered."""
        from iunet_gui.app.golden import GoldenSets

        if self.registry is None:
            return True
        try:
            entry = self.registry.register_training(result, data=self.registry.folder)
            if not GoldenSets(self.registry).images():
                self.registry.set_in_use(entry.id)
                self.refresh()
                return True
        except IunetError as exc:
            return self._gate_failed(str(exc))
        return entry

    def _gate_failed(self, text: str) -> bool:
        self.win.error("Model gate", f"{text}\nThe model in use is unchanged.")
        return False

    def _decide(self, outcome) -> bool:
        """A gate outcome: when refused, the window asks for an override note."""
        from iunet_gui.app.gate import override

        self.outcomes.append(outcome)
        if not outcome.accepted and not self.win.model_dock.models.closing:
            note = self.ask_override(outcome)
            if note:
                override(self.registry, outcome, note)
        self.win.statusBar().clearMessage()
        self.refresh()
        return outcome.in_use

    def ask_override(self, outcome) -> str | None:
        """The refused challenger's reasons; the note of an override, or None to keep the model in use."""
        if self.win.quiet_errors:
            self.win.errors.append("Model gate: " + "; ".join(outcome.verdict.reasons))
        text = ("The new model is worse than the model in use on the golden set:\n\n"
                + "\n".join(f"• {r}" for r in outcome.verdict.reasons)
                + "\n\nThe model in use stays. To use the new model anyway, say why (this goes into the log):")
        while True:
            note, ok = QInputDialog.getText(self.win, "New model refused", text)
            if not ok:
                return None
            if note.strip():
                return note.strip()

    # -- the buttons --------------------------------------------------------------------------------
    def use(self, entry_id: int) -> None:
        entry = self.registry.get(entry_id)
        if self.win.model_dock.models.set_checkpoint(entry.path):
            self.registry.set_in_use(entry_id)
        self.refresh()

    def rename(self, entry_id: int) -> None:
        entry = self.registry.get(entry_id)
        name, ok = QInputDialog.getText(self.win, "Rename model", "Name:", text=entry.name)
        if ok:
            try:
                self.registry.rename(entry_id, name)
            except IunetError as exc:
                self.win.error("Rename model", str(exc))
        self.refresh()

    def delete(self, entry_id: int) -> None:
        entry = self.registry.get(entry_id)
        if entry.in_use:
            self.win.error("Delete model", f"{entry.name} is the model in use: use another model before deleting it.")
            return
        box = QMessageBox(QMessageBox.Question, "Delete model",
                          f"Take {entry.name} out of the registry?\n{entry.path}", parent=self.win)
        files = box.addButton("Delete with its files", QMessageBox.DestructiveRole)
        only = box.addButton("Only from the list", QMessageBox.AcceptRole)
        box.addButton(QMessageBox.Cancel)
        box.exec()
        if box.clickedButton() not in (files, only):
            return
        self.registry.delete(entry_id, delete_files=box.clickedButton() is files)
        self.refresh()

    def export_onnx(self, entry_id: int) -> None:
        from iunet_gui.inference.onnx_export import export_onnx

        entry = self.registry.get(entry_id)
        if entry.path.suffix.lower() == ".onnx":
            self.win.error("Export ONNX", f"{entry.name} is an ONNX model already.")
            return
        try:
            path = export_onnx(entry.path, entry.path.with_suffix(".onnx"))
            self.registry.register_onnx(entry_id, path)
        except (IunetError, OSError) as exc:
            self.win.error("Export ONNX", str(exc))
            return
        self.win.statusBar().showMessage(f"Wrote {path}", 6000)
        self.refresh()

    def open_run_folder(self, entry_id: int) -> None:
        entry = self.registry.get(entry_id)
        folder = entry.run_dir or entry.path.parent
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def add_open_image_to_golden(self) -> None:
        from iunet_gui.app.golden import GoldenSets

        doc = self.win.document
        if self.registry is None or doc is None:
            return
        if not self.win.save():
            return
        try:
            added = GoldenSets(self.registry).add([doc.image_path])
        except IunetError as exc:
            self.win.error("Golden set", str(exc))
            return
        self.win.statusBar().showMessage(f"{doc.image_path.name} is in the golden set" if added else
                                         f"{doc.image_path.name} was in the golden set already", 5000)
        self.refresh()

    def compare(self, ids: list[int]) -> None:
        from iunet_gui.gui.compare_view import CompareView

        if len(ids) < 2:
            self.win.error("Compare models", "Select two or more models (Ctrl+click) to compare them.")
            return
        entries = [self.registry.get(i) for i in ids]
        self.compare_view = CompareView(self.win, [e.path for e in entries], [e.name for e in entries],
                                        self.registry.folder)
        self.compare_view.show()
        self.compare_view.start()
