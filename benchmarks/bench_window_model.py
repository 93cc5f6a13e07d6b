"""The Model panel's speed as an operator feels it: Predict on a 1280x1024 photo with the shipped
checkpoint (first click, which loads the model, and the next ones), a threshold change (no network
run), going back to a predicted image (from memory), Accept, painting with the prediction shown, and
how long the window stops answering while a prediction or a training runs (the longest gap between
ticks of a 10 ms timer).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_window_model.py [--data FOLDER] [--train-seconds S]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]


class Ticker:
    """The longest gap between ticks of a 10 ms timer: how long the window did not answer."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.tick)
        self.last, self.gaps = None, []

    def tick(self):
        now = time.perf_counter()
        if self.last is not None:
            self.gaps.append((now - self.last) * 1e3)
        self.last = now

    def start(self):
        self.last, self.gaps = None, []
        self.timer.start()

    def stop(self) -> tuple[float, float]:
        self.timer.stop()
        g = sorted(self.gaps) or [0.0]
        return g[-1], g[int(0.99 * (len(g) - 1))]


def wait(app, cond, timeout=600.0):
    t = time.perf_counter()
    while not cond():
        app.processEvents()
        time.sleep(0.002)
        if time.perf_counter() - t > timeout:
            raise TimeoutError


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "sample_images"), help="folder of photos (default sample_images/)")
    ap.add_argument("--images", type=int, default=6, help="images to predict one after the other")
    ap.add_argument("--train-seconds", type=float, default=60, help="train from the window this long (0 = skip)")
    args = ap.parse_args()

    from PySide6.QtCore import QSettings

    from benchmarks.bench_canvas import paint_ms
    from iunet_gui.gui.app import make_app
    from iunet_gui.gui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "project"
        shutil.copytree(args.data, folder)
        os.environ["IUNET_GUI_CACHE"] = str(Path(d) / "cache")  # the first click exports ONNX afresh, as for a new user
        app = make_app()
        win = MainWindow(settings=QSettings(str(Path(d) / "s.ini"), QSettings.IniFormat))
        win.quiet_errors = True
        win.resize(1440, 900)
        win.show()
        win.open_folder(folder)
        app.processEvents()
        md, m, ticker = win.model_dock, win.model_dock.models, Ticker()

        def predict_here() -> float:
            t = time.perf_counter()
            md.predict_current()
            wait(app, lambda: m.predict_job is None and m.shown is not None)
            return (time.perf_counter() - t) * 1e3

        ticker.start()
        first = predict_here()
        first_gap = ticker.stop()
        backend = m.predictor.backend
        nexts, gaps = [], []
        n = min(args.images, len(win.project.images))
        for row in range(1, n):
            win.go_to(row)
            app.processEvents()
            ticker.start()
            nexts.append(predict_here())
            gaps.append(ticker.stop())
        win.canvas.fit()
        app.processEvents()
        plain = paint_ms(win)
        t = time.perf_counter()
        md.predict_panel.threshold.setValue(0.3)
        app.processEvents()
        rethreshold = (time.perf_counter() - t) * 1e3
        md.predict_panel.threshold.setValue(0.0)
        t = time.perf_counter()
        win.go_to(0)
        app.processEvents()
        back = (time.perf_counter() - t) * 1e3
        cached = m.shown is not None
        t = time.perf_counter()
        added = md.accept()
        app.processEvents()
        accept = (time.perf_counter() - t) * 1e3
        win.canvas.undo_stack.undo()
        win.document._dirty = False

        train_line = "training from the window: skipped"
        if args.train_seconds > 0:
            from dataclasses import replace

            md.trainer.adjust_config = lambda cfg: replace(cfg, time_limit_min=args.train_seconds / 60)
            ticker.start()
            t = time.perf_counter()
            md.start_training()
            events = []
            md.trainer.job.progressed.connect(lambda ev: events.append(ev) if ev.stage == "train" else None)
            wait(app, lambda: not md.training, timeout=args.train_seconds * 10 + 120)
            wall = time.perf_counter() - t
            worst, p99 = ticker.stop()
            ips = events[-1].images_per_s if events else 0.0
            train_line = (f"training from the window ({args.train_seconds:g} s limit, fine-tuning the shipped model): "
                          f"{wall:.0f} s wall, {len(events)} steps, {ips:.2f} crops/s; window unresponsive at most "
                          f"{worst:.0f} ms (99th percentile gap {p99:.0f} ms)")
        win.close()

    print(f"{n} photos of {args.data}, shipped checkpoint, backend {backend}, flip mean on; 2 cores")
    print(f"first Predict (loads the model{', exports ONNX' if backend.startswith('onnx') else ''}): {first:7.0f} ms; "
          f"window unresponsive at most {first_gap[0]:.0f} ms")
    print(f"next Predicts, median of {len(nexts)}     : {statistics.median(nexts):7.0f} ms (click to overlay shown); "
          f"window unresponsive at most {max(g[0] for g in gaps):.0f} ms")
    print(f"threshold change (no network run) : {rethreshold:7.1f} ms")
    print(f"back to a predicted image (memory): {back:7.1f} ms, prediction shown: {cached}")
    print(f"accept {added} predicted shape(s)     : {accept:7.1f} ms")
    print(f"paint a frame with the prediction : {plain:7.1f} ms (fitted)")
    print(train_line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
