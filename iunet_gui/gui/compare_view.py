"""The comparison view: two or more models side by side on the project's labelled images
(app.compare). The paper's Table 3 and Table 4 with one column per model, the best figure bold (the
figures `iunet-gui evaluate --compare` prints); per-image rows ordered by how the models differ
("new misses", "fixed false alarms", "IoU dropped most"); for the chosen image and model its true
positive, false positive and false negative pixels in three colours over the photo, and each matched
defect's lengths and error. Double-clicking a row shows the image with every model's prediction over
it, one colour per model; the "Show" box (or the T key) switches between one model's prediction, all
of them and the true / false pixels. The predictions are made in a worker thread (gui.compare_predictions):
the photo is shown alone meanwhile."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from iunet_gui.app.compare import ORDERS, figure_rows, image_rows, matched_lengths, pixel_classes
from iunet_gui.gui.compare_predictions import ComparePredictions
from iunet_gui.gui.jobs import Job

# true positive, false positive, false negative (RGBA)
PIXEL_COLORS = {1: (40, 200, 60, 255), 2: (235, 50, 40, 255), 3: (40, 120, 255, 255)}
# each model's predicted pixels (the histogram's colours, in model order), and those of more than one shown model
MODEL_COLORS = ("#1e88e5", "#e53935", "#43a047", "#fb8c00", "#8e24aa")
OVERLAP_COLOR = (255, 235, 59, 255)
TRUE_FALSE = "true / false pixels"
TRUE_FALSE_LEGEND = ("<span style='color:#28c83c'>■</span> true positive  "
                     "<span style='color:#eb3228'>■</span> false positive  "
                     "<span style='color:#2878ff'>■</span> false negative")


def model_rgba(k: int) -> tuple[int, int, int, int]:
    c = MODEL_COLORS[k % len(MODEL_COLORS)]
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16), 255


def overlay_rgba(classes: np.ndarray) -> np.ndarray:
    """HxWx4 uint8: each class of app.compare.pixel_classes in its colour, true negatives clear."""
    out = np.zeros((*classes.shape, 4), np.uint8)
    for k, color in PIXEL_COLORS.items():
        out[classes == k] = color
    return out


def predictions_rgba(masks: list[np.ndarray], shown: list[int]) -> np.ndarray:
    """HxWx4 uint8: the predicted pixels of each model in `shown` (indices into `masks`) in its colour,
    those predicted by more than one of them in OVERLAP_COLOR, the rest clear."""
    masks = [np.asarray(m, bool) for m in masks]
    out = np.zeros((*masks[0].shape, 4), np.uint8)
    votes = np.zeros(masks[0].shape, np.int32)
    for k in shown:
        out[masks[k]] = model_rgba(k)
        votes += masks[k]
    out[votes > 1] = OVERLAP_COLOR
    return out


def _text(v) -> str:
    return "-" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)


class CompareView(QWidget):
    """A window of its own; `start()` scores the models in a worker thread."""

    def __init__(self, win, models, names, data_dir):
        super().__init__(win, Qt.Window)
        self.setWindowTitle("Compare models")
        self.win, self.models, self.names, self.data_dir = win, [Path(m) for m in models], list(names), Path(data_dir)
        self.comparison = None
        self.job: Job | None = None
        self.overlay: np.ndarray | None = None  # the colours on show (TP / FP / FN, or the models' predictions)
        self.drawn: QImage | None = None  # the part of the image on show with its colours, before scaling
        self.status = QLabel("Scoring the models…")
        self.figures = QTableWidget(0, len(self.names))
        self.figures.setHorizontalHeaderLabels(self.names)
        self.figures.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.order = QComboBox()
        self.order.addItems(list(ORDERS))
        self.order.setCurrentText("IoU dropped most")
        self.order.currentTextChanged.connect(self._fill_images)
        self.images = QTableWidget(0, 0)
        self.images.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.images.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.images.setSelectionMode(QAbstractItemView.SingleSelection)
        self.images.itemSelectionChanged.connect(self._show_pixels)
        self.images.itemDoubleClicked.connect(self.open_pair)
        self.show_box = QComboBox()  # TRUE_FALSE, one model's prediction each, every model's
        self.show_box.addItems([TRUE_FALSE, *(f"prediction of {n}" for n in self.names),
                                "both predictions" if len(self.names) == 2 else "all predictions"])
        self.show_box.setToolTip("What is drawn over the image (T: the next one)")
        self.show_box.currentIndexChanged.connect(self._show_pixels)
        QShortcut(QKeySequence("T"), self, self.next_view)
        self.model_box = QComboBox()
        self.model_box.addItems(self.names)
        self.model_box.setToolTip("The model whose true / false pixels are drawn")
        self.model_box.currentIndexChanged.connect(self._show_pixels)
        self.predictions = ComparePredictions(self.models, self.data_dir, self)  # made in a worker thread
        self.predictions.predicting.connect(lambda name, k: self.lengths.setText(
            f"predicting {name} with {self.names[k]}…"))
        self.predictions.loaded.connect(lambda _name: self._draw_plain())
        self.predictions.ready.connect(lambda _name: self._show_pixels())
        self.predictions.failed.connect(lambda name, text: self.lengths.setText(f"Could not predict {name}: {text}"))
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignCenter)
        self.picture.setMinimumSize(200, 200)
        self.lengths = QLabel("")
        self.lengths.setWordWrap(True)
        self._lay_out()
        self.resize(1100, 700)

    def _lay_out(self) -> None:
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.addWidget(QLabel("Table 3 and Table 4 (best bold)"))
        ll.addWidget(self.figures, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Images, first:"))
        row.addWidget(self.order, 1)
        ll.addLayout(row)
        ll.addWidget(self.images, 2)
        right = QWidget()
        rl = QVBoxLayout(right)
        row = QHBoxLayout()
        row.addWidget(QLabel("Show"))
        row.addWidget(self.show_box, 2)
        row.addWidget(QLabel("of"))
        row.addWidget(self.model_box, 1)
        rl.addLayout(row)
        self.legend = QLabel(TRUE_FALSE_LEGEND)
        rl.addWidget(self.legend)
        rl.addWidget(self.picture, 3)
        rl.addWidget(self.lengths)
        self.plot_box = QVBoxLayout()  # the histogram of length errors (pyqtgraph, made once there are figures)
        rl.addLayout(self.plot_box)
        self.plot = None
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        self.report_button = QPushButton("Save HTML report…")
        self.report_button.setToolTip("The project's inspection report with these models side by side")
        self.report_button.setEnabled(False)
        self.report_button.clicked.connect(self.save_report)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.report_button)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)

    # -- scoring ------------------------------------------------------------------------------------
    def start(self) -> None:
        from iunet_gui.app.compare import compare

        models, names, data = self.models, self.names, self.data_dir
        self.job = Job(lambda progress, cancel: compare(models, data, names=names, progress=progress, cancel=cancel),
                       self)
        self.job.progressed.connect(lambda ev: self.status.setText(f"Scoring… {ev.message}"))
        self.job.succeeded.connect(self.show_comparison)
        self.job.failed.connect(lambda text: self.status.setText(f"Could not compare: {text}"))
        self.job.finished.connect(self._job_done)
        self.job.start()

    def _job_done(self) -> None:
        self.job = None

    def closeEvent(self, ev) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job.wait()
        self.predictions.stop()
        super().closeEvent(ev)

    def show_comparison(self, comparison) -> None:
        self.comparison = comparison
        n = len(comparison.records[0])
        self.status.setText(f"{len(self.names)} models on {n} labelled image(s) of {self.data_dir}")
        rows = figure_rows(comparison.results)
        self.figures.setRowCount(len(rows))
        self.figures.setVerticalHeaderLabels([f"{r.label}" for r in rows])
        bold = QFont(self.figures.font())
        bold.setBold(True)
        for i, r in enumerate(rows):
            for j, v in enumerate(r.values):
                item = QTableWidgetItem(_text(v))
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                item.setToolTip(r.table)
                if j in r.best:
                    item.setFont(bold)
                self.figures.setItem(i, j, item)
        self.figures.resizeColumnsToContents()
        self._fill_images()
        self._plot_errors()
        self.report_button.setEnabled(True)

    def save_report(self) -> None:
        """The project's HTML report (app.reports.html) with a section of these models side by side."""
        from iunet_gui.app.records import InspectionLog
        from iunet_gui.app.reports.html import write_html
        from iunet_gui.core.errors import IunetError

        out, _ = QFileDialog.getSaveFileName(self, "Save the report", str(self.data_dir / "comparison.html"),
                                             "HTML (*.html)")
        if not out:
            return
        try:
            with InspectionLog(self.data_dir) as log:
                write_html(log, out, title="Models compared", folder=str(self.data_dir),
                           comparison=self.comparison.results)
        except (IunetError, OSError) as exc:
            self.status.setText(f"Could not save the report: {exc}")
            return
        self.status.setText(f"Saved {out}")

    def _plot_errors(self) -> None:
        """A histogram of each model's length errors (matched defects), side by side per bin."""
        import pyqtgraph as pg

        from iunet_gui.app.compare import histogram

        comp = self.comparison
        edges, counts = histogram(comp.length_errors)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMinimumHeight(160)
        self.plot.setMaximumHeight(260)
        unit = comp.length_units[0] if comp.length_units else "mm"
        self.plot.setLabel("bottom", f"length error ({unit})")
        self.plot.setLabel("left", "matched defects")
        self.plot.addLegend(offset=(-5, 5))
        width = (edges[1] - edges[0]) / (len(counts) + 1)
        self.bars = []
        for k, (name, c) in enumerate(zip(self.names, counts)):
            bar = pg.BarGraphItem(x=edges[:-1] + (k + 1) * width, height=c, width=width,
                                  brush=MODEL_COLORS[k % len(MODEL_COLORS)], name=name)
            self.plot.addItem(bar)
            self.bars.append(bar)
        self.plot_box.addWidget(self.plot)

    def _fill_images(self) -> None:
        if self.comparison is None:
            return
        rows = image_rows(self.comparison, self.order.currentText())
        names = self.names
        headers = ["image", *(f"IoU {n}" for n in names), *(f"found {n}" for n in names), *(f"false alarms {n}"
                                                                                              for n in names)]
        self.images.clear()
        self.images.setColumnCount(len(headers))
        self.images.setHorizontalHeaderLabels(headers)
        self.images.setRowCount(len(rows))
        for i, r in enumerate(rows):
            cells = [r["image"], *r["iou"], *(f"{f}/{r['labelled']}" for f in r["found"]), *r["false_alarms"]]
            for j, v in enumerate(cells):
                self.images.setItem(i, j, QTableWidgetItem(_text(v)))
        self.images.resizeColumnsToContents()

    # -- one image ----------------------------------------------------------------------------------
    def open_pair(self, item) -> None:
        """Double-click: the row's image with every model's prediction over it (the "Show" box or T
        switches to one model's, or to the true / false pixels); the main window opens it too."""
        self.images.selectRow(item.row())
        both = self.show_box.count() - 1
        if self.show_box.currentIndex() == both:
            self._show_pixels()
        else:
            self.show_box.setCurrentIndex(both)  # draws it
        self.open_in_window(item)

    def next_view(self) -> None:
        """T: the next entry of the "Show" box (after the last, the first)."""
        self.show_box.setCurrentIndex((self.show_box.currentIndex() + 1) % self.show_box.count())

    def open_in_window(self, item) -> None:
        """Open the row's image in the main window (its labels to edit); the models' pixels stay here."""
        path = self.data_dir / self.images.item(item.row(), 0).text()
        project = self.win.project
        if project is not None and Path(project.folder).resolve() == self.data_dir.resolve() and path in project.images:
            self.win.go_to(project.images.index(path))

    def image_names(self) -> list[str]:
        return [self.images.item(r, 0).text() for r in range(self.images.rowCount())]

    def _draw_plain(self) -> None:
        """The photo of the image being predicted, without colours (none while it is being read)."""
        image = self.predictions.pixels
        self._draw(None if image is None else self.compose(image, np.zeros((*image.shape[:2], 4), np.uint8)))

    def _draw(self, drawn: QImage | None, overlay: np.ndarray | None = None) -> None:
        self.drawn, self.overlay = drawn, overlay
        if drawn is None:
            self.picture.clear()
        else:
            self.picture.setPixmap(QPixmap.fromImage(self.drawn).scaled(self.picture.size(), Qt.KeepAspectRatio,
                                                                        Qt.FastTransformation))

    def _show_pixels(self) -> None:
        """The chosen image with the colours the "Show" box asks for, at once when its predictions are
        kept; otherwise its photo alone while a job makes them (this is drawn again when they are)."""
        from iunet_gui.core.errors import IunetError
        from iunet_gui.core.project import Project

        rows = self.images.selectionModel().selectedRows() if self.images.selectionModel() else []
        self.predictions.abandon()  # what was asked before is not to be shown any more
        if self.comparison is None or not rows:
            return
        name = self.images.item(rows[0].row(), 0).text()
        path, view = self.data_dir / name, self.show_box.currentIndex()
        self.model_box.setEnabled(view == 0)
        try:
            project = Project.open(self.data_dir)
            mm, gt = project.mm_per_px_for(path), project.ground_truth_mask(path)
        except (IunetError, OSError) as exc:
            self._draw(None)
            self.lengths.setText(f"Could not read {name}: {exc}")
            return
        if view == 0 and gt is None:
            self.lengths.setText(f"{name} has no labels now: only the predictions can be shown")
            return
        k = self.model_box.currentIndex()
        ks = [k] if view == 0 else list(range(len(self.names)))  # all: one crop for every view
        preds = self.predictions.request(name, ks, mm)
        if preds is None:
            return self._draw_plain()
        image = self.predictions.pixels
        if view == 0:
            classes = pixel_classes(preds[k].mask, gt)
            overlay = overlay_rgba(classes)
            y0, y1, x0, x1 = self.region(classes)
            lines = self._length_lines(k, preds[k].mask, gt, mm)
            self.legend.setText(TRUE_FALSE_LEGEND)
        else:
            shown = list(range(len(self.names))) if view == self.show_box.count() - 1 else [view - 1]
            masks = [np.asarray(preds[k].mask, bool) for k in range(len(self.names))]
            overlay = predictions_rgba(masks, shown)
            labelled = [] if gt is None else [np.asarray(gt, bool)]
            y0, y1, x0, x1 = self.region(np.logical_or.reduce([*masks, *labelled]))
            lines = [f"{self.names[k]}: {ln}" for k in shown for ln in
                     (self._length_lines(k, masks[k], gt, mm) if labelled else [])]
            self.legend.setText("  ".join(
                [f"<span style='color:{MODEL_COLORS[k % len(MODEL_COLORS)]}'>■</span> {self.names[k]}" for k in shown]
                + (["<span style='color:#ffeb3b'>■</span> more than one"] if len(shown) > 1 else [])))
        self._draw(self.compose(image[y0:y1, x0:x1], overlay[y0:y1, x0:x1]), overlay)
        self.lengths.setText("\n".join(lines) or "no matched defect")

    def _length_lines(self, k: int, mask, gt, mm) -> list[str]:
        """Each matched defect of model `k`'s prediction: both lengths and the error."""
        predictor = self.predictions.predictors[k]
        pairs = matched_lengths(mask, gt, mm, predictor.merge_gap_px, predictor.chain_gap_px)
        return [f"defect {i + 1}: predicted {p['predicted']:.2f} {p['unit']}, labelled {p['labelled']:.2f} "
                f"{p['unit']}, error {p['error']:.2f} {p['unit']}" for i, p in enumerate(pairs)]

    @staticmethod
    def region(classes: np.ndarray, margin: int = 48) -> tuple[int, int, int, int]:
        """(y0, y1, x0, x1): the part of the image around its coloured pixels (the whole image without any)."""
        ys, xs = np.nonzero(classes)
        h, w = classes.shape
        if not len(ys):
            return 0, h, 0, w
        return (max(0, ys.min() - margin), min(h, ys.max() + margin + 1), max(0, xs.min() - margin),
                min(w, xs.max() + margin + 1))

    @staticmethod
    def compose(image: np.ndarray, overlay: np.ndarray) -> QImage:
        """The photo with the coloured pixels drawn over it (opaque)."""
        rgb = np.ascontiguousarray(image[..., :3])
        drawn = overlay[..., 3] > 0
        rgb = rgb.copy()
        rgb[drawn] = overlay[drawn][:, :3]
        h, w = rgb.shape[:2]
        return QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()

    def prediction_counts(self) -> dict[str, int]:
        """Pixels on show in each model's colour and in OVERLAP_COLOR ("overlap")."""
        if self.overlay is None:
            return {}
        colors = {**{n: model_rgba(k) for k, n in enumerate(self.names)}, "overlap": OVERLAP_COLOR}
        return {n: int(np.all(self.overlay == np.array(c, np.uint8), axis=-1).sum()) for n, c in colors.items()}

    def color_counts(self) -> dict[str, int]:
        """Pixels of each colour on show (tests compare them with core.metrics)."""
        if self.overlay is None:
            return {}
        names = {1: "tp", 2: "fp", 3: "fn"}
        return {names[k]: int(np.all(self.overlay == np.array(c, np.uint8), axis=-1).sum())
                for k, c in PIXEL_COLORS.items()}
