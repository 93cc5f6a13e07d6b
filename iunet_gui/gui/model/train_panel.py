"""The training half of the Model panel: recipe, time, fine-tune or not, one output per defect kind or
defect vs background, Train / Stop, what the run is doing now, and the live curves. The settings are
locked while a run goes."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from iunet_gui.core.project import RUNS_FOLDER
from iunet_gui.gui.model.kinds_box import KindsChoice
from iunet_gui.gui.model.loss_plot import LossPlot
from iunet_gui.gui.model.train_controller import Outcome, TrainingController, recipe_choices
from iunet_gui.gui.model.wheel_guard import wheel_when_focused
from iunet_gui.training.result import FINISHED, NAN, OOM

UI_EVERY_S = 0.25  # the status line is redrawn at most this often during an epoch
QUIET_STAGES = ("train", "epoch", "validate", "notice", "load", *FINISHED, NAN, OOM)  # the last: how it ended
FINETUNE_TIP = ("Fine-tune the current model on your labels (few labelled images: better than starting from "
                "scratch); unticked, a fresh IU-Net is trained")


def _left(eta_s: float) -> str:
    return f" · {eta_s / 60:.0f} min left" if eta_s >= 60 else f" · {eta_s:.0f} s left"


class TrainPanel(QGroupBox):
    def __init__(self, trainer: TrainingController, window):
        super().__init__("Train on the labelled images")
        self.trainer, self.win = trainer, window
        self.choices = recipe_choices()
        self._minutes = {c.key: c.minutes for c in self.choices}  # what the user set per recipe
        self._finetune_wanted = True
        self._recipe_index = 0
        self._last_ui = 0.0
        self._t0 = 0.0
        self._build()
        self._connect()
        trainer.started.connect(self._started)
        trainer.progressed.connect(self.show_event)
        trainer.finished.connect(self._finished)

    def _build(self) -> None:
        self.recipe = QComboBox()
        self.recipe.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)  # long labels: the
        self.recipe.setMinimumContentsLength(10)  # panel keeps its width, the box elides
        for i, c in enumerate(self.choices):
            self.recipe.addItem(c.label, c.key)
            self.recipe.setItemData(i, c.tip, Qt.ToolTipRole)
        self.recipe.setToolTip("Training settings measured together; hover over a choice to see what it is for")
        self.minutes = QSpinBox()
        self.minutes.setRange(1, 24 * 60)
        self.minutes.setValue(self.choices[0].minutes)
        self.minutes.setSuffix(" min")
        self.minutes.setToolTip("Training stops cleanly after this time; the learning rate decays to it")
        self.finetune_box = QCheckBox("from this model")
        self.finetune_box.setChecked(True)
        self.finetune_box.setToolTip(FINETUNE_TIP)
        wheel_when_focused(self, self.recipe, self.minutes)
        self.kinds = KindsChoice(self.win)
        self.kinds_box = self.kinds.box
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train on every labelled image of this folder (Ctrl+T); the run is saved "
                                     f"in {RUNS_FOLDER}/ and used as the model when it ends")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        for widgets in ((self.recipe, self.minutes), (self.finetune_box, self.train_button, self.stop_button)):
            row = QHBoxLayout()
            for w in widgets:
                row.addWidget(w, 1 if w in (self.recipe, self.finetune_box) else 0)
            lay.addLayout(row)
        lay.addWidget(self.kinds)
        lay.addWidget(self.progress)
        self.activity = self._activity()  # the dock places it

    def _activity(self) -> QWidget:
        """What the run does now, and its curves."""
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(2, 2, 2, 2)
        self.train_status = QLabel("No training yet: Train (Ctrl+T) trains on the labelled images of this folder.")
        self.train_status.setWordWrap(True)
        self.train_status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.plot = LossPlot()
        lay.addWidget(self.train_status)
        lay.addWidget(self.plot, 1)
        return w

    def _connect(self) -> None:
        self.recipe.currentIndexChanged.connect(self._recipe_changed)
        self.train_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        classes = getattr(self.win, "class_dock", None)
        if classes is not None:
            classes.classes_edited.connect(self.kinds.show_project)

    # -- settings ----------------------------------------------------------------------------------
    def _recipe_changed(self, index: int) -> None:
        """Each recipe keeps its own time (the one offered, or what the user set for it); one that trains
        a network of its own cannot fine-tune this one."""
        self._minutes[self.choices[self._recipe_index].key] = self.minutes.value()
        self._recipe_index = index
        choice = self.choices[index]
        self.minutes.setValue(self._minutes[choice.key])
        if choice.fresh and self.finetune_box.isEnabled():
            self._finetune_wanted = self.finetune_box.isChecked()
        self.finetune_box.setEnabled(not choice.fresh)
        self.finetune_box.setChecked(False if choice.fresh else self._finetune_wanted)
        self.finetune_box.setToolTip(FINETUNE_TIP if not choice.fresh else
                                     "This recipe trains a fresh network of its own size, not the current model")

    def _lock(self, running: bool) -> None:
        self.recipe.setEnabled(not running)
        self.minutes.setEnabled(not running)
        self.finetune_box.setEnabled(not running and not self.choices[self.recipe.currentIndex()].fresh)
        self.train_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.kinds.lock(running)

    # -- a run -------------------------------------------------------------------------------------
    def start(self) -> bool:
        return self.trainer.start(self.recipe.currentData(), self.minutes.value(),
                                  self.finetune_box.isChecked() and self.finetune_box.isEnabled(),
                                  multiclass=self.kinds.wanted())

    def stop(self) -> None:
        if self.trainer.running:
            self.trainer.stop()
            self.stop_button.setEnabled(False)
            self.train_status.setText("Stopping at the next step; the last good checkpoint is kept…")

    def _started(self, text: str) -> None:
        self._lock(True)
        self.plot.show_plot()
        self.plot.clear()
        self._t0 = time.monotonic()
        self.progress.setValue(0)
        self.train_status.setText(text)

    def show_event(self, ev) -> None:
        """One trainer event: the curves, and a line saying what the run does now."""
        if ev.stage == "train":
            if ev.steps:
                self.plot.add_loss(ev.epoch - 1 + ev.step / ev.steps, ev.loss)
            now = time.monotonic()
            if now - self._last_ui < UI_EVERY_S or not self.trainer.running:
                return
            self._last_ui = now
            self._train_line(ev)
            self.plot.redraw()
        elif ev.stage == "epoch":
            if "val_miou" in ev.metrics:
                self.plot.add_validation(float(ev.epoch), float(ev.metrics["val_miou"]))
            self.plot.redraw()
        elif ev.stage == "validate":  # after an epoch, or the final validation
            about = f" (about {ev.eta_s:.0f} s)" if ev.eta_s else ""
            self.train_status.setText(f"Epoch {ev.epoch}: {ev.message or 'validating'}{about}…")
        elif ev.stage in ("notice", "load") and ev.message:
            self.win.statusBar().showMessage(ev.message, 8000)
        elif ev.stage not in QUIET_STAGES and ev.message:  # a named stage (final validation, saving, …)
            self.train_status.setText(f"{ev.message[:1].upper()}{ev.message[1:]}…")

    def _train_line(self, ev) -> None:
        if ev.eta_s is not None and ev.steps:  # share of the run done: by the time limit or the epochs
            elapsed = time.monotonic() - self._t0
            self.progress.setValue(int(1000 * min(max(elapsed / max(elapsed + ev.eta_s, 1e-9), 0.0), 1.0)))
        left = _left(ev.eta_s) if ev.eta_s is not None and ev.eta_s >= 1 else ""
        plot = self.plot
        val = f" · validation MIoU {plot.val_y[-1]:.3f}" if plot.val_y else ""
        self.train_status.setText(f"Epoch {ev.epoch} · loss {ev.loss:.3f} · {ev.images_per_s or 0:.1f} images/s"
                                  f"{val}{left}")

    def _finished(self, outcome: Outcome) -> None:
        self._lock(False)
        self.plot.redraw()
        self.train_status.setText(outcome.text)
        if outcome.kind in ("trained", "stopped", "refused"):
            self.progress.setValue(1000)
        if outcome.kind == "failed":
            run = self.trainer.last_run
            self.win.error("Training failed", f"{outcome.text}\n\nThe run folder {run} keeps what was saved; "
                                              f"the model in use is unchanged.")
