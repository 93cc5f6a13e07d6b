"""The training curves: training loss per step and validation MIoU per epoch (pyqtgraph, imported on
the first run only, so the window opens faster)."""
from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

MAX_POINTS = 600  # the loss curve is thinned to about this many points


class LossPlot(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.plot = None
        self.loss_curve = self.val_curve = None
        self.clear()

    def clear(self) -> None:
        self.loss_x: list[float] = []
        self.loss_y: list[float] = []
        self.val_x: list[float] = []
        self.val_y: list[float] = []
        self.redraw()

    def show_plot(self) -> None:
        if self.plot is not None:
            return
        import pyqtgraph as pg

        self.plot = pg.PlotWidget(background="w")
        self.plot.setMinimumHeight(60)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "epoch")
        self.plot.addLegend(offset=(-5, 5))
        self.loss_curve = self.plot.plot([], [], pen=pg.mkPen("#1e88e5", width=1.5), name="training loss")
        self.val_curve = self.plot.plot([], [], pen=pg.mkPen("#e53935", width=2), symbol="o", symbolSize=6,
                                        symbolBrush="#e53935", name="validation MIoU")
        self._layout.addWidget(self.plot)

    def add_loss(self, epoch: float, loss: float) -> None:
        self.loss_x.append(epoch)
        self.loss_y.append(loss)

    def add_validation(self, epoch: float, miou: float) -> None:
        self.val_x.append(epoch)
        self.val_y.append(miou)

    def redraw(self) -> None:
        if self.plot is None:
            return
        x, y = self.loss_x, self.loss_y
        if len(x) > MAX_POINTS:
            step = len(x) // MAX_POINTS + 1
            x, y = x[::step], y[::step]
        self.loss_curve.setData(x, y)
        self.val_curve.setData(self.val_x, self.val_y)
