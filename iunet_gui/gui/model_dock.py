"""The Model panel: predict the open image with a trained network (shown over the image with each
defect's length, and compared with the operator's labels), accept a prediction as editable shapes,
predict and score the folder, and train on the labelled images with one click.

The dock only assembles: gui/model/ holds the controllers (the model, its predictions and jobs; the
training run) and the panels that show them. Torch is imported by the worker threads only, so the
window still opens fast."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from iunet_gui.gui.model.controller import ModelController
from iunet_gui.gui.model.predict_panel import PredictPanel
from iunet_gui.gui.model.train_controller import TrainingController
from iunet_gui.gui.model.train_panel import TrainPanel

FEEDBACK_LINES = 7  # the results / training tabs show at least this many lines of text


class ModelDock(QDockWidget):
    """What the window calls: predict, accept, the folder runs, training, and closing down."""

    def __init__(self, window):
        super().__init__("Model", window)
        self.setObjectName("model")
        self.win = window
        self.models = ModelController(window)
        self.trainer = TrainingController(window, self.models)
        self.predict_panel = PredictPanel(self.models, window)
        self.train_panel = TrainPanel(self.trainer, window)
        self.show_box = self.predict_panel.show_box
        self.auto_box = self.predict_panel.auto_box
        inner = QWidget()
        lay = QVBoxLayout(inner)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.predict_panel)
        lay.addWidget(self._feedback(), 1)
        lay.addWidget(self.train_panel)
        self.scroll = QScrollArea()  # a short window scrolls the panel instead of squashing it
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QScrollArea.NoFrame)
        self.scroll.setWidget(inner)
        self.setWidget(self.scroll)

    def _feedback(self) -> QTabWidget:
        """The results and the training run's progress, one above the other in tabs between the two sets
        of controls: however long a message grows, no button moves."""
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.predict_panel.results, "Results")
        self.tabs.addTab(self.train_panel.activity, "Training")
        self.tabs.setMinimumHeight(FEEDBACK_LINES * self.fontMetrics().lineSpacing() + 30)
        pp = self.predict_panel
        for button in (pp.predict_button, pp.accept_button, pp.all_button, pp.save_all_button):
            button.clicked.connect(self.show_results)
        self.trainer.started.connect(self.show_training)
        self.trainer.finished.connect(self.show_training)
        return self.tabs

    def show_results(self) -> None:
        """The Results tab, when the user asks for a prediction (a run's automatic ones leave the tabs)."""
        self.tabs.setCurrentWidget(self.predict_panel.results)

    def show_training(self) -> None:
        self.tabs.setCurrentWidget(self.train_panel.activity)

    # -- predicting --------------------------------------------------------------------------------
    def predict_current(self) -> bool:
        self.show_results()
        return self.models.predict_current()

    def accept(self) -> int:
        self.show_results()
        return self.models.accept()

    def predict_all(self) -> bool:
        self.show_results()
        return self.predict_panel.predict_all()

    def save_all(self) -> bool:
        self.show_results()
        return self.predict_panel.save_all()

    def export_report(self) -> bool:
        return self.predict_panel.export_report()

    def choose_checkpoint(self) -> None:
        self.predict_panel.choose_checkpoint()

    def set_checkpoint(self, path) -> bool:
        return self.models.set_checkpoint(path)

    @property
    def checkpoint(self):
        return self.models.checkpoint

    @property
    def cache(self):
        return self.models.cache

    def image_opened(self) -> None:
        """The window opened another image or folder."""
        self.train_panel.kinds.show_project()
        self.models.image_opened(self.auto_box.isChecked())

    # -- training ----------------------------------------------------------------------------------
    def start_training(self) -> bool:
        return self.train_panel.start()

    def stop_training(self) -> None:
        self.train_panel.stop()

    @property
    def training(self) -> bool:
        return self.trainer.running

    @property
    def last_run(self):
        return self.trainer.last_run

    # -- closing -----------------------------------------------------------------------------------
    def busy(self) -> bool:
        return self.trainer.running or bool(self.models.jobs())

    def shut_down(self, timeout_ms: int = 60000) -> None:
        """Stop what runs (training keeps its last good checkpoint) and wait for the threads."""
        self.models.closing = True
        jobs = (*self.models.jobs(), *((self.trainer.job,) if self.trainer.job is not None else ()))
        for job in jobs:
            job.cancel()
        for job in jobs:
            job.wait(timeout_ms)
